package statistics_test

import (
	"testing"
	"time"

	"linli/ent/activity"
	"linli/ent/request"
	"linli/ent/servicerecord"
	"linli/ent/volunteerprofile"
	"linli/linlitest"
	"linli/viewer"
)

// TestActivitiesHeld: published or completed activities that started in
// range and not in the future count; drafts, cancelled ones (even after
// check-ins), future ones and those before the range do not. The
// breakdowns list every category and service type.
func TestActivitiesHeld(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 2300)
		from, to := s.around()
		past := s.now.Add(-time.Hour)
		s.activity(t, activity.StatusPUBLISHED, past, activity.CategoryHALL, true)
		s.activity(t, activity.StatusCOMPLETED, s.now.Add(-48*time.Hour), activity.CategorySQUARE, false)
		s.activity(t, activity.StatusDRAFT, past, activity.CategoryHALL, false)
		s.activity(t, activity.StatusPUBLISHED, s.now.Add(30*time.Minute), activity.CategoryHALL, false) // future
		s.activity(t, activity.StatusPUBLISHED, from.Add(-time.Hour), activity.CategoryHALL, false)      // before the range
		cancelled, seats, _ := s.activity(t, activity.StatusPUBLISHED, past, activity.CategoryHALL, true)
		r := s.register(t, seats, 1)
		s.checkIn(t, cancelled, r, past)
		if got := s.stats(t, from, to); got.ActivitiesHeld != 3 || got.AttendeePersonTimes != 1 {
			t.Fatalf("before cancelling: held %d, attendees %d; want 3, 1", got.ActivitiesHeld, got.AttendeePersonTimes)
		}
		s.cancel(t, cancelled)
		got := s.stats(t, from, to)
		if got.ActivitiesHeld != 2 || got.AttendeePersonTimes != 0 {
			t.Fatalf("held %d, attendees %d; want 2, 0", got.ActivitiesHeld, got.AttendeePersonTimes)
		}
		cats := map[string]int{}
		for _, c := range got.ByCategory {
			cats[c.Category] = c.ActivitiesHeld
		}
		if len(got.ByCategory) != 5 || cats["HALL"] != 1 || cats["SQUARE"] != 1 || cats["ONLINE"] != 0 {
			t.Fatalf("byCategory %+v", got.ByCategory)
		}
		if len(got.ByServiceType) != 8 {
			t.Fatalf("byServiceType %+v", got.ByServiceType)
		}
		if len(got.ByTeam) != 1 || got.ByTeam[0].Team.ID != e.ID(s.team.ID) || got.ByTeam[0].ActivitiesHeld != 1 {
			t.Fatalf("byTeam %+v", got.ByTeam)
		}
		sum := 0
		for _, m := range got.ByMonth {
			sum += m.ActivitiesHeld
		}
		if sum != 2 || len(got.ByMonth) < 1 {
			t.Fatalf("byMonth %+v", got.ByMonth)
		}
	})
}

// TestCheckInsCountOncePerCheckIn: a check-in counts once however many
// seats, scans, retries and the check-out that follows; an undone one not
// at all; a check-in of an activity that has not started yet not either.
func TestCheckInsCountOncePerCheckIn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 2300)
		from, to := s.around()
		start := s.now.Add(-time.Hour)
		a, seats, doctors := s.activity(t, activity.StatusPUBLISHED, start, activity.CategoryHALL, true)
		family := s.register(t, seats, 3)
		s.checkIn(t, a, family, start)
		if st := s.manual(t, a, family, "IN", start, "again"); st != "ALREADY_CHECKED_IN" {
			t.Fatalf("second check-in: %s", st)
		}
		if st := s.manual(t, a, family, "IN", start, "again"); st != "ALREADY_CHECKED_IN" { // a retry
			t.Fatalf("retried check-in: %s", st)
		}
		s.checkOut(t, a, family, start.Add(30*time.Minute))
		undone := s.register(t, seats, 1)
		s.checkIn(t, a, undone, start)
		s.undo(t, undone)
		doctor := s.register(t, doctors, 1)
		s.checkIn(t, a, doctor, start)
		s.register(t, seats, 1) // confirmed, never came

		future, fseats, _ := s.activity(t, activity.StatusPUBLISHED, s.now.Add(30*time.Minute), activity.CategoryHALL, false)
		early := s.register(t, fseats, 1)
		s.checkIn(t, future, early, s.now) // the door opens an hour before

		got := s.stats(t, from, to)
		if got.AttendeePersonTimes != 1 || got.VolunteerPersonTimes != 1 || got.ParticipantPersonTimes != 2 {
			t.Fatalf("attendees %d, volunteers %d, participants %d; want 1, 1, 2",
				got.AttendeePersonTimes, got.VolunteerPersonTimes, got.ParticipantPersonTimes)
		}
		if got.ByTeam[0].VolunteerPersonTimes != 1 {
			t.Fatalf("byTeam %+v", got.ByTeam)
		}
	})
}

