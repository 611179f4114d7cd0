package statistics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/slot"
	"linli/ent/volunteerprofile"
	"linli/linlitest"
	"linli/viewer"
)

// TestFiguresEqualARecount applies random operations (activities created,
// cancelled; sign-ups; check-ins, check-outs, undos and corrections through
// the API; requests received, resolved, reopened, confirmed; home visits;
// volunteers joining and leaving) and after every few compares every
// figure and breakdown with a recount made straight from the rows here.
func TestFiguresEqualARecount(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 12))
		s := newSite(t, e, "前进社区", 2300)
		team2, err := e.Client.Team.Create().SetCommunityID(s.community.ID).SetName("文化文艺").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		from, to := s.around()
		w := &world{s: s, rng: rng, from: from, to: to, teams: []*int{nil, &s.team.ID, &team2.ID}}
		for i := range 12 {
			w.household(t)
			if i%3 == 0 {
				w.volunteer(t)
			}
		}
		ops := []func(*testing.T){w.newActivity, w.register, w.register, w.register, w.checkIn, w.checkIn, w.checkIn, w.checkIn,
			w.checkOut, w.checkOut, w.checkOut, w.undo, w.correct, w.cancel, w.request, w.request, w.resolve, w.reopen, w.confirm,
			w.visit, w.volunteer, w.retire}
		for i := range 3 {
			_, seats, doctors := s.activity(t, activity.StatusPUBLISHED, s.now.Add(-time.Duration(30+50*i)*time.Minute), activity.CategoryHALL, i > 0)
			for range 3 {
				s.register(t, seats, 1)
				s.register(t, doctors, 1)
			}
			w.newActivity(t)
		}
		for i := range 150 {
			ops[rng.IntN(len(ops))](t)
			if i%15 == 14 {
				w.compare(t)
			}
		}
		w.compare(t)
		if f := w.seen; f.ActivitiesHeld == 0 || f.ParticipantPersonTimes == 0 || f.ServiceHours == 0 || f.RequestsResolved == 0 ||
			f.HomeVisits == 0 {
			t.Fatalf("the operations exercised too little: the most seen was %+v", f)
		}
		t.Logf("final figures %+v", w.recount(t))
		// A range that cuts through the data, and one after it.
		w.from, w.to = s.now.Add(-90*time.Minute), s.now.Add(time.Hour)
		w.compare(t)
		w.from, w.to = s.now.Add(20*24*time.Hour), s.now.Add(40*24*time.Hour)
		w.compare(t)
	})
}

type world struct {
	// seen holds the largest of each figure compared (that the test
	// exercised something).
	seen     Stats
	s        *site
	rng      *rand.Rand
	from, to time.Time
	teams    []*int
}

func (w *world) pick(n int) int { return w.rng.IntN(n) }

func (w *world) newActivity(t *testing.T) {
	st := []activity.Status{activity.StatusDRAFT, activity.StatusPUBLISHED, activity.StatusPUBLISHED, activity.StatusPUBLISHED,
		activity.StatusCOMPLETED, activity.StatusCANCELLED}[w.pick(6)]
	now := w.s.now
	starts := []time.Time{
		now.Add(-time.Duration(10+w.pick(160)) * time.Minute), // open for check-in, past
		now.Add(-time.Duration(10+w.pick(160)) * time.Minute),
		now.Add(30 * time.Minute),    // future, but the door is open
		now.Add(72 * time.Hour),      // future
		w.from.Add(-2 * time.Hour),   // before the range
		now.Add(-5 * 24 * time.Hour), // earlier in the range
	}[w.pick(6)]
	cats := []activity.Category{activity.CategorySQUARE, activity.CategoryHALL, activity.CategoryFAMILY, activity.CategorySCHOOL, activity.CategoryONLINE}
	a, _, _ := w.s.activity(t, st, starts, cats[w.pick(len(cats))], false)
	types := []activity.ServiceType{activity.ServiceTypeCULTURE, activity.ServiceTypeHEALTH, activity.ServiceTypeLEGAL}
	u := a.Update().SetServiceType(types[w.pick(len(types))])
	if tm := w.teams[w.pick(len(w.teams))]; tm != nil {
		u.SetTeamID(*tm)
	}
	if err := u.Exec(w.s.e.Sys()); err != nil {
		t.Fatal(err)
	}
}

