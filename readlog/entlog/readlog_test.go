package entlog_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"linli/ent/activity"
	"linli/linlitest"
	"linli/viewer"
)

const readsQuery = `query($c: ID, $w: SensitiveReadLogFilter) { sensitiveReads(communityID: $c, where: $w, first: 100) {
	totalCount edges { node { actorID kind subjectType subjectID path clientAddress at } } } }`

type readRow struct {
	ActorID     linlitest.RowID
	Kind        string
	SubjectType string
	SubjectID   linlitest.RowID
	Path        string
}

func reads(t *testing.T, e *linlitest.Env, admin string, cid int) []readRow {
	t.Helper()
	if err := e.App.ReadLog.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out struct {
		SensitiveReads struct {
			TotalCount int
			Edges      []struct{ Node readRow }
		}
	}
	e.Do(t, admin, readsQuery, map[string]any{"c": e.ID(cid)}).Decode(t, &out)
	rows := make([]readRow, len(out.SensitiveReads.Edges))
	for i, x := range out.SensitiveReads.Edges {
		rows[i] = x.Node
	}
	return rows
}

func count(rows []readRow, kind, subjectType string, subject int, pathPart string) int {
	n := 0
	for _, r := range rows {
		if r.Kind == kind && r.SubjectType == subjectType && r.SubjectID.Int() == subject && strings.Contains(r.Path, pathPart) {
			n++
		}
	}
	return n
}

