package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"linli/auth"
	"linli/ent/activity"
	"linli/ent/predicate"
	"linli/ent/slot"
	"linli/graph/model"
	"linli/ledger"
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

// openForSignup is the listing filter where:{openForSignup}: the ledger's
// sign-up window rule, or its negation.
func openForSignup(open bool, now time.Time) predicate.Activity {
	p := ledger.OpenForSignupWhere(now)
	if open {
		return p
	}
	return activity.Not(p)
}

// inList reports whether the field being resolved belongs to an element of
// a list, where loading a whole waitlist once beats one count per element.
func inList(ctx context.Context) bool {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Index != nil {
			return true
		}
	}
	return false
}
