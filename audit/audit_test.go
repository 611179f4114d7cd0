package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"linli/audit"
	"linli/authz"
	"linli/linlitest"
	"linli/reqlog"
	"linli/viewer"
)

type page struct {
	AuditLog struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				ID, Action, Subject, SubjectID, ClientAddress, Detail string
				At                                                    time.Time
				Actor                                                 *struct{ DisplayName string }
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

const logQuery = `query($c: ID, $w: AuditLogFilter, $first: Int = 50, $after: Cursor) {
	auditLog(communityID: $c, where: $w, first: $first, after: $after) {
		totalCount edges { node { id action subject subjectID clientAddress detail at actor { displayName } } }
		pageInfo { hasNextPage endCursor } } }`

// record writes an entry as person p (0: the system) from addr.
func record(t *testing.T, e *linlitest.Env, cid, p int, action string, subject *int, addr string) {
	t.Helper()
	ctx := reqlog.WithClientAddr(context.Background(), addr)
	ctx = viewer.NewContext(ctx, &viewer.Viewer{PersonID: p, CommunityID: cid, Roles: []viewer.Role{viewer.Coordinator}})
	if err := audit.Record(ctx, e.Client, audit.Entry{CommunityID: cid, Action: action, Subject: "Registration", SubjectID: subject, Detail: "测试"}); err != nil {
		t.Fatal(err)
	}
}

// TestAuditLog: staff page through their community's log newest first,
// filtered by action, actor, subject and time; other communities' entries,
// residents and other communities' staff see nothing of it.
func TestAuditLog(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "跃进社区")
		staff, staffToken := e.Person(t, c.ID, "社工", viewer.Coordinator)
		second, _ := e.Person(t, c.ID, "社工二", viewer.Coordinator)
		_, otherStaff := e.Person(t, other.ID, "外社工", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "居民")
		_, admin := e.Person(t, other.ID, "管理员", viewer.Admin)
		subject := 42
		record(t, e, c.ID, staff.ID, "checkin.undo", &subject, "10.0.0.1")
		time.Sleep(5 * time.Millisecond)
		record(t, e, c.ID, second.ID, "export.requests", nil, "10.0.0.2")
		time.Sleep(5 * time.Millisecond)
		mid := time.Now()
		record(t, e, c.ID, staff.ID, "export.requests", nil, "10.0.0.3")
		record(t, e, other.ID, 0, "export.requests", nil, "10.0.0.4")

		var p page
		e.Do(t, staffToken, logQuery, nil).Decode(t, &p)
		if p.AuditLog.TotalCount != 3 || p.AuditLog.Edges[0].Node.ClientAddress != "10.0.0.3" || p.AuditLog.Edges[2].Node.Action != "checkin.undo" ||
			p.AuditLog.Edges[2].Node.SubjectID != e.ID(subject) || p.AuditLog.Edges[1].Node.Actor.DisplayName != "社工二" {
			t.Fatalf("log %+v", p.AuditLog)
		}
		for _, f := range []struct {
			where map[string]any
			want  int
		}{
			{map[string]any{"actions": []string{"export.requests"}}, 2},
			{map[string]any{"actorID": e.ID(second.ID)}, 1},
			{map[string]any{"subjectID": e.ID(subject)}, 1},
			{map[string]any{"from": mid.Format(time.RFC3339Nano)}, 1},
			{map[string]any{"to": mid.Format(time.RFC3339Nano)}, 2},
		} {
			e.Do(t, staffToken, logQuery, map[string]any{"w": f.where}).Decode(t, &p)
			if p.AuditLog.TotalCount != f.want {
				t.Fatalf("filter %v: %d entries, want %d", f.where, p.AuditLog.TotalCount, f.want)
			}
		}
		e.Do(t, staffToken, logQuery, map[string]any{"first": 2}).Decode(t, &p)
		if !p.AuditLog.PageInfo.HasNextPage || len(p.AuditLog.Edges) != 2 {
			t.Fatalf("first page %+v", p.AuditLog)
		}
		e.Do(t, staffToken, logQuery, map[string]any{"first": 2, "after": p.AuditLog.PageInfo.EndCursor}).Decode(t, &p)
		if len(p.AuditLog.Edges) != 1 || p.AuditLog.Edges[0].Node.Action != "checkin.undo" {
			t.Fatalf("second page %+v", p.AuditLog)
		}
		e.Do(t, resident, logQuery, nil).WantCode(t, "FORBIDDEN")
		e.Do(t, "", logQuery, nil).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, otherStaff, logQuery, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, admin, logQuery, map[string]any{"c": e.ID(c.ID)}).Decode(t, &p)
		if p.AuditLog.TotalCount != 3 {
			t.Fatalf("admin: %d", p.AuditLog.TotalCount)
		}
		e.Do(t, admin, logQuery, nil).Decode(t, &p)
		if p.AuditLog.TotalCount != 4 {
			t.Fatalf("admin, every community: %d", p.AuditLog.TotalCount)
		}
		// A resident cannot reach an entry through node(id:) either: the
		// read rule refuses whatever the ID.
		id := p.AuditLog.Edges[0].Node.ID
		e.Do(t, resident, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).WantCode(t, "FORBIDDEN")
		e.Do(t, staffToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).WantCode(t, "NOT_FOUND")
	})
}

// TestAuditLogIsAppendOnly: no update or deletion of an entry goes through,
// not even the system's; and the API has no mutation of entries.
func TestAuditLogIsAppendOnly(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		staff, staffToken := e.Person(t, c.ID, "社工", viewer.Coordinator)
		record(t, e, c.ID, staff.ID, "checkin.undo", nil, "10.0.0.1")
		entry, err := e.Client.AuditEntry.Query().Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		staffCtx := viewer.NewContext(context.Background(), &viewer.Viewer{PersonID: staff.ID, CommunityID: c.ID, Roles: []viewer.Role{viewer.Coordinator}})
		for name, err := range map[string]error{
			"update one (system)": e.Client.AuditEntry.UpdateOne(entry).Exec(e.Sys()),
			"update all (system)": e.Client.AuditEntry.Update().Exec(e.Sys()),
			"delete one (system)": e.Client.AuditEntry.DeleteOne(entry).Exec(e.Sys()),
			"delete one (staff)":  e.Client.AuditEntry.DeleteOneID(entry.ID).Exec(staffCtx),
			"delete all (staff)":  func() error { _, err := e.Client.AuditEntry.Delete().Exec(staffCtx); return err }(),
		} {
			if !errors.Is(err, authz.ErrAppendOnly) {
				t.Errorf("%s: %v, want ErrAppendOnly", name, err)
			}
		}
		// Inside a transaction too.
		tx, err := e.Client.Tx(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.AuditEntry.Delete().Exec(e.Sys()); !errors.Is(err, authz.ErrAppendOnly) {
			t.Errorf("delete in a transaction: %v", err)
		}
		_ = tx.Rollback()
		if n, err := e.Client.AuditEntry.Query().Count(e.Sys()); err != nil || n != 1 {
			t.Fatalf("%d entries, %v", n, err)
		}
		var schema struct {
			Type struct{ Fields []struct{ Name string } }
		}
		e.Do(t, staffToken, `{ __type(name: "Mutation") { fields { name } } }`, nil).Decode(t, &schema)
		for _, f := range schema.Type.Fields {
			if strings.Contains(strings.ToLower(f.Name), "audit") {
				t.Fatalf("a mutation of audit entries: %s", f.Name)
			}
		}
	})
}