// TestServiceHours: minutes of the service records that started in range,
// in hours to 0.01, moved by a correction and by an undone check-out.
func TestServiceHours(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 2300)
		from, to := s.around()
		start := s.now.Add(-2 * time.Hour).Truncate(time.Minute)
		a, _, doctors := s.activity(t, activity.StatusPUBLISHED, start, activity.CategoryHALL, true)
		d1, d2 := s.register(t, doctors, 1), s.register(t, doctors, 1)
		s.checkIn(t, a, d1, start)
		s.checkOut(t, a, d1, start.Add(50*time.Minute))
		s.checkIn(t, a, d2, start)
		s.checkOut(t, a, d2, start.Add(20*time.Minute))
		if got := s.stats(t, from, to); got.ServiceHours != 1.17 || got.ByTeam[0].ServiceHours != 1.17 { // 70 min
			t.Fatalf("service hours %v, team %+v; want 1.17", got.ServiceHours, got.ByTeam)
		}
		rec, err := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(d1.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		s.correct(t, rec.ID, start, start.Add(100*time.Minute))
		if got := s.stats(t, from, to); got.ServiceHours != 2 { // 120 min
			t.Fatalf("after the correction: %v hours, want 2", got.ServiceHours)
		}
		s.undo(t, d2)
		if got := s.stats(t, from, to); got.ServiceHours != 1.67 { // 100 min
			t.Fatalf("after undoing a check-out: %v hours, want 1.67", got.ServiceHours)
		}
		if got := s.stats(t, start.Add(time.Minute), to); got.ServiceHours != 0 {
			t.Fatalf("records started before the range count: %v", got.ServiceHours)
		}
	})
}

// TestRequestFigures: received, resolved (outcome not UNRESOLVED, still
// resolved or closed: a reopened request is not), disputes mediated, the
// three rates (24 h response window inclusive, ratings ≥ 4, confirmations
// without a rating left out), and beneficiaries from SOLVED and MEDIATED.
func TestRequestFigures(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 2300)
		from, to := s.around()
		if got := s.stats(t, from, to); got.ResponseRate != 0 || got.ResolutionRate != 0 || got.SatisfactionRate != 0 {
			t.Fatalf("rates without requests: %+v", got)
		}
		c := s.now.Add(-72 * time.Hour)
		at := func(d time.Duration) *time.Time { return ptr(c.Add(d)) }
		solved, mediated, unresolved, referred := ptr(request.OutcomeSOLVED), ptr(request.OutcomeMEDIATED), ptr(request.OutcomeUNRESOLVED), ptr(request.OutcomeREFERRED)
		s.request(t, req{created: c, accepted: at(24 * time.Hour), status: request.StatusRESOLVED, resolved: at(30 * time.Hour), outcome: solved})
		s.request(t, req{created: c, accepted: at(25 * time.Hour), status: request.StatusCLOSED, resolved: at(30 * time.Hour), closed: at(40 * time.Hour), outcome: referred, satisfaction: ptr(4)})
		s.request(t, req{kind: request.KindDISPUTE, created: c, accepted: at(time.Hour), status: request.StatusCLOSED, resolved: at(2 * time.Hour), closed: at(3 * time.Hour), outcome: mediated, satisfaction: ptr(5)})
		s.request(t, req{kind: request.KindDISPUTE, created: c, status: request.StatusCLOSED, resolved: at(2 * time.Hour), closed: at(3 * time.Hour), outcome: unresolved, satisfaction: ptr(2)})
		// Reopened after it was resolved: in progress again.
		s.request(t, req{created: c, accepted: at(time.Hour), status: request.StatusIN_PROGRESS, resolved: at(2 * time.Hour), outcome: solved})
		// Confirmed by staff after a follow-up call, without a rating.
		s.request(t, req{created: c, accepted: at(time.Hour), status: request.StatusCLOSED, resolved: at(2 * time.Hour), closed: at(3 * time.Hour), outcome: solved})
		// Before the range: resolved inside it.
		s.request(t, req{created: from.Add(-time.Hour), accepted: ptr(from.Add(-time.Minute)), status: request.StatusRESOLVED, resolved: at(0), outcome: mediated})
		s.request(t, req{created: c}) // submitted only
		got := s.stats(t, from, to)
		want := Stats{RequestsReceived: 7, RequestsResolved: 5, DisputesMediated: 1, BeneficiaryPersonTimes: 4}
		if got.RequestsReceived != want.RequestsReceived || got.RequestsResolved != want.RequestsResolved ||
			got.DisputesMediated != want.DisputesMediated || got.BeneficiaryPersonTimes != want.BeneficiaryPersonTimes {
			t.Fatalf("got received %d resolved %d disputes %d beneficiaries %d; want %+v", got.RequestsReceived,
				got.RequestsResolved, got.DisputesMediated, got.BeneficiaryPersonTimes, want)
		}
		// Accepted within 24 h: 1st (exactly 24 h), 3rd, 5th, 6th of 7.
		if got.ResponseRate != 0.5714 || got.ResolutionRate != 0.7143 || got.SatisfactionRate != 0.6667 {
			t.Fatalf("rates %v %v %v; want 0.5714 0.7143 0.6667", got.ResponseRate, got.ResolutionRate, got.SatisfactionRate)
		}
		month := map[string]int{}
		for _, m := range got.ByMonth {
			month[m.Month] += m.RequestsReceived
		}
		if month[c.In(time.FixedZone("CST", 8*3600)).Format("2006-01")] != 7 {
			t.Fatalf("byMonth %+v", got.ByMonth)
		}
	})
}