// TestSensitiveReadLog: a coordinator's reads of full phones (people's and
// households'), care tags and health sign-ups are logged — through GraphQL
// (with the field path) and through an export — once per reader, subject
// and path however many times the field resolves; a person reading their
// own phone, a team leader (masked values) and reads of sign-ups for other
// activities are not; only platform admins list the log.
func TestSensitiveReadLog(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "跃进社区")
		staff, staffToken := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, admin := e.Person(t, other.ID, "管理员", viewer.Admin)
		res, resToken := e.Person(t, c.ID, "章桂兰")
		res2, res2Token := e.Person(t, c.ID, "吴小雨")
		_, leaderToken := e.Person(t, c.ID, "队长", viewer.TeamLeader)
		clinic, clinicSlots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊", ServiceType: activity.ServiceTypeHEALTH})
		show, showSlots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "黄梅戏", ServiceType: activity.ServiceTypeCULTURE})
		signUp := `mutation($s: ID!) { signUp(input: {slotID: $s, consentSensitive: true}) { registration { id } } }`
		var regIDs []int
		for _, tok := range []string{resToken, res2Token} {
			var out struct {
				SignUp struct{ Registration struct{ ID linlitest.RowID } }
			}
			e.Do(t, tok, signUp, map[string]any{"s": e.ID(clinicSlots[0].ID)}).Decode(t, &out)
			regIDs = append(regIDs, out.SignUp.Registration.ID.Int())
			e.Do(t, tok, signUp, map[string]any{"s": e.ID(showSlots[0].ID)}).Decode(t, &struct{}{})
		}
		var h struct {
			CreateHousehold struct{ ID linlitest.RowID }
		}
		e.Do(t, staffToken, `mutation { createHousehold(input: {address: "上码头小区3栋301", headName: "王桂芳", phone: "13912345678", size: 1, careTags: [EMPTY_NEST]}) { id } }`,
			nil).Decode(t, &h)
		hid := h.CreateHousehold.ID.Int()
		if rows := reads(t, e, admin, c.ID); len(rows) != 0 {
			t.Fatalf("before any read: %+v", rows)
		}

		// The resident reads their own phone and sign-ups; the leader reads
		// households masked.
		e.Do(t, resToken, `{ viewer { phone } myRegistrations(first: 10) { edges { node { id } } } }`, nil).Decode(t, &struct{}{})
		e.Do(t, leaderToken, `{ households(first: 10) { edges { node { phone careTags } } } }`, nil)
		if rows := reads(t, e, admin, c.ID); len(rows) != 0 {
			t.Fatalf("own reads and masked reads logged: %+v", rows)
		}

		// The coordinator reads the clinic's sign-ups with phones, three
		// times (one entry each), the show's, and the households.
		regs := `query($a: ID!) { activityRegistrations(activityID: $a, first: 10) { edges { node { id person { phone } } } } }`
		for range 3 {
			e.Do(t, staffToken, regs, map[string]any{"a": e.ID(clinic.ID)}).Decode(t, &struct{}{})
		}
		e.Do(t, staffToken, regs, map[string]any{"a": e.ID(show.ID)}).Decode(t, &struct{}{})
		e.Do(t, staffToken, `{ households(first: 10) { edges { node { phone careTags } } } }`, nil).Decode(t, &struct{}{})
		rows := reads(t, e, admin, c.ID)
		const regPath = "graphql:activityRegistrations.edges.node.person.phone"
		for _, p := range []int{res.ID, res2.ID} {
			if n := count(rows, "PHONE", "Person", p, regPath); n != 1 {
				t.Errorf("phone of %d read through %s: %d entries, want 1 (%+v)", p, regPath, n, rows)
			}
		}
		for _, r := range regIDs {
			if n := count(rows, "HEALTH_SIGNUP", "Registration", r, "graphql:activityRegistrations"); n != 1 {
				t.Errorf("health sign-up %d: %d entries, want 1 (%+v)", r, n, rows)
			}
		}
		if n := count(rows, "CARE_TAGS", "Household", hid, "graphql:households.edges.node.careTags"); n != 1 {
			t.Errorf("care tags: %d entries (%+v)", n, rows)
		}
		if n := count(rows, "PHONE", "Household", hid, "graphql:households.edges.node.phone"); n != 1 {
			t.Errorf("household phone: %d entries (%+v)", n, rows)
		}
		// 2 phones + 2 health sign-ups + tags + household phone; the show's
		// sign-ups are not health data (their phones share the path).
		if len(rows) != 6 {
			t.Errorf("%d entries, want 6: %+v", len(rows), rows)
		}
		for _, r := range rows {
			if r.ActorID.Int() != staff.ID {
				t.Errorf("entry by %d, want the coordinator %d", r.ActorID.Int(), staff.ID)
			}
		}

		// An export: the clinic's sign-in sheet, with full phones.
		req, _ := http.NewRequest("GET", e.Server.URL+"/exports/activities/"+e.ID(clinic.ID)+"/sign-in-sheet?format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+staffToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("export: %d", resp.StatusCode)
		}
		rows = reads(t, e, admin, c.ID)
		exportPath := "GET /exports/activities/"
		for _, p := range []int{res.ID, res2.ID} {
			if n := count(rows, "PHONE", "Person", p, exportPath); n != 1 {
				t.Errorf("export of %d's phone: %d entries (%+v)", p, n, rows)
			}
		}
		for _, r := range regIDs {
			if n := count(rows, "HEALTH_SIGNUP", "Registration", r, exportPath); n != 1 {
				t.Errorf("export of health sign-up %d: %d entries (%+v)", r, n, rows)
			}
		}

		// A careTag filter reads the tags of what it matches, selected or not.
		e.Do(t, staffToken, `{ households(first: 10, where: {careTag: EMPTY_NEST}) { totalCount } }`, nil).Decode(t, &struct{}{})
		rows = reads(t, e, admin, c.ID)
		if n := count(rows, "CARE_TAGS", "Household", hid, "graphql:households"); n != 2 {
			t.Errorf("care-tag filter: %d entries for the household, want 2 (field and filter) (%+v)", n, rows)
		}

		// Filters, and who may list.
		var filtered struct {
			SensitiveReads struct{ TotalCount int }
		}
		e.Do(t, admin, readsQuery, map[string]any{"c": e.ID(c.ID), "w": map[string]any{"kinds": []string{"CARE_TAGS"}}}).Decode(t, &filtered)
		if filtered.SensitiveReads.TotalCount != 2 {
			t.Errorf("CARE_TAGS filter: %d", filtered.SensitiveReads.TotalCount)
		}
		e.Do(t, admin, readsQuery, map[string]any{"c": e.ID(c.ID), "w": map[string]any{"subjectID": e.ID(res.ID)}}).Decode(t, &filtered)
		if filtered.SensitiveReads.TotalCount != 2 {
			t.Errorf("subject filter: %d", filtered.SensitiveReads.TotalCount)
		}
		for _, tok := range []string{staffToken, resToken, leaderToken} {
			e.Do(t, tok, readsQuery, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "FORBIDDEN")
		}
		e.Do(t, "", readsQuery, nil).WantCode(t, "UNAUTHENTICATED")
		// node(id:) of an entry shows nothing to staff either.
		id, err := e.Client.SensitiveRead.Query().FirstID(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		r := e.Do(t, staffToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": e.ID(id)})
		if len(r.Errors) == 0 && !strings.Contains(string(r.Data), `"node":null`) {
			t.Errorf("staff read an entry through node: %s", r.Data)
		}
	})
}
