package households_test

import (
	"sync"
	"testing"
	"time"

	"linli/ent/auditentry"
	"linli/ent/servicerecord"
	"linli/linlitest"
	"linli/viewer"
)

const confirmRecord = `mutation($id: ID!) { confirmServiceRecord(id: $id) { id flaggedForReview } }`

// Issue 18's self-granted hours: a team leader recording five 24-hour
// visits at one instant four years ago, himself the volunteer. Now a visit
// is at most 12 hours, within the back-entry window, never overlapping a
// volunteer's other service (another visit, also one sent at the same
// time, or an activity's record); the leader's own record waits for a
// second staff member, and every visit is in the audit log.
func TestSelfGrantedHoursRefused(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		var h struct{ CreateHousehold struct{ ID string } }
		e.Do(t, w.coord, createHousehold, map[string]any{"in": map[string]any{"address": "上码头小区6栋202", "headName": "钱爷爷", "size": 2}}).Decode(t, &h)
		visit := func(at time.Time, minutes int, volunteers ...int) map[string]any {
			ids := make([]string, len(volunteers))
			for i, v := range volunteers {
				ids[i] = e.ID(v)
			}
			return map[string]any{"householdID": h.CreateHousehold.ID, "kind": "CARE_VISIT", "visitedAt": at,
				"minutes": minutes, "teamID": e.ID(w.team.ID), "volunteerIDs": ids}
		}
		self := w.leaderP.ID
		e.Do(t, w.leader, recordVisit, map[string]any{"in": visit(hoursAgo(30), 24*60, self)}).WantCode(t, "VALIDATION_FAILED")
		r := e.Do(t, w.leader, recordVisit, map[string]any{"in": visit(time.Now().AddDate(-4, 0, 0), 60, self)})
		r.WantCode(t, "BACK_ENTRY_WINDOW_CLOSED")
		if r.Field() != "input.visitedAt" {
			t.Fatalf("back-dated visit: field %q", r.Field())
		}

		// Five visits at the same instant, sent together: one is recorded.
		at := hoursAgo(5)
		var wg sync.WaitGroup
		codes := make([]string, 5)
		for i := range codes {
			wg.Go(func() { codes[i] = e.Do(t, w.leader, recordVisit, map[string]any{"in": visit(at, 120, self)}).Code() })
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case "":
				ok++
			case "SERVICE_TIME_OVERLAP":
			default:
				t.Fatalf("concurrent visits: %v", codes)
			}
		}
		if ok != 1 {
			t.Fatalf("five visits at one instant: %d recorded (%v)", ok, codes)
		}
		// Overlapping by part, and with another volunteer beside: refused.
		r = e.Do(t, w.leader, recordVisit, map[string]any{"in": visit(at.Add(119*time.Minute), 30, w.volP.ID, self)})
		r.WantCode(t, "SERVICE_TIME_OVERLAP")
		if r.Field() != "input.visitedAt" {
			t.Fatalf("overlap: field %q", r.Field())
		}
		// Right after it: fine.
		if err := e.Do(t, w.leader, recordVisit, map[string]any{"in": visit(at.Add(120*time.Minute), 30, w.volP.ID)}).Err(); err != nil {
			t.Fatal(err)
		}
		// An activity's record of the volunteer counts alike.
		if err := e.Client.ServiceRecord.Create().SetCommunityID(w.a.ID).SetPersonID(w.vol2P.ID).
			SetActivityName("义诊").SetServiceDate("2026-01-01").SetStartedAt(hoursAgo(10)).SetEndedAt(hoursAgo(8)).
			SetMinutes(120).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.Do(t, w.leader, recordVisit, map[string]any{"in": visit(hoursAgo(9), 30, w.vol2P.ID)}).WantCode(t, "SERVICE_TIME_OVERLAP")

		// The leader's own record is flagged; he cannot confirm it, a
		// coordinator can.
		own, err := e.Client.ServiceRecord.Query().Where(servicerecord.PersonID(self), servicerecord.HomeVisitIDNotNil()).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if !own.FlaggedForReview {
			t.Fatalf("a leader's own visit record is not flagged: %+v", own)
		}
		other, err := e.Client.ServiceRecord.Query().Where(servicerecord.PersonID(w.volP.ID), servicerecord.HomeVisitIDNotNil()).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if other.FlaggedForReview {
			t.Fatal("a team member's visit record is flagged")
		}
		e.Do(t, w.leader, confirmRecord, map[string]any{"id": e.ID(own.ID)}).WantCode(t, "FORBIDDEN")
		var c struct {
			ConfirmServiceRecord struct{ FlaggedForReview bool }
		}
		e.Do(t, w.coord, confirmRecord, map[string]any{"id": e.ID(own.ID)}).Decode(t, &c)
		if c.ConfirmServiceRecord.FlaggedForReview {
			t.Fatal("confirmed record still flagged")
		}
		n, err := e.Client.AuditEntry.Query().Where(auditentry.Action("home_visit.record"), auditentry.ActorID(self)).Count(e.Sys())
		if err != nil || n != 2 {
			t.Fatalf("audit entries of the leader's visits: %d, %v", n, err)
		}
	})
}

// The two-person rule cannot be met by a coordinator alone: whom he made
// staff lately is not a second person for his own records; a coordinator
// he did not appoint, or a platform admin, is.
func TestConfirmationNeedsAnotherPerson(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		var h struct{ CreateHousehold struct{ ID string } }
		e.Do(t, w.coord, createHousehold, map[string]any{"in": map[string]any{"address": "上码头小区7栋303", "headName": "赵奶奶", "size": 1}}).Decode(t, &h)
		bossP, boss := e.Person(t, w.a.ID, "社工丁", viewer.Coordinator, viewer.Volunteer)
		friendP, _ := e.Person(t, w.a.ID, "朋友")
		e.Do(t, boss, `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { id } }`, map[string]any{"p": e.ID(friendP.ID)}).Decode(t, &struct{}{})
		friend := token(t, e, friendP.ID)
		e.Do(t, boss, recordVisit, map[string]any{"in": map[string]any{"householdID": h.CreateHousehold.ID, "kind": "CARE_VISIT",
			"visitedAt": hoursAgo(2), "minutes": 60, "volunteerIDs": []string{e.ID(bossP.ID)}}}).Decode(t, &struct{}{})
		own, err := e.Client.ServiceRecord.Query().Where(servicerecord.PersonID(bossP.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if !own.FlaggedForReview {
			t.Fatal("a coordinator's own visit record is not flagged")
		}
		e.Do(t, boss, confirmRecord, map[string]any{"id": e.ID(own.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, friend, confirmRecord, map[string]any{"id": e.ID(own.ID)}).WantCode(t, "FORBIDDEN")
		var c struct {
			ConfirmServiceRecord struct{ FlaggedForReview bool }
		}
		e.Do(t, w.admin, confirmRecord, map[string]any{"id": e.ID(own.ID)}).Decode(t, &c)
		if c.ConfirmServiceRecord.FlaggedForReview {
			t.Fatal("confirmed by an admin, still flagged")
		}
	})
}