// TestHomeVisitFigures: visits in range, distinct households, the people
// of the household per visit as beneficiaries, per team.
func TestHomeVisitFigures(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 2300)
		from, to := s.around()
		h3, h1 := s.household(t, 3), s.household(t, 1)
		s.visit(t, h3, s.now.Add(-time.Hour), s.team.ID)
		s.visit(t, h3, s.now.Add(-2*time.Hour), 0)
		s.visit(t, h1, s.now.Add(-3*time.Hour), s.team.ID)
		s.visit(t, h1, from.Add(-time.Hour), s.team.ID) // before the range
		got := s.stats(t, from, to)
		if got.HomeVisits != 3 || got.HouseholdsVisited != 2 || got.BeneficiaryPersonTimes != 7 {
			t.Fatalf("visits %d households %d beneficiaries %d; want 3 2 7", got.HomeVisits, got.HouseholdsVisited, got.BeneficiaryPersonTimes)
		}
		if len(got.ByTeam) != 1 || got.ByTeam[0].HomeVisits != 2 {
			t.Fatalf("byTeam %+v", got.ByTeam)
		}
		// The volunteer's 45 minutes of each visit are service time, under
		// the visit's team when it has one.
		if got.ServiceHours != 2.25 || got.ByTeam[0].ServiceHours != 1.5 {
			t.Fatalf("service hours %v, team's %v; want 2.25 and 1.5", got.ServiceHours, got.ByTeam[0].ServiceHours)
		}
	})
}

// TestRegisteredVolunteers: the VOLUNTEER role and a profile registered
// before the range's end; a profile without the role (it was taken away)
// does not count; the share of the resident population, 0 when it is 0.
func TestRegisteredVolunteers(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 8)
		from, to := s.around()
		e.Person(t, s.community.ID, "志愿者甲", viewer.Volunteer)
		e.Person(t, s.community.ID, "志愿者乙", viewer.Volunteer)
		late, _ := e.Person(t, s.community.ID, "志愿者丙", viewer.Volunteer)
		if err := e.Client.VolunteerProfile.Update().Where(volunteerprofile.PersonID(late.ID)).SetRegisteredAt(to).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		former, _ := e.Person(t, s.community.ID, "志愿者丁", viewer.Volunteer)
		if err := former.Update().SetRoles([]string{string(viewer.Resident)}).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.Person(t, s.community.ID, "居民") // no role, no profile
		got := s.stats(t, from, to)
		if got.RegisteredVolunteers != 2 || got.ResidentPopulation != 8 || got.VolunteerShare != 0.25 {
			t.Fatalf("volunteers %d of %d = %v; want 2 of 8 = 0.25", got.RegisteredVolunteers, got.ResidentPopulation, got.VolunteerShare)
		}
		if got := s.stats(t, from, to.Add(time.Second)); got.RegisteredVolunteers != 3 {
			t.Fatalf("a profile registered at to counts only after it: %d", got.RegisteredVolunteers)
		}
		if err := s.community.Update().SetResidentPopulation(0).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		if got := s.stats(t, from, to); got.VolunteerShare != 0 {
			t.Fatalf("share of no residents: %v", got.VolunteerShare)
		}
	})
}

