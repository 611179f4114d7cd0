package graph

import (
	"context"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"linli/ent"
	"linli/ent/registration"
	"linli/graph/model"
	"linli/scan"
)

func scanInput(in model.CheckInInput) scan.Scan {
	return scan.Scan{Code: in.Code, Nonce: in.Nonce, At: in.At, ActivityID: deref(in.ActivityID)}
}

// scanned turns a scan's answer into its GraphQL result, with the
// registration as the viewer may see it (a kiosk sees masked names).
func (r *Resolver) scanned(ctx context.Context) func(*scan.Result, error) (*model.CheckInResult, error) {
	return func(res *scan.Result, err error) (*model.CheckInResult, error) {
		if err != nil {
			return nil, err
		}
		out := &model.CheckInResult{Status: res.Status, Message: res.Message, ScannedAt: res.At}
		// A tablet showing the message does not ask for the registration
		// or its times; they cost a query only when asked for.
		if slices.ContainsFunc(graphql.CollectAllFields(ctx), needsRegistration) {
			regs, err := r.registrationsOf(ctx, []*scan.Result{res})
			if err != nil {
				return nil, err
			}
			out.Registration = regs[res.RegistrationID]
			out.CheckedInAt, out.CheckedOutAt, out.Won = recordedTimes(res, out.Registration)
		}
		return out, nil
	}
}

func needsRegistration(field string) bool {
	switch field {
	case "registration", "checkedInAt", "checkedOutAt", "won":
		return true
	}
	return false
}

// recordedTimes is what a scan's answer says about the registration's
// times, as recorded now (read as the viewer: nil when it may not read
// it), and whether they are this scan's: the earliest scan of a code is
// the one that counts, so a scan that was refused, repeated one already
// counted or came later did not win.
func recordedTimes(res *scan.Result, reg *ent.Registration) (in, out *time.Time, won bool) {
	if reg == nil {
		return nil, nil, false
	}
	in, out = reg.CheckedInAt, reg.CheckedOutAt
	switch res.Status {
	case scan.OK, scan.AlreadyCheckedIn, scan.AlreadyCheckedOut:
	default:
		return in, out, false
	}
	recorded := in
	if res.Kind == scan.Out {
		recorded = out
	}
	return in, out, recorded != nil && recorded.Equal(res.At)
}

// registrationsOf loads the registrations of scan answers in one query.
func (r *Resolver) registrationsOf(ctx context.Context, res []*scan.Result) (map[int]*ent.Registration, error) {
	ids := make([]int, 0, len(res))
	for _, x := range res {
		if x.RegistrationID != 0 {
			ids = append(ids, x.RegistrationID)
		}
	}
	out := make(map[int]*ent.Registration, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	regs, err := r.Client.Registration.Query().Where(registration.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range regs {
		out[g.ID] = g
	}
	return out, nil
}

func minutesToHours(m int) float64 { return float64(m) / 60 }

// nonNil is a list as a non-null GraphQL list: empty, never null.
func nonNil[T any](list []T, err error) ([]T, error) {
	if list == nil && err == nil {
		list = []T{}
	}
	return list, err
}
