package series

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/idem"
	"linli/store"
	"linli/viewer"
)

// CreateInput makes a series: from a template (TemplateID, with StartsAt
// the first occurrence) or from an activity (ActivityID; StartsAt nil makes
// that activity the first occurrence), repeated by Rule.
type CreateInput struct {
	TemplateID, ActivityID *int
	StartsAt               *time.Time
	Rule                   string
	RecurringSignup        bool
	StandingCap            *int
	IdempotencyKey         string
}

const opCreate = "createSeries"

// Create makes a series and materialises its first window.
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.Series, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := idem.Validate("idempotencyKey", in.IdempotencyKey); err != nil {
		return nil, err
	}
	hash := idem.Hash(opCreate, ptr(in.TemplateID), ptr(in.ActivityID), stamp(in.StartsAt), in.Rule,
		in.RecurringSignup, ptr(in.StandingCap))
	if in.IdempotencyKey != "" {
		if se, err := s.replay(ctx, v, in.IdempotencyKey, hash); se != nil || err != nil {
			return se, err
		}
	}
	if (in.TemplateID == nil) == (in.ActivityID == nil) {
		return nil, apperr.Invalid("templateID", "give exactly one of templateID and activityID")
	}
	if in.StandingCap != nil && (*in.StandingCap < 1 || *in.StandingCap > 100000) {
		return nil, apperr.Invalid("standingCap", "standingCap must be between 1 and 100000")
	}
	var p Plan
	var first *ent.Activity
	var start time.Time
	if in.TemplateID != nil {
		t, err := s.template(ctx, *in.TemplateID)
		if err != nil {
			return nil, err
		}
		if in.StartsAt == nil {
			return nil, apperr.Invalid("startsAt", "startsAt is required with a template")
		}
		p, start = planOfTemplate(t), *in.StartsAt
	} else {
		a, slots, err := s.activityWithSlots(ctx, *in.ActivityID)
		if err != nil {
			return nil, err
		}
		p, start = planOf(a, slots), a.StartsAt
		if in.StartsAt != nil {
			start = *in.StartsAt
		} else if a.SeriesID != nil {
			return nil, apperr.New(apperr.Conflict, "this activity is already an occurrence of a series")
		} else {
			first = a
		}
	}
	if y := start.UTC().Year(); y < 2000 || y > 2100 {
		return nil, apperr.Invalid("startsAt", "startsAt must be between the years 2000 and 2100")
	}
	start = start.UTC().Truncate(time.Minute)
	if _, err := ParseRule("rrule", in.Rule, start); err != nil {
		return nil, err
	}
	var se *ent.Series
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		se, err = tx.Series.Create().SetCommunityID(v.CommunityID).SetRrule(in.Rule).SetDtstart(start).
			SetTitle(p.Title).SetDescription(p.Description).SetCategory(string(p.Category)).
			SetServiceType(string(p.ServiceType)).SetNillableTeamID(p.TeamID).SetNillableVenueID(p.VenueID).
			SetDurationMinutes(p.DurationMinutes).SetCheckinOpensMinutes(p.CheckinOpensMinutes).
			SetNillableSignupOpensMinutes(p.SignupOpensMinutes).SetNillableSignupClosesMinutes(p.SignupClosesMinutes).
			SetSlots(p.Slots).SetRecurringSignup(in.RecurringSignup).SetNillableStandingCap(in.StandingCap).
			SetExdates([]time.Time{}).Save(ctx)
		if err != nil {
			return err
		}
		if first != nil {
			if err := link(ctx, tx, se, first); err != nil {
				return err
			}
		}
		if in.IdempotencyKey != "" {
			if err := idem.Remember(ctx, tx, opCreate, v.PersonID, in.IdempotencyKey, hash, []byte(strconv.Itoa(se.ID))); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: v.CommunityID, Action: ActionSeriesCreate,
			Subject: fmt.Sprintf("Series:%d", se.ID), SubjectID: &se.ID, Detail: in.Rule})
	})
	if store.IsUniqueViolation(err) && in.IdempotencyKey != "" {
		// A concurrent request with the same key won.
		if se, rerr := s.replay(ctx, v, in.IdempotencyKey, hash); se != nil || rerr != nil {
			return se, rerr
		}
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.Materialise(ctx, se.ID); err != nil {
		return nil, err
	}
	return s.get(ctx, se.ID)
}

// link makes activity a the occurrence of se at its own start, its slots
// the plan's positions in order.
func link(ctx context.Context, tx *ent.Tx, se *ent.Series, a *ent.Activity) error {
	if err := tx.Activity.UpdateOneID(a.ID).SetSeriesID(se.ID).SetOccurrenceAt(a.StartsAt.UTC()).Exec(ctx); err != nil {
		return err
	}
	for i, sl := range a.Edges.Slots {
		if err := tx.Slot.UpdateOneID(sl.ID).SetSeriesPosition(i).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// replay answers a retried createSeries.
func (s *Service) replay(ctx context.Context, v *viewer.Viewer, key string, hash []byte) (*ent.Series, error) {
	o, answer, err := idem.Check(ctx, s.client.IdempotencyKey, "idempotencyKey", opCreate, v.PersonID, key, hash)
	if err != nil || o != idem.Replay {
		return nil, err
	}
	id, err := strconv.Atoi(string(answer))
	if err != nil {
		return nil, err
	}
	return s.get(ctx, id)
}

func ptr(p *int) any {
	if p == nil {
		return "-"
	}
	return *p
}

func stamp(t *time.Time) any {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// occurrences reads the series' occurrences matching preds, in order.
func (s *Service) occurrences(ctx context.Context, seriesID int, preds ...func(*ent.ActivityQuery)) ([]*ent.Activity, error) {
	q := s.client.Activity.Query().Where(activity.SeriesID(seriesID)).
		WithSlots(func(q *ent.SlotQuery) { q.Order(ent.Asc(slot.FieldID)) }).
		Order(ent.Asc(activity.FieldOccurrenceAt))
	for _, p := range preds {
		p(q)
	}
	return q.All(ctx)
}