// TestStatisticsAccess: staff of the community and admins only; a bad range
// is VALIDATION_FAILED on "to"; the many-communities view is for admins,
// and its total is the sum of its communities.
func TestStatisticsAccess(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区", 100)
		other := newSite(t, e, "跃进社区", 300)
		from, to := s.around()
		_, resident := e.Person(t, s.community.ID, "居民")
		_, leader := e.Person(t, s.community.ID, "队长", viewer.TeamLeader, viewer.Volunteer)
		statsQuery(e, t, "", s.community.ID, from, to).WantCode(t, "UNAUTHENTICATED")
		statsQuery(e, t, resident, s.community.ID, from, to).WantCode(t, "FORBIDDEN")
		statsQuery(e, t, leader, s.community.ID, from, to).WantCode(t, "FORBIDDEN")
		statsQuery(e, t, other.staff, s.community.ID, from, to).WantCode(t, "FORBIDDEN")
		if r := statsQuery(e, t, s.staff, s.community.ID, to, from); r.Code() != "VALIDATION_FAILED" || r.Field() != "to" {
			t.Fatalf("reversed range: %s %s", r.Code(), r.Field())
		}
		var out struct{ CommunityStatistics Stats }
		statsQuery(e, t, other.admin, s.community.ID, from, to).Decode(t, &out)
		if out.CommunityStatistics.Community.ID != e.ID(s.community.ID) || out.CommunityStatistics.ResidentPopulation != 100 {
			t.Fatalf("admin: %+v", out.CommunityStatistics)
		}

		s.visit(t, s.household(t, 2), s.now.Add(-time.Hour), s.team.ID)
		other.visit(t, other.household(t, 5), other.now.Add(-time.Hour), other.team.ID)
		many := `query($ids: [ID!], $f: Time!, $t: Time!) { statistics(communityIDs: $ids, from: $f, to: $t) {
			total { communities homeVisits householdsVisited beneficiaryPersonTimes residentPopulation byMonth { month } }
			communities { community { id } homeVisits beneficiaryPersonTimes byTeam { team { id } homeVisits } } } }`
		vars := map[string]any{"ids": nil, "f": from.Format(time.RFC3339), "t": to.Format(time.RFC3339)}
		e.Do(t, s.staff, many, vars).WantCode(t, "FORBIDDEN")
		var city struct {
			Statistics struct {
				Total struct {
					Communities, HomeVisits, HouseholdsVisited, BeneficiaryPersonTimes, ResidentPopulation int
				}
				Communities []struct {
					Community                          struct{ ID string }
					HomeVisits, BeneficiaryPersonTimes int
					ByTeam                             []struct {
						Team       struct{ ID string }
						HomeVisits int
					}
				}
			}
		}
		e.Do(t, s.admin, many, vars).Decode(t, &city)
		tot := city.Statistics.Total
		if tot.Communities != 2 || tot.HomeVisits != 2 || tot.HouseholdsVisited != 2 || tot.BeneficiaryPersonTimes != 7 || tot.ResidentPopulation != 400 {
			t.Fatalf("total %+v", tot)
		}
		cs := city.Statistics.Communities
		if len(cs) != 2 || cs[0].Community.ID != e.ID(s.community.ID) || cs[1].BeneficiaryPersonTimes != 5 ||
			cs[1].ByTeam[0].Team.ID != e.ID(other.team.ID) {
			t.Fatalf("communities %+v", cs)
		}
		// Staff may ask for their own community in this shape.
		vars["ids"] = []string{e.ID(s.community.ID)}
		e.Do(t, s.staff, many, vars).Decode(t, &city)
		if len(city.Statistics.Communities) != 1 || city.Statistics.Total.BeneficiaryPersonTimes != 2 {
			t.Fatalf("own community: %+v", city.Statistics)
		}
		vars["ids"] = []string{e.ID(s.community.ID), e.ID(other.community.ID)}
		e.Do(t, s.staff, many, vars).WantCode(t, "FORBIDDEN")
	})
}
