package demo_test

import (
	"testing"
	"time"

	"linli/demo"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/servicerecord"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/scan"
)

// The demo year reads like the seed's year-end report through the real
// communityStatistics query: 1,000+ participant and 6,500+ beneficiary
// person-times from its past activities' check-ins (plus visits and
// requests), 60 moral lectures, 30 culture-square shows, 20+ legal and
// health sessions; and every slot's counters equal a recount of its
// registrations, every volunteer who checked out has the service record a
// check-out writes.
func TestDemoYearStatistics(t *testing.T) {
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		ctx := e.Sys()
		q := qianjin(t, e)
		var d loginData
		login(t, e, "13800000001", "qianjin-coord").Decode(t, &d)
		now := time.Now()
		var res struct {
			CommunityStatistics struct {
				ActivitiesHeld, ParticipantPersonTimes, BeneficiaryPersonTimes int
				AttendeePersonTimes, VolunteerPersonTimes                      int
				ServiceHours                                                   float64
				ByCategory                                                     []struct {
					Category       string
					ActivitiesHeld int
				}
				ByServiceType []struct {
					ServiceType    string
					ActivitiesHeld int
				}
			}
		}
		e.Do(t, d.Login.Token, `query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) {
			activitiesHeld participantPersonTimes beneficiaryPersonTimes attendeePersonTimes volunteerPersonTimes serviceHours
			byCategory { category activitiesHeld } byServiceType { serviceType activitiesHeld } } }`,
			map[string]any{"c": e.ID(q.ID), "f": now.AddDate(-1, 0, 0), "t": now.AddDate(0, 0, 1)}).Decode(t, &res)
		s := res.CommunityStatistics
		t.Logf("demo year: %+v", s)
		if s.ActivitiesHeld < 30 || s.ParticipantPersonTimes < 1000 || s.BeneficiaryPersonTimes < 6500 ||
			s.VolunteerPersonTimes == 0 || s.AttendeePersonTimes == 0 {
			t.Errorf("demo year %+v: want 30+ activities, 1,000+ participant and 6,500+ beneficiary person-times", s)
		}
		cats, types := map[string]int{}, map[string]int{}
		for _, c := range s.ByCategory {
			cats[c.Category] = c.ActivitiesHeld
		}
		for _, c := range s.ByServiceType {
			types[c.ServiceType] = c.ActivitiesHeld
		}
		shows := e.Client.Activity.Query().Where(activity.CommunityID(q.ID), activity.CategoryEQ(activity.CategorySQUARE),
			activity.ServiceTypeEQ(activity.ServiceTypeCULTURE), activity.StatusEQ(activity.StatusCOMPLETED)).CountX(ctx)
		lectures := e.Client.Activity.Query().Where(activity.CommunityID(q.ID), activity.CategoryEQ(activity.CategoryHALL),
			activity.ServiceTypeEQ(activity.ServiceTypeEDUCATION), activity.StatusEQ(activity.StatusCOMPLETED)).CountX(ctx)
		if lectures < 60 || shows < 30 || types["LEGAL"]+types["HEALTH"] < 20 || cats["HALL"] < lectures {
			t.Errorf("%d lectures, %d square shows, legal+health %d (categories %v): want 60, 30, 20+", lectures, shows, types["LEGAL"]+types["HEALTH"], cats)
		}

		// Counters equal a recount; past activities have check-ins, no-shows
		// and, for volunteers, check-outs; upcoming ones have no sign-ups.
		statuses := map[registration.Status]int{}
		bySlot := map[int][]*ent.Registration{}
		for _, r := range e.Client.Registration.Query().AllX(ctx) {
			bySlot[r.SlotID] = append(bySlot[r.SlotID], r)
		}
		for _, a := range e.Client.Activity.Query().WithSlots().AllX(ctx) {
			for _, sl := range a.Edges.Slots {
				taken, checkedIn := 0, 0
				for _, r := range bySlot[sl.ID] {
					statuses[r.Status]++
					switch r.Status {
					case registration.StatusCONFIRMED:
						taken += r.Seats
					case registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT:
						taken += r.Seats
						checkedIn += r.Seats
						if r.CheckedInAt == nil || (r.Status == registration.StatusCHECKED_OUT) != (r.CheckedOutAt != nil) {
							t.Fatalf("registration %d (%s) has times %v / %v", r.ID, r.Status, r.CheckedInAt, r.CheckedOutAt)
						}
					}
					if r.CheckedInAt != nil {
						// Inside the check-in window the door applies.
						if opens, closes := scan.Window(a, sl); r.CheckedInAt.Before(opens) || r.CheckedInAt.After(closes) {
							t.Fatalf("registration %d checked in at %v, outside %v–%v", r.ID, *r.CheckedInAt, opens, closes)
						}
					}
					if r.Status == registration.StatusCANCELLED && (r.CancelledAt == nil || !r.CancelledAt.Before(a.StartsAt)) {
						t.Fatalf("registration %d cancelled at %v, activity starts %v", r.ID, r.CancelledAt, a.StartsAt)
					}
					if r.CommunityID != a.CommunityID || r.ActivityID != a.ID {
						t.Fatalf("registration %d is not in its slot's activity and community", r.ID)
					}
					if r.Status == registration.StatusCHECKED_OUT && sl.Kind != slot.KindVOLUNTEER {
						t.Fatalf("attendee registration %d checked out", r.ID)
					}
				}
				if sl.Taken != taken || sl.CheckedIn != checkedIn || sl.Waitlisted != 0 || sl.Pending != 0 || taken > sl.Capacity {
					t.Errorf("%s/%s: taken %d checked in %d (waitlisted %d pending %d, capacity %d); recount %d, %d",
						a.Title, sl.Name, sl.Taken, sl.CheckedIn, sl.Waitlisted, sl.Pending, sl.Capacity, taken, checkedIn)
				}
				if a.Status != activity.StatusCOMPLETED && len(bySlot[sl.ID]) != 0 {
					t.Errorf("upcoming %s has %d registrations", a.Title, len(bySlot[sl.ID]))
				}
			}
		}
		if statuses[registration.StatusCONFIRMED] == 0 || statuses[registration.StatusCANCELLED] == 0 || statuses[registration.StatusCHECKED_OUT] == 0 {
			t.Errorf("registrations by status %v: want no-shows, cancellations and check-outs", statuses)
		}

		// Every checked-out volunteer has one service record, the one
		// scan.NewRecord makes of their check-in and check-out.
		regs := e.Client.Registration.Query().Where(registration.StatusEQ(registration.StatusCHECKED_OUT)).
			WithSlot().WithActivity(func(q *ent.ActivityQuery) { q.WithVenue().WithTeam().WithCommunity() }).AllX(ctx)
		recs := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationIDNotNil()).AllX(ctx)
		byReg := map[int]*ent.ServiceRecord{}
		for _, r := range recs {
			if byReg[*r.RegistrationID] != nil {
				t.Fatalf("registration %d has two service records", *r.RegistrationID)
			}
			byReg[*r.RegistrationID] = r
		}
		if len(recs) != len(regs) {
			t.Errorf("%d service records of activities, %d volunteers checked out", len(recs), len(regs))
		}
		for _, r := range regs {
			rec := byReg[r.ID]
			if rec == nil {
				t.Fatalf("checked-out registration %d has no service record", r.ID)
			}
			a, sl := r.Edges.Activity, r.Edges.Slot
			_, want := scan.NewRecord(e.Client.ServiceRecord.Create(), &scan.RecordInfo{}, a, sl, scan.DefaultCheckOutGrace, r.ID, r.PersonID, *r.CheckedInAt, *r.CheckedOutAt)
			from, to := scan.Window(a, sl)
			to = to.Add(scan.DefaultCheckOutGrace)
			if rec.Minutes != want || rec.Minutes <= 0 || rec.StartedAt.Before(from) || rec.EndedAt.After(to) ||
				rec.PersonID != r.PersonID || rec.ActivityID == nil || *rec.ActivityID != a.ID || rec.ActivityName != a.Title ||
				rec.ServiceContent != sl.Name || rec.RecordedBy == "" || rec.OrganizingTeam == "" || rec.FlaggedForReview {
				t.Fatalf("record %+v of registration %d (%v–%v in %v–%v): want %d minutes and the record fields", rec, r.ID, *r.CheckedInAt, *r.CheckedOutAt, from, to, want)
			}
			if tm := a.Edges.Team; tm != nil && (rec.OrganizingTeam != tm.Name || rec.PersonInCharge == "") {
				t.Fatalf("record %d: team %q in charge %q, want %s and its leader", rec.ID, rec.OrganizingTeam, rec.PersonInCharge, tm.Name)
			}
		}
		if demo.PastActivities < 150 {
			t.Errorf("PastActivities = %d", demo.PastActivities)
		}
	})
}
