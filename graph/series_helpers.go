package graph

import (
	"context"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/graph/model"
	"linli/series"
)

// activitiesByID reads the activities ids name, as the viewer, in one query.
func (r *Resolver) activitiesByID(ctx context.Context, ids []int) (map[int]*ent.Activity, error) {
	out := map[int]*ent.Activity{}
	if len(ids) == 0 {
		return out, nil
	}
	as, err := r.Client.Activity.Query().Where(activity.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		out[a.ID] = a
	}
	return out, nil
}

func refusalOf(a *ent.Activity, e *apperr.Error) *model.OccurrenceRefusal {
	r := &model.OccurrenceRefusal{Activity: a, Code: string(e.Code), Message: e.Message}
	if e.Field != "" {
		f := e.Field
		r.Field = &f
	}
	return r
}

// refusals turns the occurrences a series operation left alone into the
// API's answer.
func (r *Resolver) refusals(ctx context.Context, refused []series.Refusal) ([]*model.OccurrenceRefusal, error) {
	ids := make([]int, len(refused))
	for i, x := range refused {
		ids[i] = x.ActivityID
	}
	as, err := r.activitiesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*model.OccurrenceRefusal, 0, len(refused))
	for _, x := range refused {
		if a := as[x.ActivityID]; a != nil {
			out = append(out, refusalOf(a, x.Error))
		}
	}
	return out, nil
}

func (r *Resolver) bookings(ctx context.Context, res *series.StandingResult) (*model.RecurringSignUpPayload, error) {
	ids := make([]int, len(res.Bookings))
	for i, b := range res.Bookings {
		ids[i] = b.ActivityID
	}
	as, err := r.activitiesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &model.RecurringSignUpPayload{Standing: res.Standing, Bookings: []*model.RecurringBooking{}}
	for _, b := range res.Bookings {
		a := as[b.ActivityID]
		if a == nil {
			continue
		}
		rb := &model.RecurringBooking{Activity: a, Registration: b.Registration}
		if b.Refusal != nil {
			rb.Refusal = refusalOf(a, b.Refusal)
		}
		out.Bookings = append(out.Bookings, rb)
	}
	return out, nil
}

func (r *Resolver) cancelPayload(ctx context.Context, res *series.CancelResult, err error) (*model.CancelSeriesPayload, error) {
	if err != nil {
		return nil, err
	}
	refused, err := r.refusals(ctx, res.Refused)
	if err != nil {
		return nil, err
	}
	return &model.CancelSeriesPayload{Series: res.Series, Cancelled: res.Cancelled, Refused: refused}, nil
}
