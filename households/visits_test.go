package households_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"linli/ent/homevisit"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/ent/servicerecord"
	"linli/linlitest"
)

const recordVisit = `mutation($in: RecordHomeVisitInput!) { recordHomeVisit(input: $in) { id kind minutes visitedAt team { id } volunteers { id } household { id } } }`

func hourAgo() time.Time { return hoursAgo(1) }

func hoursAgo(n int) time.Time {
	return time.Now().UTC().Add(-time.Duration(n) * time.Hour).Truncate(time.Second)
}

func jsonDecode(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

const service = `query($p: ID) { volunteerService(personID: $p) { totalHours recordCount } }`

type serviceOut struct {
	VolunteerService struct {
		TotalHours  float64
		RecordCount int
	}
}

// A team leader records a visit of their team; each volunteer's minutes
// become a service record, so the hours reach volunteerService (their own
// and as staff read them). A retry with the same key (also concurrent ones)
// records nothing more.
func TestHomeVisitHoursReachVolunteerService(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		var h struct{ CreateHousehold struct{ ID string } }
		e.Do(t, w.coord, createHousehold, map[string]any{"in": map[string]any{"address": "上码头小区5栋101", "headName": "孙奶奶", "size": 1, "careTags": []string{"EMPTY_NEST"}}}).Decode(t, &h)
		in := map[string]any{
			"householdID": h.CreateHousehold.ID, "kind": "HOME_SERVICE", "visitedAt": hoursAgo(3), "minutes": 90,
			"teamID": e.ID(w.team.ID), "volunteerIDs": []string{e.ID(w.volP.ID), e.ID(w.vol2P.ID), e.ID(w.volP.ID)},
			"notes": "帮忙更换灯泡", "idempotencyKey": "visit-1",
		}
		var before serviceOut
		e.Do(t, w.vol, service, nil).Decode(t, &before)

		// Refusals first: nothing of them may count.
		for _, tc := range []struct {
			name, token, code, field string
			change                   map[string]any
		}{
			{"resident", w.res, "FORBIDDEN", "", nil},
			{"volunteer", w.vol, "FORBIDDEN", "", nil},
			{"kiosk", w.kiosk, "FORBIDDEN", "", nil},
			{"another team's leader", w.other, "FORBIDDEN", "input.teamID", nil},
			{"leader without a team", w.leader, "FORBIDDEN", "input.teamID", map[string]any{"teamID": nil}},
			{"volunteer of another team", w.leader, "VALIDATION_FAILED", "input.volunteerIDs", map[string]any{"volunteerIDs": []string{e.ID(w.otherVolP.ID)}}},
			{"resident as volunteer", w.coord, "VALIDATION_FAILED", "input.volunteerIDs", map[string]any{"volunteerIDs": []string{e.ID(w.resP.ID)}}},
			{"zero minutes", w.leader, "VALIDATION_FAILED", "input.minutes", map[string]any{"minutes": 0}},
			{"future", w.leader, "VALIDATION_FAILED", "input.visitedAt", map[string]any{"visitedAt": time.Now().Add(2 * time.Hour)}},
			{"other community", w.coordB, "VALIDATION_FAILED", "input.householdID", map[string]any{"teamID": nil, "volunteerIDs": nil}},
		} {
			bad := map[string]any{}
			for k, v := range in {
				bad[k] = v
			}
			bad["idempotencyKey"] = "refused-" + tc.name
			for k, v := range tc.change {
				bad[k] = v
			}
			r := e.Do(t, tc.token, recordVisit, map[string]any{"in": bad})
			r.WantCode(t, tc.code)
			if tc.field != "" && r.Field() != tc.field {
				t.Fatalf("%s: field %q, want %s", tc.name, r.Field(), tc.field)
			}
		}
		if n, _ := e.Client.HomeVisit.Query().Count(e.Sys()); n != 0 {
			t.Fatalf("%d visits after refusals", n)
		}

		// Three concurrent sends of one visit (a flaky connection's retries).
		ids := make([]string, 3)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				res, err := linlitest.Send(e.Server.Client(), e.Server.URL+"/graphql", w.leader, recordVisit, map[string]any{"in": in})
				if err != nil || res.Err() != nil {
					t.Errorf("record: %v %v", err, res.Err())
					return
				}
				var out struct{ RecordHomeVisit struct{ ID string } }
				if err := json.Unmarshal(res.Data, &out); err != nil {
					t.Error(err)
				}
				ids[i] = out.RecordHomeVisit.ID
			})
		}
		wg.Wait()
		if ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] {
			t.Fatalf("retries answered %v: want one visit", ids)
		}
		if n, _ := e.Client.HomeVisit.Query().Count(e.Sys()); n != 1 {
			t.Fatalf("%d visits, want 1", n)
		}
		// A later retry gets the first visit; the same key for another
		// visit is a CONFLICT and records nothing (idem's rule).
		var again struct{ RecordHomeVisit struct{ ID string } }
		e.Do(t, w.leader, recordVisit, map[string]any{"in": in}).Decode(t, &again)
		if again.RecordHomeVisit.ID != ids[0] {
			t.Fatalf("a retry answered visit %s, want %s", again.RecordHomeVisit.ID, ids[0])
		}
		other := map[string]any{}
		for k, v := range in {
			other[k] = v
		}
		other["minutes"] = 60
		conflict := e.Do(t, w.leader, recordVisit, map[string]any{"in": other})
		conflict.WantCode(t, "CONFLICT")
		if conflict.Field() != "input.idempotencyKey" {
			t.Fatalf("conflict on field %q", conflict.Field())
		}
		if n, _ := e.Client.HomeVisit.Query().Count(e.Sys()); n != 1 {
			t.Fatalf("%d visits after a conflicting key, want 1", n)
		}
		recs, err := e.Client.ServiceRecord.Query().Where(servicerecord.HomeVisitID(e.IntID(t, ids[0]))).All(e.Sys())
		if err != nil || len(recs) != 2 {
			t.Fatalf("%d service records (%v), want one per volunteer", len(recs), err)
		}
		for _, r := range recs {
			if r.Minutes != 90 || r.OrganizingTeam != "邻里守望队" || r.PersonInCharge != "队长甲" || r.RecordedBy != "队长甲" || r.EndedAt.Sub(r.StartedAt) != 90*time.Minute {
				t.Fatalf("record %+v", r)
			}
		}
		// A second visit by the same volunteer (staff record it, no team).
		e.Do(t, w.coord, recordVisit, map[string]any{"in": map[string]any{
			"householdID": h.CreateHousehold.ID, "kind": "ERRAND", "visitedAt": hoursAgo(1), "minutes": 30,
			"volunteerIDs": []string{e.ID(w.volP.ID)}, "idempotencyKey": "visit-1",
		}}).Decode(t, &struct{}{})
		var after, asStaff serviceOut
		e.Do(t, w.vol, service, nil).Decode(t, &after)
		e.Do(t, w.coord, service, map[string]any{"p": e.ID(w.vol2P.ID)}).Decode(t, &asStaff)
		if got := after.VolunteerService.TotalHours - before.VolunteerService.TotalHours; got != 2 || after.VolunteerService.RecordCount != before.VolunteerService.RecordCount+2 {
			t.Fatalf("the volunteer's hours grew by %v (%d records), want 2 in 2 records", got, after.VolunteerService.RecordCount)
		}
		if asStaff.VolunteerService.TotalHours != 1.5 {
			t.Fatalf("staff see %v hours, want 1.5", asStaff.VolunteerService.TotalHours)
		}
		// The volunteer's own records show the visit.
		var mine struct {
			ServiceRecords struct {
				Edges []struct {
					Node struct {
						ActivityName string
						HomeVisitID  *string
						Hours        float64
					}
				}
			}
		}
		e.Do(t, w.vol, `{ serviceRecords(first: 10) { edges { node { activityName homeVisitID hours } } } }`, nil).Decode(t, &mine)
		// Newest first: the errand, then the first visit.
		if len(mine.ServiceRecords.Edges) != 2 || mine.ServiceRecords.Edges[1].Node.HomeVisitID == nil || *mine.ServiceRecords.Edges[1].Node.HomeVisitID != ids[0] ||
			mine.ServiceRecords.Edges[1].Node.Hours != 1.5 || mine.ServiceRecords.Edges[0].Node.ActivityName != "代跑代办" {
			t.Fatalf("records %+v", mine.ServiceRecords.Edges)
		}

		// The household's visits: staff and the team's leader read it; the
		// other team's leader does not.
		visits := `query($id: ID!) { node(id: $id) { ... on Household { visits(first: 5) { totalCount edges { node { id notes } } } } } }`
		for token, want := range map[string]int{w.coord: 2, w.leader: 1, w.other: 0} {
			var v struct {
				Node struct{ Visits struct{ TotalCount int } }
			}
			e.Do(t, token, visits, map[string]any{"id": h.CreateHousehold.ID}).Decode(t, &v)
			if v.Node.Visits.TotalCount != want {
				t.Fatalf("visits %d, want %d", v.Node.Visits.TotalCount, want)
			}
		}
	})
}

