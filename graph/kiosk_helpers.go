package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"linli/checkin"
	"linli/ent"
	"linli/ent/registration"
	"linli/graph/model"
)

func scanInput(in model.CheckInInput) checkin.Scan {
	return checkin.Scan{Code: in.Code, Nonce: in.Nonce, At: in.At, ActivityID: deref(in.ActivityID)}
}

// scanned turns a scan's answer into its GraphQL result, with the
// registration as the viewer may see it (a kiosk sees masked names).
func (r *Resolver) scanned(ctx context.Context) func(*checkin.Result, error) (*model.CheckInResult, error) {
	return func(res *checkin.Result, err error) (*model.CheckInResult, error) {
		if err != nil {
			return nil, err
		}
		out := &model.CheckInResult{Status: res.Status, Message: res.Message}
		// A tablet showing the message does not ask for the registration;
		// it costs a query only when asked for.
		if slices.Contains(graphql.CollectAllFields(ctx), "registration") {
			regs, err := r.registrationsOf(ctx, []*checkin.Result{res})
			if err != nil {
				return nil, err
			}
			out.Registration = regs[res.RegistrationID]
		}
		return out, nil
	}
}

// registrationsOf loads the registrations of scan answers in one query.
func (r *Resolver) registrationsOf(ctx context.Context, res []*checkin.Result) (map[int]*ent.Registration, error) {
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