func (w *world) sys() *ent.Client { return w.s.e.Client }

func (w *world) register(t *testing.T) {
	slots, err := w.sys().Slot.Query().All(w.s.e.Sys())
	if err != nil || len(slots) == 0 {
		t.Fatal(err)
	}
	w.s.register(t, slots[w.pick(len(slots))], 1+w.pick(3))
}

// registrations of activities whose door is open now, in status st.
func (w *world) open(t *testing.T, st ...registration.Status) (*ent.Registration, *ent.Activity) {
	now := time.Now()
	regs, err := w.sys().Registration.Query().Where(registration.StatusIn(st...),
		registration.HasActivityWith(activity.StartsAtLT(now.Add(50*time.Minute)), activity.StartsAtGT(now.Add(-170*time.Minute)),
			activity.StatusIn(activity.StatusPUBLISHED, activity.StatusCOMPLETED))).
		WithActivity().All(w.s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) == 0 {
		return nil, nil
	}
	r := regs[w.pick(len(regs))]
	return r, r.Edges.Activity
}

func (w *world) checkIn(t *testing.T) {
	r, a := w.open(t, registration.StatusCONFIRMED)
	if r == nil {
		return
	}
	at := a.StartsAt.Add(time.Duration(w.pick(5)) * time.Minute)
	if now := time.Now(); at.After(now) {
		at = now
	}
	w.s.manual(t, a, r, "IN", at, fmt.Sprintf("p-%d", seq.Add(1)))
}

func (w *world) checkOut(t *testing.T) {
	r, a := w.open(t, registration.StatusCHECKED_IN)
	if r == nil || r.CheckedInAt == nil {
		return
	}
	span := time.Since(*r.CheckedInAt)
	at := r.CheckedInAt.Add(time.Duration(w.rng.Float64() * float64(span)))
	w.s.manual(t, a, r, "OUT", at, fmt.Sprintf("p-%d", seq.Add(1)))
}

func (w *world) undo(t *testing.T) {
	r, _ := w.open(t, registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT)
	if r != nil {
		w.s.undo(t, r)
	}
}

func (w *world) correct(t *testing.T) {
	recs, err := w.sys().ServiceRecord.Query().All(w.s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		return
	}
	r := recs[w.pick(len(recs))]
	start := r.StartedAt.Add(time.Duration(w.pick(121)-60) * time.Minute)
	w.s.correct(t, r.ID, start, start.Add(time.Duration(w.pick(300))*time.Minute))
}

