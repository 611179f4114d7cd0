package statistics_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// site is a community with a coordinator, an admin and a team.
type site struct {
	e         *linlitest.Env
	community *ent.Community
	staff     string
	staffID   int
	admin     string
	team      *ent.Team
	now       time.Time
	// visitors are the volunteers visits are recorded with (made on first
	// use, and another when all are busy: one's service never overlaps),
	// with the times each serves.
	visitors []visitor
}

type visitor struct {
	id   int
	busy [][2]time.Time
}

func newSite(t *testing.T, e *linlitest.Env, name string, population int) *site {
	t.Helper()
	c := e.Community(t, name)
	c, err := c.Update().SetResidentPopulation(population).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	staff, token := e.Person(t, c.ID, "社工"+name, viewer.Coordinator)
	_, admin := e.Person(t, c.ID, "管理员"+name, viewer.Admin)
	team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName("医疗健康").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return &site{e: e, community: c, staff: token, staffID: staff.ID, admin: admin, team: team, now: time.Now().UTC()}
}

// activity makes an activity of status st starting at starts, with an
// attendee slot and a volunteer slot.
func (s *site) activity(t *testing.T, st activity.Status, starts time.Time, cat activity.Category, team bool) (*ent.Activity, *ent.Slot, *ent.Slot) {
	t.Helper()
	a, slots := s.e.Activity(t, s.community.ID, linlitest.ActivitySpec{
		Title: "义诊", Category: cat, ServiceType: activity.ServiceTypeHEALTH, Status: st,
		StartsAt: starts.UTC().Truncate(time.Second),
		Slots: []linlitest.SlotSpec{
			{Name: "座位", Capacity: 100, MaxSeats: 3},
			{Name: "医生", Kind: slot.KindVOLUNTEER, Capacity: 100},
		},
	})
	if team {
		var err error
		if a, err = a.Update().SetTeamID(s.team.ID).Save(s.e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
	return a, slots[0], slots[1]
}

var seq atomic.Int64

func code() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// register makes a confirmed registration of a new person in sl (the
// sign-up API is not what is measured here).
func (s *site) register(t *testing.T, sl *ent.Slot, seats int) *ent.Registration {
	t.Helper()
	p, _ := s.e.Person(t, s.community.ID, fmt.Sprintf("居民%d", seq.Add(1)))
	r, err := s.e.Client.Registration.Create().SetCommunityID(s.community.ID).SetSlotID(sl.ID).SetActivityID(sl.ActivityID).
		SetPersonID(p.ID).SetStatus(registration.StatusCONFIRMED).SetSeats(seats).SetCheckInCode(code()).Save(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.e.Client.Slot.UpdateOneID(sl.ID).AddTaken(seats).Save(s.e.Sys()); err != nil {
		t.Fatal(err)
	}
	return r
}

// manual checks a registration in (kind IN) or out (OUT) through the API,
// at a given time, under nonce; it returns the status answered.
func (s *site) manual(t *testing.T, a *ent.Activity, r *ent.Registration, kind string, at time.Time, nonce string) string {
	t.Helper()
	var out struct{ ManualCheckIn struct{ Status string } }
	s.e.Do(t, s.staff, `mutation($in: ManualCheckInInput!) { manualCheckIn(input: $in) { status } }`, map[string]any{"in": map[string]any{
		"activityID": s.e.ID(a.ID), "kind": kind, "nonce": nonce, "registrationID": s.e.ID(r.ID), "at": at.UTC().Format(time.RFC3339Nano),
	}}).Decode(t, &out)
	return out.ManualCheckIn.Status
}

func (s *site) checkIn(t *testing.T, a *ent.Activity, r *ent.Registration, at time.Time) {
	t.Helper()
	if st := s.manual(t, a, r, "IN", at, fmt.Sprintf("in-%d", seq.Add(1))); st != "OK" {
		t.Fatalf("check-in: %s", st)
	}
}

func (s *site) checkOut(t *testing.T, a *ent.Activity, r *ent.Registration, at time.Time) {
	t.Helper()
	if st := s.manual(t, a, r, "OUT", at, fmt.Sprintf("out-%d", seq.Add(1))); st != "OK" {
		t.Fatalf("check-out: %s", st)
	}
}

func (s *site) undo(t *testing.T, r *ent.Registration) {
	t.Helper()
	s.e.Do(t, s.staff, `mutation($r: ID!) { undoCheckIn(registrationID: $r, reason: "扫错了") { id } }`,
		map[string]any{"r": s.e.ID(r.ID)}).Decode(t, &struct{}{})
}

func (s *site) correct(t *testing.T, recordID int, from, to time.Time) {
	t.Helper()
	s.e.Do(t, s.staff, `mutation($id: ID!, $in: ServiceRecordCorrection!) { correctServiceRecord(id: $id, input: $in) { id } }`,
		map[string]any{"id": s.e.ID(recordID), "in": map[string]any{
			"startedAt": from.UTC().Format(time.RFC3339Nano), "endedAt": to.UTC().Format(time.RFC3339Nano), "reason": "补正时间"}}).Decode(t, &struct{}{})
}

func (s *site) cancel(t *testing.T, a *ent.Activity) {
	t.Helper()
	s.e.Do(t, s.staff, `mutation($id: ID!) { cancelActivity(id: $id, reason: "下雨") { id } }`,
		map[string]any{"id": s.e.ID(a.ID)}).Decode(t, &struct{}{})
}

// household makes a household of size people.
func (s *site) household(t *testing.T, size int) *ent.Household {
	t.Helper()
	h, err := s.e.Client.Household.Create().SetCommunityID(s.community.ID).
		SetAddress(fmt.Sprintf("上码头小区%d栋", seq.Add(1))).SetSize(size).Save(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// visit records a home visit of 45 minutes through recordHomeVisit, as
// staff, with one volunteer of the community (so its minutes become a
// service record), for team teamID (0: none).
func (s *site) visit(t *testing.T, h *ent.Household, at time.Time, teamID int) *ent.HomeVisit {
	t.Helper()
	at = at.UTC().Truncate(time.Second)
	end := at.Add(45 * time.Minute)
	free := -1
	for i, v := range s.visitors {
		if !slices.ContainsFunc(v.busy, func(b [2]time.Time) bool { return b[0].Before(end) && b[1].After(at) }) {
			free = i
			break
		}
	}
	if free < 0 {
		p, _ := s.e.Person(t, s.community.ID, fmt.Sprintf("探访志愿者%d", seq.Add(1)), viewer.Volunteer)
		s.visitors, free = append(s.visitors, visitor{id: p.ID}), len(s.visitors)
	}
	s.visitors[free].busy = append(s.visitors[free].busy, [2]time.Time{at, end})
	in := map[string]any{
		"householdID": s.e.ID(h.ID), "kind": "CARE_VISIT", "visitedAt": at,
		"minutes": 45, "volunteerIDs": []string{s.e.ID(s.visitors[free].id)},
	}
	if teamID != 0 {
		in["teamID"] = s.e.ID(teamID)
	}
	var out struct{ RecordHomeVisit struct{ ID string } }
	s.e.Do(t, s.staff, `mutation($in: RecordHomeVisitInput!) { recordHomeVisit(input: $in) { id } }`,
		map[string]any{"in": in}).Decode(t, &out)
	v, err := s.e.Client.HomeVisit.Get(s.e.Sys(), s.e.IntID(t, out.RecordHomeVisit.ID))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// req is a request as the rows hold it.
type req struct {
	kind                       request.Kind
	status                     request.Status
	created                    time.Time
	accepted, resolved, closed *time.Time
	outcome                    *request.Outcome
	satisfaction               *int
}

func (s *site) request(t *testing.T, r req) *ent.Request {
	t.Helper()
	if r.kind == "" {
		r.kind = request.KindREPAIR
	}
	if r.status == "" {
		r.status = request.StatusSUBMITTED
	}
	n := int(seq.Add(1))
	row, err := s.e.Client.Request.Create().SetCommunityID(s.community.ID).SetNumber(fmt.Sprintf("QJ-%d", n)).
		SetYear(2026).SetSeq(n).SetKind(r.kind).SetChannel(request.ChannelPHONE).SetStatus(r.status).
		SetTitle("楼道灯坏了").SetCreatedAt(r.created).SetNillableAcceptedAt(r.accepted).
		SetNillableResolvedAt(r.resolved).SetNillableClosedAt(r.closed).SetNillableOutcome(r.outcome).
		SetNillableSatisfaction(r.satisfaction).Save(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func ptr[T any](v T) *T { return &v }

// Stats is CommunityStatistics as JSON.
type Stats struct {
	Community                                                                           struct{ ID string }
	ActivitiesHeld, ParticipantPersonTimes, AttendeePersonTimes, VolunteerPersonTimes   int
	BeneficiaryPersonTimes                                                              int
	ServiceHours                                                                        float64
	RegisteredVolunteers, ResidentPopulation                                            int
	VolunteerShare                                                                      float64
	RequestsReceived, RequestsResolved, DisputesMediated, HomeVisits, HouseholdsVisited int
	ResponseRate, ResolutionRate, SatisfactionRate                                      float64
	ByCategory                                                                          []catRow
	ByServiceType                                                                       []typeRow
	ByTeam                                                                              []teamRow
	ByMonth                                                                             []monthRow
}

type catRow struct {
	Category                               string
	ActivitiesHeld, ParticipantPersonTimes int
}

type typeRow struct {
	ServiceType                            string
	ActivitiesHeld, ParticipantPersonTimes int
}

type teamRow struct {
	Team                                             struct{ ID string }
	ActivitiesHeld, VolunteerPersonTimes, HomeVisits int
	ServiceHours                                     float64
}

type monthRow struct {
	Month                                                    string
	ActivitiesHeld, ParticipantPersonTimes, RequestsReceived int
}

const statsFields = `community { id } activitiesHeld participantPersonTimes attendeePersonTimes volunteerPersonTimes
	beneficiaryPersonTimes serviceHours registeredVolunteers residentPopulation volunteerShare
	requestsReceived requestsResolved disputesMediated homeVisits householdsVisited
	responseRate resolutionRate satisfactionRate
	byCategory { category activitiesHeld participantPersonTimes }
	byServiceType { serviceType activitiesHeld participantPersonTimes }
	byTeam { team { id } activitiesHeld volunteerPersonTimes serviceHours homeVisits }
	byMonth { month activitiesHeld participantPersonTimes requestsReceived }`

func statsQuery(e *linlitest.Env, t *testing.T, token string, cid int, from, to time.Time) *linlitest.Result {
	return e.Do(t, token, `query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) { `+statsFields+` } }`,
		map[string]any{"c": e.ID(cid), "f": from.UTC().Format(time.RFC3339Nano), "t": to.UTC().Format(time.RFC3339Nano)})
}

// stats asks for the site's figures of [from, to) as its staff.
func (s *site) stats(t *testing.T, from, to time.Time) Stats {
	t.Helper()
	var out struct{ CommunityStatistics Stats }
	statsQuery(s.e, t, s.staff, s.community.ID, from, to).Decode(t, &out)
	return out.CommunityStatistics
}

// around is a range of ten days either side of now.
func (s *site) around() (time.Time, time.Time) {
	return s.now.Add(-10 * 24 * time.Hour), s.now.Add(10 * 24 * time.Hour)
}
