package statistics

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"linli/apperr"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/homevisit"
	"linli/ent/household"
	"linli/ent/person"
	"linli/ent/predicate"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/servicerecord"
	"linli/ent/slot"
	"linli/ent/team"
	"linli/ent/volunteerprofile"
	"linli/viewer"
)

// The counting rules (API.md "statistics"; README "Statistics").
const (
	// ResponseWindow: a request accepted within it of its creation was
	// responded to in time.
	ResponseWindow = 24 * time.Hour
	// SatisfiedFrom is the lowest rating (1..5) that counts as satisfied.
	SatisfiedFrom = 4
	// MaxRange bounds [from, to): ten years and a leap day or three.
	MaxRange = 3660 * 24 * time.Hour
)

// heldStatuses are the statuses of an activity that took place: published
// (and possibly completed) and not cancelled. A draft never did.
var heldStatuses = []activity.Status{activity.StatusPUBLISHED, activity.StatusCOMPLETED}

// checkedIn are the registration statuses of a check-in that stands: an
// undone check-in went back to CONFIRMED; a check-out keeps its check-in.
var checkedIn = []registration.Status{registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT}

// resolvedOutcomes are the outcomes of a resolved request (not UNRESOLVED);
// forSomeone those whose resolution benefited a resident.
var (
	resolvedStatuses = []request.Status{request.StatusRESOLVED, request.StatusCLOSED}
	resolvedOutcomes = []request.Outcome{request.OutcomeSOLVED, request.OutcomeMEDIATED, request.OutcomeREFERRED, request.OutcomeEXPLAINED}
)

func forSomeone(o request.Outcome) bool {
	return o == request.OutcomeSOLVED || o == request.OutcomeMEDIATED
}

