package graph

import (
	"context"
	"time"

	"linli/auth"
	"linli/ent/activity"
	"linli/ent/predicate"
	"linli/ent/slot"
	"linli/graph/model"
	"linli/organize"
	"linli/viewer"
)

// authPayload returns a new session's payload and makes its person the
// viewer for the rest of the request.
func authPayload(ctx context.Context, s *auth.Session) *model.AuthPayload {
	if s == nil {
		return nil
	}
	viewer.SignIn(ctx, s.Viewer)
	return &model.AuthPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, Viewer: s.Person}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func slotInputs(in []*model.SlotInput) []organize.SlotInput {
	out := make([]organize.SlotInput, 0, len(in))
	for _, s := range in {
		out = append(out, organize.SlotInput{
			ID:                s.ID,
			Name:              s.Name,
			Kind:              derefOr(s.Kind, slot.KindATTENDEE),
			Capacity:          s.Capacity,
			StartsAt:          s.StartsAt,
			EndsAt:            s.EndsAt,
			MaxSeatsPerSignup: derefOr(s.MaxSeatsPerSignup, 1),
			RequiresApproval:  derefOr(s.RequiresApproval, false),
			WaitlistEnabled:   derefOr(s.WaitlistEnabled, true),
		})
	}
	return out
}

// openForSignup matches published activities that have not started and whose
// sign-up window (when set) contains now.
func openForSignup(open bool, now time.Time) predicate.Activity {
	p := activity.And(
		activity.StatusEQ(activity.StatusPUBLISHED),
		activity.StartsAtGT(now),
		activity.Or(activity.SignupOpensAtIsNil(), activity.SignupOpensAtLTE(now)),
		activity.Or(activity.SignupClosesAtIsNil(), activity.SignupClosesAtGT(now)),
	)
	if open {
		return p
	}
	return activity.Not(p)
}
