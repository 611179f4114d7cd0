package series

import (
	"context"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/series"
	"linli/store"
	"linli/viewer"
)

// Report is what one materialisation did.
type Report struct {
	// Created counts the occurrences made; Existing those another run
	// (a replica, a retry) had made already.
	Created, Existing int
}

// Materialise makes the occurrences of series id from where it stopped up
// to the community's window ahead (at most MaxPerRun), then books its
// standing sign-ups on them. It runs as the system: the series was made
// by staff, and the job extends it. Idempotent: each occurrence is one
// transaction, and the unique (series, occurrence) index turns a twin into
// a no-op.
func (s *Service) Materialise(ctx context.Context, id int) (Report, error) {
	sys := viewer.System(ctx)
	var rep Report
	se, err := s.client.Series.Get(sys, id)
	if err != nil {
		return rep, err
	}
	weeks, err := s.client.Community.Query().Where(community.ID(se.CommunityID)).
		Select(community.FieldSeriesWindowWeeks).Ints(sys)
	if err != nil || len(weeks) == 0 {
		return rep, err
	}
	now := s.now()
	end := now.AddDate(0, 0, 7*weeks[0])
	if se.CancelledFrom != nil && se.CancelledFrom.Before(end) {
		end = *se.CancelledFrom
	}
	from := se.Dtstart
	if se.MaterialisedUntil != nil {
		from = *se.MaterialisedUntil
	}
	rule, err := ParseRule("rrule", se.Rrule, se.Dtstart)
	if err != nil {
		return rep, err
	}
	shift := time.Duration(se.StartShiftMinutes) * time.Minute
	instants := rule.Between(from, end, se.Exdates, MaxPerRun)
	p := planOfSeries(se)
	for _, at := range instants {
		if !at.Add(shift).After(now) {
			continue
		}
		made, err := s.occur(sys, se, p, at, at.Add(shift))
		if err != nil {
			return rep, err
		}
		if made {
			rep.Created++
		} else {
			rep.Existing++
		}
	}
	until := end
	if len(instants) == MaxPerRun {
		// Stopped at the bound: the next run goes on after the last.
		until = instants[len(instants)-1].Add(time.Microsecond)
	}
	if until.After(from) {
		if err := s.client.Series.Update().Where(series.ID(id),
			series.Or(series.MaterialisedUntilIsNil(), series.MaterialisedUntilLT(until))).
			SetMaterialisedUntil(until).Exec(sys); err != nil {
			return rep, err
		}
	}
	if _, err := s.bookStanding(ctx, se.ID); err != nil {
		return rep, err
	}
	return rep, nil
}

// occur makes the occurrence of se at rule instant at, starting at start,
// unless it exists. It reports whether it made it.
func (s *Service) occur(ctx context.Context, se *ent.Series, p Plan, at, start time.Time) (bool, error) {
	exists, err := s.client.Activity.Query().Where(activity.SeriesID(se.ID), activity.OccurrenceAt(at)).Exist(ctx)
	if err != nil || exists {
		return false, err
	}
	in, slots := p.at(start)
	err = store.InTx(ctx, s.client, store.TxOptions{}, func(tx *ent.Tx) error {
		a, err := tx.Activity.Create().SetInput(in).SetCommunityID(se.CommunityID).
			SetStatus(activity.StatusPUBLISHED).SetSeriesID(se.ID).SetOccurrenceAt(at).Save(ctx)
		if err != nil {
			return err
		}
		for i, sl := range slots {
			if err := tx.Slot.Create().SetCommunityID(se.CommunityID).SetActivityID(a.ID).
				SetName(sl.Name).SetKind(sl.Kind).SetCapacity(sl.Capacity).
				SetNillableStartsAt(sl.StartsAt).SetNillableEndsAt(sl.EndsAt).
				SetMaxSeatsPerSignup(sl.MaxSeatsPerSignup).SetRequiresApproval(sl.RequiresApproval).
				SetWaitlistEnabled(sl.WaitlistEnabled).SetSeriesPosition(i).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if store.IsUniqueViolation(err) {
		return false, nil // another replica or run made it
	}
	return err == nil, err
}

// MaterialiseAll extends every series not cancelled whose window has moved
// on (the periodic job).
func (s *Service) MaterialiseAll(ctx context.Context) (Report, error) {
	sys := viewer.System(ctx)
	var total Report
	ids, err := s.client.Series.Query().
		Where(series.Or(series.CancelledFromIsNil(), series.CancelledFromGT(s.now()))).IDs(sys)
	if err != nil {
		return total, err
	}
	for _, id := range ids {
		rep, err := s.Materialise(ctx, id)
		if err != nil {
			return total, err
		}
		total.Created += rep.Created
		total.Existing += rep.Existing
	}
	return total, nil
}