// A visit that served a request joins the request's history as a VISIT
// event.
func TestHomeVisitJoinsRequestHistory(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		hh, err := e.Client.Household.Create().SetCommunityID(w.a.ID).SetAddress("上码头小区6栋202").SetHeadName("周大爷").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		req, err := e.Client.Request.Create().SetCommunityID(w.a.ID).SetNumber("QJ-2026-0001").SetYear(2026).SetSeq(1).
			SetKind(request.KindELDERLY_CARE).SetChannel(request.ChannelPHONE).SetStatus(request.StatusASSIGNED).
			SetTitle("需要上门理发").SetHouseholdID(hh.ID).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ RecordHomeVisit struct{ ID string } }
		e.Do(t, w.coord, recordVisit, map[string]any{"in": map[string]any{
			"householdID": e.ID(hh.ID), "kind": "HOME_SERVICE", "visitedAt": hourAgo(), "minutes": 45,
			"volunteerIDs": []string{e.ID(w.volP.ID)}, "requestID": e.ID(req.ID), "notes": "上门理发",
		}}).Decode(t, &out)
		visitID := e.IntID(t, out.RecordHomeVisit.ID)
		ev, err := e.Client.RequestEvent.Query().Where(requestevent.RequestID(req.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Action != "VISIT" || ev.HomeVisitID == nil || *ev.HomeVisitID != visitID || ev.Status != requestevent.StatusASSIGNED || ev.ActorID == nil {
			t.Fatalf("event %+v", ev)
		}
		hv, err := e.Client.HomeVisit.Query().Where(homevisit.ID(visitID)).Only(e.Sys())
		if err != nil || hv.RequestID == nil || *hv.RequestID != req.ID {
			t.Fatalf("visit %+v, %v", hv, err)
		}
		// Another community's request is no request for this visit.
		e.Do(t, w.coordB, recordVisit, map[string]any{"in": map[string]any{
			"householdID": e.ID(hh.ID), "kind": "SURVEY", "visitedAt": hourAgo(), "minutes": 10, "requestID": e.ID(req.ID),
		}}).WantCode(t, "VALIDATION_FAILED")
	})
}
