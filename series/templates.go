package series

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/activitytemplate"
	"linli/ent/slot"
	"linli/organize"
	"linli/series/plan"
	"linli/store"
)

// Plan is what a template or a series makes an activity from.
type Plan struct {
	Title, Description  string
	Category            activity.Category
	ServiceType         activity.ServiceType
	TeamID, VenueID     *int
	DurationMinutes     int
	CheckinOpensMinutes int
	SignupOpensMinutes  *int
	SignupClosesMinutes *int
	Slots               []plan.Slot
}

// planOf is activity a (with its slots) as a plan.
func planOf(a *ent.Activity, slots []*ent.Slot) Plan {
	p := Plan{Title: a.Title, Description: a.Description, Category: a.Category, ServiceType: a.ServiceType,
		TeamID: a.TeamID, VenueID: a.VenueID, DurationMinutes: int(a.EndsAt.Sub(a.StartsAt) / time.Minute),
		CheckinOpensMinutes: a.CheckinOpensMinutes}
	if a.SignupOpensAt != nil {
		m := int(a.StartsAt.Sub(*a.SignupOpensAt) / time.Minute)
		p.SignupOpensMinutes = &m
	}
	if a.SignupClosesAt != nil {
		m := int(a.StartsAt.Sub(*a.SignupClosesAt) / time.Minute)
		p.SignupClosesMinutes = &m
	}
	for _, sl := range slots {
		ps := plan.Slot{Name: sl.Name, Kind: string(sl.Kind), Capacity: sl.Capacity,
			MaxSeatsPerSignup: sl.MaxSeatsPerSignup, RequiresApproval: sl.RequiresApproval, WaitlistEnabled: sl.WaitlistEnabled}
		if sl.StartsAt != nil {
			m := int(sl.StartsAt.Sub(a.StartsAt) / time.Minute)
			ps.StartOffset = &m
		}
		if sl.EndsAt != nil {
			m := int(sl.EndsAt.Sub(a.StartsAt) / time.Minute)
			ps.EndOffset = &m
		}
		p.Slots = append(p.Slots, ps)
	}
	return p
}

func planOfTemplate(t *ent.ActivityTemplate) Plan {
	return Plan{Title: t.Title, Description: t.Description, Category: activity.Category(t.Category),
		ServiceType: activity.ServiceType(t.ServiceType), TeamID: t.TeamID, VenueID: t.VenueID,
		DurationMinutes: t.DurationMinutes, CheckinOpensMinutes: t.CheckinOpensMinutes,
		SignupOpensMinutes: t.SignupOpensMinutes, SignupClosesMinutes: t.SignupClosesMinutes, Slots: t.Slots}
}

func planOfSeries(se *ent.Series) Plan {
	return Plan{Title: se.Title, Description: se.Description, Category: activity.Category(se.Category),
		ServiceType: activity.ServiceType(se.ServiceType), TeamID: se.TeamID, VenueID: se.VenueID,
		DurationMinutes: se.DurationMinutes, CheckinOpensMinutes: se.CheckinOpensMinutes,
		SignupOpensMinutes: se.SignupOpensMinutes, SignupClosesMinutes: se.SignupClosesMinutes, Slots: se.Slots}
}

// at is the plan as an activity starting at start, and its slots.
func (p Plan) at(start time.Time) (ent.CreateActivityInput, []organize.SlotInput) {
	start = start.UTC()
	in := ent.CreateActivityInput{Title: p.Title, Description: &p.Description, Category: p.Category,
		ServiceType: p.ServiceType, StartsAt: start, EndsAt: start.Add(time.Duration(p.DurationMinutes) * time.Minute),
		CheckinOpensMinutes: &p.CheckinOpensMinutes, TeamID: p.TeamID, VenueID: p.VenueID}
	if p.SignupOpensMinutes != nil {
		t := start.Add(-time.Duration(*p.SignupOpensMinutes) * time.Minute)
		in.SignupOpensAt = &t
	}
	if p.SignupClosesMinutes != nil {
		t := start.Add(-time.Duration(*p.SignupClosesMinutes) * time.Minute)
		in.SignupClosesAt = &t
	}
	slots := make([]organize.SlotInput, len(p.Slots))
	for i, ps := range p.Slots {
		slots[i] = organize.SlotInput{Name: ps.Name, Kind: slot.Kind(ps.Kind), Capacity: ps.Capacity,
			MaxSeatsPerSignup: max(ps.MaxSeatsPerSignup, 1), RequiresApproval: ps.RequiresApproval, WaitlistEnabled: ps.WaitlistEnabled}
		if ps.StartOffset != nil {
			t := start.Add(time.Duration(*ps.StartOffset) * time.Minute)
			slots[i].StartsAt = &t
		}
		if ps.EndOffset != nil {
			t := start.Add(time.Duration(*ps.EndOffset) * time.Minute)
			slots[i].EndsAt = &t
		}
	}
	return in, slots
}

