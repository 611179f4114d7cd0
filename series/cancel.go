package series

import (
	"context"
	"fmt"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/series"
	"linli/store"
	"linli/viewer"
)

// day reads a "YYYY-MM-DD" China date as its first instant.
func day(field, date string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", date, cst.Zone)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return time.Time{}, apperr.Invalid(field, "%s must be a date YYYY-MM-DD between the years 2000 and 2100", field)
	}
	return t.UTC(), nil
}

// CancelResult lists the occurrences cancelled and those refused.
type CancelResult struct {
	Series    *ent.Series
	Cancelled []*ent.Activity
	Refused   []Refusal
}

// cancelOccurrences cancels each activity through organize.Cancel (its
// registrations, notifications and events as cancelActivity's).
func (s *Service) cancelOccurrences(ctx context.Context, occs []*ent.Activity, reason string) (*CancelResult, error) {
	res := &CancelResult{Cancelled: []*ent.Activity{}, Refused: []Refusal{}}
	for _, a := range occs {
		got, err := s.organize.Cancel(ctx, a.ID, reason)
		if e, ok := apperr.As(err); ok {
			res.Refused = append(res.Refused, Refusal{ActivityID: a.ID, Error: e})
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Cancelled = append(res.Cancelled, got)
	}
	return res, nil
}

// Skip leaves out the occurrences of series id on a China date (a
// holiday): the rule's instants that day become exdates, and an occurrence
// already made is cancelled. A date the rule does not fall on is refused.
func (s *Service) Skip(ctx context.Context, id int, date, reason string) (*CancelResult, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	se, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	from, err := day("date", date)
	if err != nil {
		return nil, err
	}
	rule, err := ParseRule("rrule", se.Rrule, se.Dtstart)
	if err != nil {
		return nil, err
	}
	instants := rule.Between(from, from.Add(24*time.Hour), nil, 10)
	if len(instants) == 0 {
		return nil, apperr.Invalid("date", "the series has no occurrence on %s", date)
	}
	ex := append([]time.Time(nil), se.Exdates...)
	for _, t := range instants {
		if !skipped(t, ex) {
			ex = append(ex, t)
		}
	}
	if len(ex) > MaxExdates {
		return nil, apperr.Invalid("date", "a series skips at most %d dates", MaxExdates)
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		if err := tx.Series.UpdateOneID(se.ID).SetExdates(ex).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: v.CommunityID, Action: ActionSeriesSkip,
			Subject: fmt.Sprintf("Series:%d", se.ID), SubjectID: &se.ID, Detail: date})
	})
	if err != nil {
		return nil, err
	}
	occs, err := s.occurrences(ctx, se.ID, func(q *ent.ActivityQuery) {
		q.Where(activity.OccurrenceAtIn(instants...), activity.StatusIn(activity.StatusDRAFT, activity.StatusPUBLISHED))
	})
	if err != nil {
		return nil, err
	}
	res, err := s.cancelOccurrences(ctx, occs, reason)
	if err != nil {
		return nil, err
	}
	res.Series, err = s.get(ctx, se.ID)
	return res, err
}

// CancelFrom cancels series id from a China date: no occurrence is made
// from then on, and those made are cancelled as cancelActivity cancels.
func (s *Service) CancelFrom(ctx context.Context, id int, date, reason string) (*CancelResult, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	se, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	from, err := day("from", date)
	if err != nil {
		return nil, err
	}
	if se.CancelledFrom != nil && se.CancelledFrom.Before(from) {
		from = *se.CancelledFrom
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		if err := tx.Series.UpdateOneID(se.ID).SetCancelledFrom(from).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: v.CommunityID, Action: ActionSeriesCancel,
			Subject: fmt.Sprintf("Series:%d", se.ID), SubjectID: &se.ID, Detail: "from " + date + ": " + reason})
	})
	if err != nil {
		return nil, err
	}
	occs, err := s.occurrences(ctx, se.ID, func(q *ent.ActivityQuery) {
		q.Where(activity.OccurrenceAtGTE(from), activity.StatusIn(activity.StatusDRAFT, activity.StatusPUBLISHED))
	})
	if err != nil {
		return nil, err
	}
	res, err := s.cancelOccurrences(ctx, occs, reason)
	if err != nil {
		return nil, err
	}
	res.Series, err = s.get(ctx, se.ID)
	return res, err
}

// SetWindow sets how many weeks ahead the viewer's community's series
// materialise (1 to MaxWindowWeeks) and extends them at once.
func (s *Service) SetWindow(ctx context.Context, weeks int) (int, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return 0, err
	}
	if weeks < 1 || weeks > MaxWindowWeeks {
		return 0, apperr.Invalid("weeks", "weeks must be between 1 and %d", MaxWindowWeeks)
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		// Communities are written by the system; staff may set this one
		// setting of their own.
		if err := tx.Community.UpdateOneID(v.CommunityID).SetSeriesWindowWeeks(weeks).Exec(viewer.System(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: v.CommunityID, Action: ActionSeriesWindowSet,
			Subject: fmt.Sprintf("Community:%d", v.CommunityID), SubjectID: &v.CommunityID, Detail: fmt.Sprint(weeks)})
	})
	if err != nil {
		return 0, err
	}
	ids, err := s.client.Series.Query().Where(series.CommunityID(v.CommunityID)).IDs(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := s.Materialise(ctx, id); err != nil {
			return 0, err
		}
	}
	return weeks, nil
}

// Window is the viewer's community's window in weeks.
func (s *Service) Window(ctx context.Context) (int, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.CommunityID == 0 {
		return 0, apperr.New(apperr.Unauthenticated, "sign in")
	}
	return s.client.Community.Query().Where(community.ID(v.CommunityID)).Select(community.FieldSeriesWindowWeeks).Int(viewer.System(ctx))
}

// List lists the viewer's community's series (staff).
func (s *Service) List(ctx context.Context) ([]*ent.Series, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	return s.client.Series.Query().Order(ent.Asc(series.FieldID)).Limit(MaxListed).All(ctx)
}

// Occurrences lists a series' occurrences (all of them, in order; bounded
// by MaxCount and the window).
func (s *Service) Occurrences(ctx context.Context, se *ent.Series) ([]*ent.Activity, error) {
	return s.client.Activity.Query().Where(activity.SeriesID(se.ID)).
		Order(ent.Asc(activity.FieldOccurrenceAt)).Limit(MaxCount + MaxPerRun).All(ctx)
}
