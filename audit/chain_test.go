package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"linli/app"
	"linli/audit"
	"linli/linlitest"
	"linli/viewer"
)

const verifyQuery = `query($c: ID) { verifyAuditLog(communityID: $c) {
	ok checked unchained broken { communityID entryID seq reason } heads { communityID head } } }`

type verification struct {
	VerifyAuditLog struct {
		OK        bool
		Checked   int
		Unchained int
		Broken    []struct {
			CommunityID, EntryID linlitest.RowID
			Seq                  int
			Reason               string
		}
		Heads []struct {
			CommunityID linlitest.RowID
			Head        string
		}
	}
}

func verify(t *testing.T, e *linlitest.Env, token string, cid *int) verification {
	t.Helper()
	vars := map[string]any{}
	if cid != nil {
		vars["c"] = e.ID(*cid)
	}
	var v verification
	e.Do(t, token, verifyQuery, vars).Decode(t, &v)
	return v
}

// TestAuditChain: entries appended concurrently (each in its own
// transaction, as actions do) form one unforked chain per community;
// verifyAuditLog (admins only) and `server verify-audit` find it intact;
// an entry edited directly in the database, or one deleted, is named as the
// first broken link.
func TestAuditChain(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "跃进社区")
		staff, staffToken := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, admin := e.Person(t, other.ID, "管理员", viewer.Admin)

		const writers, each = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				ctx := viewer.NewContext(context.Background(), &viewer.Viewer{PersonID: staff.ID, CommunityID: c.ID, Roles: []viewer.Role{viewer.Coordinator}})
				for i := range each {
					cid := c.ID
					if i%2 == 1 {
						cid = other.ID
					}
					errs <- audit.Record(ctx, e.Client, audit.Entry{CommunityID: cid, Action: "test.append", Detail: fmt.Sprintf("writer %d entry %d", w, i)})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// And one through the API: setRoles is audited (person.roles_set).
		resident, _ := e.Person(t, c.ID, "居民")
		e.Do(t, staffToken, `mutation($p: ID!) { setRoles(personID: $p, roles: [RESIDENT, VOLUNTEER]) { id } }`,
			map[string]any{"p": e.ID(resident.ID)}).Decode(t, &struct{}{})

		v := verify(t, e, admin, nil)
		if !v.VerifyAuditLog.OK || v.VerifyAuditLog.Checked != writers*each+1 || len(v.VerifyAuditLog.Heads) != 2 {
			t.Fatalf("intact chain: %+v", v.VerifyAuditLog)
		}
		entries, err := e.Client.AuditEntry.Query().All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		perCommunity := map[int]map[int64]bool{}
		for _, x := range entries {
			if perCommunity[x.CommunityID] == nil {
				perCommunity[x.CommunityID] = map[int64]bool{}
			}
			if perCommunity[x.CommunityID][x.Seq] {
				t.Fatalf("community %d: seq %d twice (the chain forked)", x.CommunityID, x.Seq)
			}
			perCommunity[x.CommunityID][x.Seq] = true
		}
		// Staff may not verify (it reads every community's log).
		e.Do(t, staffToken, verifyQuery, nil).WantCode(t, "FORBIDDEN")

		var out bytes.Buffer
		if err := app.VerifyAudit(context.Background(), []string{"-database-url", e.App.Config.DatabaseURL}, &out); err != nil {
			t.Fatalf("verify-audit on an intact log: %v\n%s", err, out.String())
		}

		// Edit one entry of c's chain directly, as someone with database
		// access would.
		edited, err := e.Client.AuditEntry.Query().All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		var victim int
		var victimSeq int64
		for _, x := range edited {
			if x.CommunityID == c.ID && x.Seq == 7 {
				victim, victimSeq = x.ID, x.Seq
			}
		}
		if _, err := e.DB.SQL.ExecContext(context.Background(),
			fmt.Sprintf("UPDATE audit_entries SET detail = 'nothing happened' WHERE id = %d", victim)); err != nil {
			t.Fatal(err)
		}
		v = verify(t, e, admin, &c.ID)
		if v.VerifyAuditLog.OK || len(v.VerifyAuditLog.Broken) != 1 {
			t.Fatalf("after an edit: %+v", v.VerifyAuditLog)
		}
		b := v.VerifyAuditLog.Broken[0]
		if b.EntryID.Int() != victim || int64(b.Seq) != victimSeq || b.CommunityID.Int() != c.ID || !strings.Contains(b.Reason, "hash") {
			t.Fatalf("broken link %+v, want entry %d seq %d", b, victim, victimSeq)
		}
		// The other community's chain is untouched.
		if v := verify(t, e, admin, &other.ID); !v.VerifyAuditLog.OK {
			t.Fatalf("other community: %+v", v.VerifyAuditLog)
		}
		out.Reset()
		if err := app.VerifyAudit(context.Background(), []string{"-database-url", e.App.Config.DatabaseURL}, &out); !errors.Is(err, app.ErrAuditBroken) ||
			!strings.Contains(out.String(), fmt.Sprintf("at entry %d (seq %d)", victim, victimSeq)) {
			t.Fatalf("verify-audit after an edit: %v\n%s", err, out.String())
		}

		// Deleting an entry of the other chain breaks it at the next one.
		var gone, next int
		for _, x := range edited {
			if x.CommunityID == other.ID && x.Seq == 3 {
				gone = x.ID
			}
			if x.CommunityID == other.ID && x.Seq == 4 {
				next = x.ID
			}
		}
		if _, err := e.DB.SQL.ExecContext(context.Background(), fmt.Sprintf("DELETE FROM audit_entries WHERE id = %d", gone)); err != nil {
			t.Fatal(err)
		}
		v = verify(t, e, admin, &other.ID)
		if v.VerifyAuditLog.OK || v.VerifyAuditLog.Broken[0].EntryID.Int() != next || !strings.Contains(v.VerifyAuditLog.Broken[0].Reason, "missing") {
			t.Fatalf("after a deletion: %+v", v.VerifyAuditLog)
		}
	})
}