// activityWithSlots reads an activity the viewer may organise, with its
// slots in order.
func (s *Service) activityWithSlots(ctx context.Context, id int) (*ent.Activity, []*ent.Slot, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.client.Activity.Query().Where(activity.ID(id)).
		WithSlots(func(q *ent.SlotQuery) { q.Order(ent.Asc(slot.FieldID)) }).Only(ctx)
	if ent.IsNotFound(err) || err == nil && a.CommunityID != v.CommunityID {
		return nil, nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if err != nil {
		return nil, nil, err
	}
	return a, a.Edges.Slots, nil
}

// SaveTemplate saves activity id (its texts, kind, team, venue, length,
// windows and slots, not its sign-ups) as a template called name.
func (s *Service) SaveTemplate(ctx context.Context, activityID int, name string) (*ent.ActivityTemplate, error) {
	a, slots, err := s.activityWithSlots(ctx, activityID)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 {
		return nil, apperr.Invalid("name", "name must be 1 to 100 characters")
	}
	p := planOf(a, slots)
	local := a.StartsAt.In(cst.Zone)
	var t *ent.ActivityTemplate
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		t, err = tx.ActivityTemplate.Create().SetCommunityID(a.CommunityID).SetName(name).
			SetStartMinute(local.Hour()*60 + local.Minute()).
			SetTitle(p.Title).SetDescription(p.Description).SetCategory(string(p.Category)).
			SetServiceType(string(p.ServiceType)).SetNillableTeamID(p.TeamID).SetNillableVenueID(p.VenueID).
			SetDurationMinutes(p.DurationMinutes).SetCheckinOpensMinutes(p.CheckinOpensMinutes).
			SetNillableSignupOpensMinutes(p.SignupOpensMinutes).SetNillableSignupClosesMinutes(p.SignupClosesMinutes).
			SetSlots(p.Slots).Save(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: a.CommunityID, Action: ActionTemplateSave,
			Subject: fmt.Sprintf("ActivityTemplate:%d", t.ID), SubjectID: &t.ID, Detail: fmt.Sprintf("from Activity:%d", a.ID)})
	})
	if err != nil {
		return nil, err
	}
	return t.Unwrap(), nil
}

// template reads a template of the viewer's community.
func (s *Service) template(ctx context.Context, id int) (*ent.ActivityTemplate, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	t, err := s.client.ActivityTemplate.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such template")
	}
	return t, err
}

// Templates lists the viewer's community's templates by name (staff).
func (s *Service) Templates(ctx context.Context) ([]*ent.ActivityTemplate, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	// The privacy rule confines the list to the viewer's community.
	return s.client.ActivityTemplate.Query().
		Order(ent.Asc(activitytemplate.FieldName), ent.Asc(activitytemplate.FieldID)).Limit(MaxListed).All(ctx)
}

// MaxListed bounds the templates and series one list returns.
const MaxListed = 500

// FromTemplate creates a draft activity from template id starting at
// startsAt, through organize.CreateActivity.
func (s *Service) FromTemplate(ctx context.Context, templateID int, startsAt time.Time) (*ent.Activity, error) {
	t, err := s.template(ctx, templateID)
	if err != nil {
		return nil, err
	}
	in, slots := planOfTemplate(t).at(startsAt)
	return s.organize.CreateActivity(ctx, in, slots)
}

// Copy creates a draft copy of activity id (slots, no sign-ups) starting
// at startsAt, through organize.CreateActivity.
func (s *Service) Copy(ctx context.Context, activityID int, startsAt time.Time) (*ent.Activity, error) {
	a, slots, err := s.activityWithSlots(ctx, activityID)
	if err != nil {
		return nil, err
	}
	in, sl := planOf(a, slots).at(startsAt)
	return s.organize.CreateActivity(ctx, in, sl)
}