// Service computes figures.
type Service struct {
	Client *ent.Client
	// Now is the clock ("not in the future"); nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Community returns one community's figures for [from, to), for its staff
// and platform admins.
func (s *Service) Community(ctx context.Context, communityID int, from, to time.Time) (*Figures, error) {
	if err := authz.Statistics(viewer.FromContext(ctx), communityID); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	figs, err := s.compute(ctx, []int{communityID}, from, to)
	if err != nil {
		return nil, err
	}
	if len(figs) == 0 {
		return nil, apperr.New(apperr.NotFound, "no such community")
	}
	return figs[0], nil
}

// Many returns the figures of communities (all when ids is nil), each and
// summed, for platform admins.
func (s *Service) Many(ctx context.Context, ids []int, from, to time.Time) (*City, error) {
	v := viewer.FromContext(ctx)
	var err error
	if ids == nil {
		err = authz.AllStatistics(v)
	} else {
		err = authz.Statistics(v, ids...)
	}
	if err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	if ids != nil && len(ids) == 0 {
		return &City{Total: Sum(from, to, nil), Communities: []*Figures{}}, nil
	}
	figs, err := s.compute(ctx, ids, from, to)
	if err != nil {
		return nil, err
	}
	return &City{Total: Sum(from, to, figs), Communities: figs}, nil
}

func checkRange(from, to time.Time) error {
	switch {
	case !to.After(from):
		return apperr.Invalid("to", "to must be after from")
	case to.Sub(from) > MaxRange:
		return apperr.Invalid("to", "the range may be at most ten years")
	}
	return nil
}

// compute returns the figures of the communities ids (nil: all), ordered
// by community ID, in a fixed number of grouped queries whatever their
// number. The queries are independent and run concurrently; their rows
// are then added up in one goroutine. It reads as the caller: the privacy
// rules still apply.
func (s *Service) compute(ctx context.Context, ids []int, from, to time.Time) ([]*Figures, error) {
	from, to = from.UTC(), to.UTC()
	c := s.Client
	inCommunity := func(field string) func(*sql.Selector) {
		return func(sel *sql.Selector) {
			if ids != nil {
				sel.Where(sql.InInts(sel.C(field), ids...))
			}
		}
	}
	// Activities held: published, not cancelled, started in range and not
	// in the future.
	heldUntil := to
	if now := s.now().UTC(); now.Before(heldUntil) {
		heldUntil = now
	}
	held := []predicate.Activity{
		predicate.Activity(inCommunity(activity.FieldCommunityID)),
		activity.StatusIn(heldStatuses...),
		activity.StartsAtGTE(from), activity.StartsAtLT(heldUntil),
	}

	var (
		comms []*ent.Community
		acts  []*ent.Activity
		// Check-ins of held activities per activity, by slot kind: one per
		// registration that stands checked in (or out).
		checkIns []struct {
			ActivityID int       `json:"activity_id"`
			Kind       slot.Kind `json:"kind"`
			N          int       `json:"n"`
		}
		minutes []struct {
			CommunityID int  `json:"community_id"`
			TeamID      *int `json:"team_id"`
			Minutes     int  `json:"minutes"`
		}
		visits []struct {
			CommunityID int  `json:"community_id"`
			TeamID      *int `json:"team_id"`
			N           int  `json:"n"`
			People      int  `json:"people"`
		}
		households []struct {
			CommunityID int `json:"community_id"`
			N           int `json:"n"`
		}
		received []struct {
			CommunityID int        `json:"community_id"`
			CreatedAt   time.Time  `json:"created_at"`
			AcceptedAt  *time.Time `json:"accepted_at"`
		}
		resolved []struct {
			CommunityID int             `json:"community_id"`
			Kind        request.Kind    `json:"kind"`
			Outcome     request.Outcome `json:"outcome"`
			N           int             `json:"n"`
		}
		rated []struct {
			CommunityID  int `json:"community_id"`
			Satisfaction int `json:"satisfaction"`
			N            int `json:"n"`
		}
		volunteers []struct {
			CommunityID int `json:"community_id"`
			N           int `json:"n"`
		}
	)
	err := parallel(
		func() (err error) {
			comms, err = c.Community.Query().Where(predicate.Community(inCommunity(community.FieldID))).
				Order(community.ByID()).All(ctx)
			return err
		},
		func() (err error) {
			acts, err = c.Activity.Query().Where(held...).
				Select(activity.FieldCommunityID, activity.FieldCategory, activity.FieldServiceType, activity.FieldTeamID, activity.FieldStartsAt).
				All(ctx)
			return err
		},
		func() error { return s.checkIns(ctx, inCommunity, held, &checkIns) },
		// Service minutes of records that started in range, per community
		// and team: the record's activity's organising team, or the team of
		// the home visit it was served on.
		func() error {
			return c.ServiceRecord.Query().Where(
				predicate.ServiceRecord(inCommunity(servicerecord.FieldCommunityID)),
				servicerecord.StartedAtGTE(from), servicerecord.StartedAtLT(to),
			).Modify(func(sel *sql.Selector) {
				a := sql.Table(activity.Table)
				hv := sql.Table(homevisit.Table)
				sel.LeftJoin(a).On(sel.C(servicerecord.FieldActivityID), a.C(activity.FieldID))
				sel.LeftJoin(hv).On(sel.C(servicerecord.FieldHomeVisitID), hv.C(homevisit.FieldID))
				teamOf := "COALESCE(" + a.C(activity.FieldTeamID) + ", " + hv.C(homevisit.FieldTeamID) + ")"
				sel.Select(
					sql.As(sel.C(servicerecord.FieldCommunityID), "community_id"),
					sql.As(teamOf, "team_id"),
					sql.As(sql.Sum(sel.C(servicerecord.FieldMinutes)), "minutes"),
				).GroupBy(sel.C(servicerecord.FieldCommunityID), teamOf)
			}).Scan(ctx, &minutes)
		},
		// Home visits in range per community and team, with the people of
		// the visited households (per visit).
		func() error {
			return c.HomeVisit.Query().Where(
				predicate.HomeVisit(inCommunity(homevisit.FieldCommunityID)),
				homevisit.VisitedAtGTE(from), homevisit.VisitedAtLT(to),
			).Modify(func(sel *sql.Selector) {
				h := sql.Table(household.Table)
				sel.Join(h).On(sel.C(homevisit.FieldHouseholdID), h.C(household.FieldID))
				sel.Select(
					sql.As(sel.C(homevisit.FieldCommunityID), "community_id"),
					sql.As(sel.C(homevisit.FieldTeamID), "team_id"),
					sql.As(sql.Count("*"), "n"),
					sql.As(sql.Sum(h.C(household.FieldSize)), "people"),
				).GroupBy(sel.C(homevisit.FieldCommunityID), sel.C(homevisit.FieldTeamID))
			}).Scan(ctx, &visits)
		},
		// Distinct households visited.
		func() error {
			return c.HomeVisit.Query().Where(
				predicate.HomeVisit(inCommunity(homevisit.FieldCommunityID)),
				homevisit.VisitedAtGTE(from), homevisit.VisitedAtLT(to),
			).GroupBy(homevisit.FieldCommunityID).Aggregate(func(sel *sql.Selector) string {
				return sql.As(sql.Count(sql.Distinct(sel.C(homevisit.FieldHouseholdID))), "n")
			}).Scan(ctx, &households)
		},
		// Requests received in range, with when each was accepted (the
		// response window is a difference of two columns, which Ent's
		// predicates cannot compare, so it is judged here) and its month.
		func() error {
			return c.Request.Query().Where(
				predicate.Request(inCommunity(request.FieldCommunityID)),
				request.CreatedAtGTE(from), request.CreatedAtLT(to),
			).Select(request.FieldCommunityID, request.FieldCreatedAt, request.FieldAcceptedAt).Scan(ctx, &received)
		},
		// Requests resolved in range (and still resolved or closed), by
		// kind and outcome.
		func() error {
			return c.Request.Query().Where(
				predicate.Request(inCommunity(request.FieldCommunityID)),
				request.ResolvedAtGTE(from), request.ResolvedAtLT(to),
				request.StatusIn(resolvedStatuses...), request.OutcomeIn(resolvedOutcomes...),
			).GroupBy(request.FieldCommunityID, request.FieldKind, request.FieldOutcome).
				Aggregate(ent.As(ent.Count(), "n")).Scan(ctx, &resolved)
		},
		// Confirmations in range (closed by the resident or after a
		// follow-up call) that carry a rating, by rating.
		func() error {
			return c.Request.Query().Where(
				predicate.Request(inCommunity(request.FieldCommunityID)),
				request.StatusEQ(request.StatusCLOSED),
				request.ClosedAtGTE(from), request.ClosedAtLT(to),
				request.SatisfactionNotNil(),
			).GroupBy(request.FieldCommunityID, request.FieldSatisfaction).
				Aggregate(ent.As(ent.Count(), "n")).Scan(ctx, &rated)
		},
		// Registered volunteers: the VOLUNTEER role and a volunteer
		// profile registered before to.
		func() error {
			return c.Person.Query().Where(
				predicate.Person(inCommunity(person.FieldCommunityID)),
				hasRole(viewer.Volunteer),
				person.HasVolunteerProfileWith(volunteerprofile.RegisteredAtLT(to)),
			).GroupBy(person.FieldCommunityID).Aggregate(ent.As(ent.Count(), "n")).Scan(ctx, &volunteers)
		},
	)
	if err != nil {
		return nil, err
	}

	months := monthsOf(from, to)
	figs := make([]*Figures, len(comms))
	byID := make(map[int]*acc, len(comms))
	for i, cm := range comms {
		figs[i] = &Figures{CommunityID: cm.ID, CommunityRow: cm, From: from, To: to, Communities: 1, ResidentPopulation: cm.ResidentPopulation}
		byID[cm.ID] = newAcc(figs[i], months)
	}
	actByID := make(map[int]*ent.Activity, len(acts))
	for _, a := range acts {
		actByID[a.ID] = a
		if x := byID[a.CommunityID]; x != nil {
			x.activity(a)
		}
	}
	for _, r := range checkIns {
		if a := actByID[r.ActivityID]; a != nil {
			if x := byID[a.CommunityID]; x != nil {
				x.checkIns(a, r.Kind, r.N)
			}
		}
	}
	for _, r := range minutes {
		if x := byID[r.CommunityID]; x != nil {
			x.f.ServiceMinutes += r.Minutes
			if r.TeamID != nil {
				x.team(*r.TeamID).ServiceMinutes += r.Minutes
			}
		}
	}
	for _, r := range visits {
		if x := byID[r.CommunityID]; x != nil {
			x.f.HomeVisits += r.N
			x.f.VisitedPeople += r.People
			if r.TeamID != nil {
				x.team(*r.TeamID).HomeVisits += r.N
			}
		}
	}
	for _, r := range households {
		if x := byID[r.CommunityID]; x != nil {
			x.f.HouseholdsVisited = r.N
		}
	}
	for _, r := range received {
		if x := byID[r.CommunityID]; x != nil {
			x.f.RequestsReceived++
			if r.AcceptedAt != nil && r.AcceptedAt.Sub(r.CreatedAt) <= ResponseWindow {
				x.f.RespondedInTime++
			}
			if m := x.month(r.CreatedAt); m != nil {
				m.RequestsReceived++
			}
		}
	}
	for _, r := range resolved {
		if x := byID[r.CommunityID]; x != nil {
			x.f.RequestsResolved += r.N
			if forSomeone(r.Outcome) {
				x.f.ResolvedForSomeone += r.N
			}
			if r.Kind == request.KindDISPUTE && r.Outcome == request.OutcomeMEDIATED {
				x.f.DisputesMediated += r.N
			}
		}
	}
	for _, r := range rated {
		if x := byID[r.CommunityID]; x != nil {
			x.f.RatedConfirmations += r.N
			if r.Satisfaction >= SatisfiedFrom {
				x.f.Satisfied += r.N
			}
		}
	}
	for _, r := range volunteers {
		if x := byID[r.CommunityID]; x != nil {
			x.f.RegisteredVolunteers = r.N
		}
	}
	var teamIDs []int
	for _, x := range byID {
		for id := range x.teams {
			teamIDs = append(teamIDs, id)
		}
	}
	if len(teamIDs) > 0 {
		// The breakdown's teams in one query (not one per row).
		teams, err := c.Team.Query().Where(team.IDIn(teamIDs...)).All(ctx)
		if err != nil {
			return nil, err
		}
		rows := make(map[int]*ent.Team, len(teams))
		for _, t := range teams {
			rows[t.ID] = t
		}
		for _, x := range byID {
			for id, t := range x.teams {
				t.TeamRow = rows[id]
			}
		}
	}
	for _, x := range byID {
		x.finish()
	}
	return figs, nil
}

// checkIns counts the standing check-ins of held activities per activity
// and slot kind, in one pass over the registrations.
func (s *Service) checkIns(ctx context.Context, inCommunity func(string) func(*sql.Selector), held []predicate.Activity, into any) error {
	return s.Client.Registration.Query().Where(
		predicate.Registration(inCommunity(registration.FieldCommunityID)),
		registration.StatusIn(checkedIn...),
		registration.HasActivityWith(held...),
	).Modify(func(sel *sql.Selector) {
		sl := sql.Table(slot.Table)
		sel.Join(sl).On(sel.C(registration.FieldSlotID), sl.C(slot.FieldID))
		sel.Select(
			sql.As(sel.C(registration.FieldActivityID), "activity_id"),
			sql.As(sl.C(slot.FieldKind), "kind"),
			sql.As(sql.Count("*"), "n"),
		).GroupBy(sel.C(registration.FieldActivityID), sl.C(slot.FieldKind))
	}).Scan(ctx, into)
}

// parallel runs fns concurrently and returns the first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// hasRole matches people holding role r (roles is a JSON list).
func hasRole(r viewer.Role) predicate.Person {
	return func(sel *sql.Selector) {
		sel.Where(sqljson.ValueContains(sel.C(person.FieldRoles), string(r)))
	}
}

// Sum adds figures into a total for [from, to).
func Sum(from, to time.Time, figs []*Figures) *Figures {
	t := &Figures{From: from.UTC(), To: to.UTC()}
	months := monthsOf(t.From, t.To)
	x := newAcc(t, months)
	for _, f := range figs {
		t.Communities += f.Communities
		t.ActivitiesHeld += f.ActivitiesHeld
		t.AttendeePersonTimes += f.AttendeePersonTimes
		t.VolunteerPersonTimes += f.VolunteerPersonTimes
		t.VisitedPeople += f.VisitedPeople
		t.ResolvedForSomeone += f.ResolvedForSomeone
		t.ServiceMinutes += f.ServiceMinutes
		t.RegisteredVolunteers += f.RegisteredVolunteers
		t.ResidentPopulation += f.ResidentPopulation
		t.RequestsReceived += f.RequestsReceived
		t.RespondedInTime += f.RespondedInTime
		t.RequestsResolved += f.RequestsResolved
		t.DisputesMediated += f.DisputesMediated
		t.HomeVisits += f.HomeVisits
		t.HouseholdsVisited += f.HouseholdsVisited
		t.RatedConfirmations += f.RatedConfirmations
		t.Satisfied += f.Satisfied
		for i, c := range f.ByCategory {
			x.cats[i].ActivitiesHeld += c.ActivitiesHeld
			x.cats[i].ParticipantPersonTimes += c.ParticipantPersonTimes
		}
		for i, c := range f.ByServiceType {
			x.types[i].ActivitiesHeld += c.ActivitiesHeld
			x.types[i].ParticipantPersonTimes += c.ParticipantPersonTimes
		}
		for i, m := range f.ByMonth {
			x.months[i].ActivitiesHeld += m.ActivitiesHeld
			x.months[i].ParticipantPersonTimes += m.ParticipantPersonTimes
			x.months[i].RequestsReceived += m.RequestsReceived
		}
		for _, tm := range f.ByTeam {
			y := x.team(tm.TeamID)
			y.ActivitiesHeld += tm.ActivitiesHeld
			y.VolunteerPersonTimes += tm.VolunteerPersonTimes
			y.ServiceMinutes += tm.ServiceMinutes
			y.HomeVisits += tm.HomeVisits
		}
	}
	x.finish()
	return t
}

// categories and serviceTypes are listed in every breakdown, in this order,
// zeros included (the year-end report lists all five modules).
var (
	categories = []activity.Category{activity.CategorySQUARE, activity.CategoryHALL, activity.CategoryFAMILY,
		activity.CategorySCHOOL, activity.CategoryONLINE}
	serviceTypes = []activity.ServiceType{activity.ServiceTypeAPPEALS, activity.ServiceTypePOVERTY_RELIEF,
		activity.ServiceTypeCULTURE, activity.ServiceTypeCOUNSELING, activity.ServiceTypeLEGAL,
		activity.ServiceTypeHEALTH, activity.ServiceTypeEDUCATION, activity.ServiceTypeEMPLOYMENT}
)

// acc accumulates one Figures' breakdowns.
type acc struct {
	f        *Figures
	cats     []*CategoryFigures
	types    []*ServiceTypeFigures
	months   []*MonthFigures
	monthIdx map[string]*MonthFigures
	teams    map[int]*TeamFigures
	catIdx   map[activity.Category]*CategoryFigures
	typeIdx  map[activity.ServiceType]*ServiceTypeFigures
}

func newAcc(f *Figures, months []string) *acc {
	x := &acc{f: f, monthIdx: map[string]*MonthFigures{}, teams: map[int]*TeamFigures{},
		catIdx: map[activity.Category]*CategoryFigures{}, typeIdx: map[activity.ServiceType]*ServiceTypeFigures{}}
	for _, c := range categories {
		cf := &CategoryFigures{Category: c}
		x.cats = append(x.cats, cf)
		x.catIdx[cf.Category] = cf
	}
	for _, t := range serviceTypes {
		tf := &ServiceTypeFigures{ServiceType: t}
		x.types = append(x.types, tf)
		x.typeIdx[tf.ServiceType] = tf
	}
	for _, m := range months {
		mf := &MonthFigures{Month: m}
		x.months = append(x.months, mf)
		x.monthIdx[m] = mf
	}
	return x
}

func (x *acc) month(t time.Time) *MonthFigures { return x.monthIdx[t.In(cst.Zone).Format("2006-01")] }

func (x *acc) team(id int) *TeamFigures {
	t := x.teams[id]
	if t == nil {
		t = &TeamFigures{TeamID: id}
		x.teams[id] = t
	}
	return t
}

func (x *acc) activity(a *ent.Activity) {
	x.f.ActivitiesHeld++
	x.catIdx[a.Category].ActivitiesHeld++
	x.typeIdx[a.ServiceType].ActivitiesHeld++
	if m := x.month(a.StartsAt); m != nil {
		m.ActivitiesHeld++
	}
	if a.TeamID != nil {
		x.team(*a.TeamID).ActivitiesHeld++
	}
}

func (x *acc) checkIns(a *ent.Activity, kind slot.Kind, n int) {
	if kind == slot.KindVOLUNTEER {
		x.f.VolunteerPersonTimes += n
		if a.TeamID != nil {
			x.team(*a.TeamID).VolunteerPersonTimes += n
		}
	} else {
		x.f.AttendeePersonTimes += n
	}
	x.catIdx[a.Category].ParticipantPersonTimes += n
	x.typeIdx[a.ServiceType].ParticipantPersonTimes += n
	if m := x.month(a.StartsAt); m != nil {
		m.ParticipantPersonTimes += n
	}
}

func (x *acc) finish() {
	x.f.ByCategory, x.f.ByServiceType, x.f.ByMonth = x.cats, x.types, x.months
	x.f.ByTeam = make([]*TeamFigures, 0, len(x.teams))
	for _, t := range x.teams {
		x.f.ByTeam = append(x.f.ByTeam, t)
	}
	slices.SortFunc(x.f.ByTeam, func(a, b *TeamFigures) int { return a.TeamID - b.TeamID })
}

// monthsOf lists the calendar months (CST) that [from, to) overlaps.
func monthsOf(from, to time.Time) []string {
	var out []string
	f := from.In(cst.Zone)
	m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, cst.Zone)
	for m.Before(to) {
		out = append(out, m.Format("2006-01"))
		m = m.AddDate(0, 1, 0)
	}
	return out
}