func (w *world) cancel(t *testing.T) {
	if w.pick(3) > 0 {
		return // rarer than the rest: it takes everything of an activity away
	}
	as, err := w.sys().Activity.Query().Where(activity.StatusEQ(activity.StatusPUBLISHED)).All(w.s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if len(as) > 0 {
		w.s.cancel(t, as[w.pick(len(as))])
	}
}

func (w *world) request(t *testing.T) {
	created := w.s.now.Add(-time.Duration(w.pick(14*24*60)) * time.Minute)
	r := req{created: created, kind: []request.Kind{request.KindREPAIR, request.KindDISPUTE, request.KindLEGAL}[w.pick(3)]}
	if w.pick(3) > 0 {
		r.accepted = ptr(created.Add(time.Duration(w.pick(48*60)) * time.Minute))
		r.status = request.StatusACCEPTED
	}
	w.s.request(t, r)
}

func (w *world) someRequest(t *testing.T, st ...request.Status) *ent.Request {
	rs, err := w.sys().Request.Query().Where(request.StatusIn(st...)).All(w.s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		return nil
	}
	return rs[w.pick(len(rs))]
}

func (w *world) resolve(t *testing.T) {
	r := w.someRequest(t, request.StatusSUBMITTED, request.StatusACCEPTED, request.StatusIN_PROGRESS)
	if r == nil {
		return
	}
	outcomes := []request.Outcome{request.OutcomeSOLVED, request.OutcomeMEDIATED, request.OutcomeREFERRED, request.OutcomeEXPLAINED, request.OutcomeUNRESOLVED}
	at := r.CreatedAt.Add(time.Duration(w.pick(5*24*60)) * time.Minute)
	if err := r.Update().SetStatus(request.StatusRESOLVED).SetOutcome(outcomes[w.pick(len(outcomes))]).SetResolvedAt(at).Exec(w.s.e.Sys()); err != nil {
		t.Fatal(err)
	}
}

// reopen sends a resolved request back into progress (its old resolution
// time stays on the row).
func (w *world) reopen(t *testing.T) {
	if r := w.someRequest(t, request.StatusRESOLVED, request.StatusCLOSED); r != nil {
		if err := r.Update().SetStatus(request.StatusIN_PROGRESS).Exec(w.s.e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) confirm(t *testing.T) {
	r := w.someRequest(t, request.StatusRESOLVED)
	if r == nil {
		return
	}
	u := r.Update().SetStatus(request.StatusCLOSED).SetClosedAt(r.ResolvedAt.Add(time.Duration(w.pick(3*24*60)) * time.Minute))
	if w.pick(4) > 0 {
		u.SetSatisfaction(1 + w.pick(5))
	} else {
		u.ClearSatisfaction().SetConfirmedByStaff(true)
	}
	if err := u.Exec(w.s.e.Sys()); err != nil {
		t.Fatal(err)
	}
}

func (w *world) household(t *testing.T) { w.s.household(t, 1+w.pick(5)) }

func (w *world) visit(t *testing.T) {
	hs, err := w.sys().Household.Query().All(w.s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	at := w.s.now.Add(-time.Duration(w.pick(15*24*60)) * time.Minute)
	teamID := 0
	if tm := w.teams[w.pick(len(w.teams))]; tm != nil {
		teamID = *tm
	}
	w.s.visit(t, hs[w.pick(len(hs))], at, teamID)
}

func (w *world) volunteer(t *testing.T) {
	p, _ := w.s.e.Person(t, w.s.community.ID, fmt.Sprintf("志愿者%d", seq.Add(1)), viewer.Volunteer)
	if w.pick(4) == 0 {
		if err := w.sys().VolunteerProfile.Update().Where(volunteerprofile.PersonID(p.ID)).SetRegisteredAt(w.to.Add(time.Hour)).Exec(w.s.e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) retire(t *testing.T) {
	ps, err := w.sys().Person.Query().All(w.s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	p := ps[w.pick(len(ps))]
	if slices.Contains(p.Roles, string(viewer.Volunteer)) && !slices.Contains(p.Roles, string(viewer.Coordinator)) {
		if err := p.Update().SetRoles([]string{string(viewer.Resident)}).Exec(w.s.e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
}

// compare asks for the figures and recounts them from the rows.
func (w *world) compare(t *testing.T) {
	t.Helper()
	got := w.s.stats(t, w.from, w.to)
	want := w.recount(t)
	norm := func(x Stats) Stats {
		slices.SortFunc(x.ByTeam, func(a, b teamRow) int {
			return cmpString(a.Team.ID, b.Team.ID)
		})
		return x
	}
	got, want = norm(got), norm(want)
	w.seen.ActivitiesHeld = max(w.seen.ActivitiesHeld, want.ActivitiesHeld)
	w.seen.ParticipantPersonTimes = max(w.seen.ParticipantPersonTimes, want.ParticipantPersonTimes)
	w.seen.ServiceHours = max(w.seen.ServiceHours, want.ServiceHours)
	w.seen.RequestsResolved = max(w.seen.RequestsResolved, want.RequestsResolved)
	w.seen.HomeVisits = max(w.seen.HomeVisits, want.HomeVisits)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("figures differ from the recount for [%s, %s)\n got %+v\nwant %+v", w.from, w.to, got, want)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// recount computes every figure from the rows, the plain way.
func (w *world) recount(t *testing.T) Stats {
	t.Helper()
	ctx, c, e := w.s.e.Sys(), w.sys(), w.s.e
	in := func(at time.Time) bool { return !at.Before(w.from) && at.Before(w.to) }
	cst := time.FixedZone("CST", 8*3600)
	month := func(at time.Time) string { return at.In(cst).Format("2006-01") }
	hrs := func(m int) float64 { return math.Round(float64(m)/60*100) / 100 }
	rate := func(n, d int) float64 {
		if d == 0 {
			return 0
		}
		return math.Round(float64(n)/float64(d)*10000) / 10000
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	cm, err := c.Community.Get(ctx, w.s.community.ID)
	must(err)
	acts, err := c.Activity.Query().All(ctx)
	must(err)
	slots, err := c.Slot.Query().All(ctx)
	must(err)
	regs, err := c.Registration.Query().All(ctx)
	must(err)
	recs, err := c.ServiceRecord.Query().All(ctx)
	must(err)
	visits, err := c.HomeVisit.Query().WithHousehold().All(ctx)
	must(err)
	reqs, err := c.Request.Query().All(ctx)
	must(err)
	people, err := c.Person.Query().WithVolunteerProfile().All(ctx)
	must(err)

	var out Stats
	out.Community.ID = e.ID(cm.ID)
	out.ResidentPopulation = cm.ResidentPopulation
	type teamFig struct{ held, vol, minutes, visits int }
	teams := map[int]*teamFig{}
	team := func(id int) *teamFig {
		if teams[id] == nil {
			teams[id] = &teamFig{}
		}
		return teams[id]
	}
	cats := map[string][2]int{}
	types := map[string][2]int{}
	months := map[string][3]int{}
	now := time.Now()
	held := map[int]*ent.Activity{}
	for _, a := range acts {
		if (a.Status == activity.StatusPUBLISHED || a.Status == activity.StatusCOMPLETED) && in(a.StartsAt) && a.StartsAt.Before(now) {
			held[a.ID] = a
			out.ActivitiesHeld++
			x := cats[string(a.Category)]
			x[0]++
			cats[string(a.Category)] = x
			y := types[string(a.ServiceType)]
			y[0]++
			types[string(a.ServiceType)] = y
			m := months[month(a.StartsAt)]
			m[0]++
			months[month(a.StartsAt)] = m
			if a.TeamID != nil {
				team(*a.TeamID).held++
			}
		}
	}
	kind := map[int]slot.Kind{}
	for _, s := range slots {
		kind[s.ID] = s.Kind
	}
	for _, r := range regs {
		a := held[r.ActivityID]
		if a == nil || (r.Status != registration.StatusCHECKED_IN && r.Status != registration.StatusCHECKED_OUT) {
			continue
		}
		if kind[r.SlotID] == slot.KindVOLUNTEER {
			out.VolunteerPersonTimes++
			if a.TeamID != nil {
				team(*a.TeamID).vol++
			}
		} else {
			out.AttendeePersonTimes++
		}
		x := cats[string(a.Category)]
		x[1]++
		cats[string(a.Category)] = x
		y := types[string(a.ServiceType)]
		y[1]++
		types[string(a.ServiceType)] = y
		m := months[month(a.StartsAt)]
		m[1]++
		months[month(a.StartsAt)] = m
	}
	out.ParticipantPersonTimes = out.AttendeePersonTimes + out.VolunteerPersonTimes
	minutes := 0
	teamOf := map[int]*int{}
	for _, a := range acts {
		teamOf[a.ID] = a.TeamID
	}
	visitTeam := map[int]*int{}
	for _, v := range visits {
		visitTeam[v.ID] = v.TeamID
	}
	for _, r := range recs {
		if in(r.StartedAt) {
			minutes += r.Minutes
			switch {
			case r.ActivityID != nil && teamOf[*r.ActivityID] != nil:
				team(*teamOf[*r.ActivityID]).minutes += r.Minutes
			case r.HomeVisitID != nil && visitTeam[*r.HomeVisitID] != nil:
				team(*visitTeam[*r.HomeVisitID]).minutes += r.Minutes
			}
		}
	}
	out.ServiceHours = hrs(minutes)
	visitedPeople := 0
	households := map[int]bool{}
	for _, v := range visits {
		if in(v.VisitedAt) {
			out.HomeVisits++
			visitedPeople += v.Edges.Household.Size
			households[v.HouseholdID] = true
			if v.TeamID != nil {
				team(*v.TeamID).visits++
			}
		}
	}
	out.HouseholdsVisited = len(households)
	responded, forSomeone, rated, satisfied := 0, 0, 0, 0
	for _, r := range reqs {
		if in(r.CreatedAt) {
			out.RequestsReceived++
			if r.AcceptedAt != nil && r.AcceptedAt.Sub(r.CreatedAt) <= 24*time.Hour {
				responded++
			}
			m := months[month(r.CreatedAt)]
			m[2]++
			months[month(r.CreatedAt)] = m
		}
		if r.ResolvedAt != nil && in(*r.ResolvedAt) && (r.Status == request.StatusRESOLVED || r.Status == request.StatusCLOSED) &&
			r.Outcome != nil && *r.Outcome != request.OutcomeUNRESOLVED {
			out.RequestsResolved++
			if *r.Outcome == request.OutcomeSOLVED || *r.Outcome == request.OutcomeMEDIATED {
				forSomeone++
			}
			if r.Kind == request.KindDISPUTE && *r.Outcome == request.OutcomeMEDIATED {
				out.DisputesMediated++
			}
		}
		if r.Status == request.StatusCLOSED && r.ClosedAt != nil && in(*r.ClosedAt) && r.Satisfaction != nil {
			rated++
			if *r.Satisfaction >= 4 {
				satisfied++
			}
		}
	}
	out.BeneficiaryPersonTimes = out.AttendeePersonTimes + visitedPeople + forSomeone
	for _, p := range people {
		if slices.Contains(p.Roles, string(viewer.Volunteer)) && p.Edges.VolunteerProfile != nil && p.Edges.VolunteerProfile.RegisteredAt.Before(w.to) {
			out.RegisteredVolunteers++
		}
	}
	out.VolunteerShare = rate(out.RegisteredVolunteers, out.ResidentPopulation)
	out.ResponseRate = rate(responded, out.RequestsReceived)
	out.ResolutionRate = rate(out.RequestsResolved, out.RequestsReceived)
	out.SatisfactionRate = rate(satisfied, rated)

	for _, c := range []string{"SQUARE", "HALL", "FAMILY", "SCHOOL", "ONLINE"} {
		out.ByCategory = append(out.ByCategory, catRow{c, cats[c][0], cats[c][1]})
	}
	for _, s := range []string{"APPEALS", "POVERTY_RELIEF", "CULTURE", "COUNSELING", "LEGAL", "HEALTH", "EDUCATION", "EMPLOYMENT"} {
		out.ByServiceType = append(out.ByServiceType, typeRow{s, types[s][0], types[s][1]})
	}
	out.ByTeam = nil
	for id, f := range teams {
		out.ByTeam = append(out.ByTeam, teamRow{struct{ ID string }{e.ID(id)}, f.held, f.vol, f.visits, hrs(f.minutes)})
	}
	if out.ByTeam == nil {
		out.ByTeam = []teamRow{}
	}
	f := w.from.In(cst)
	for m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, cst); m.Before(w.to); m = m.AddDate(0, 1, 0) {
		k := m.Format("2006-01")
		out.ByMonth = append(out.ByMonth, monthRow{k, months[k][0], months[k][1], months[k][2]})
	}
	return out
}
