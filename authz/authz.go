// Package authz holds the privacy rules that Ent evaluates on every query and
// mutation, so authorization holds on every path: lists, node(id:), nested
// edges and domain services alike.
package authz

import (
	"context"
	"errors"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	lent "linli/ent"
	"linli/ent/privacy"
	"linli/viewer"
)

// ErrUnauthenticated is returned (wrapped in a privacy denial) when nobody is
// signed in.
var ErrUnauthenticated = errors.New("authentication required")

// ErrForbidden is returned (wrapped in a privacy denial) when the viewer lacks
// the role for a write.
var ErrForbidden = errors.New("not allowed")

func deny(err error) error { return privacy.Denyf("%w", err) }

// Public lets anyone read (the community list is public) and only platform
// admins write.
func Public() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{
			privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
				if viewer.FromContext(ctx).IsAdmin() {
					return privacy.Allow
				}
				return deny(ErrForbidden)
			}),
		},
	}
}

// SystemOnly lets only linli itself read or write (sessions, idempotency keys).
func SystemOnly() ent.Policy {
	only := func(ctx context.Context) error {
		if viewer.FromContext(ctx).IsSystem() {
			return privacy.Allow
		}
		return deny(ErrForbidden)
	}
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error { return only(ctx) })},
		Mutation: privacy.MutationPolicy{privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error { return only(ctx) })},
	}
}

// Scoped confines reads to the viewer's community and writes to its staff.
func Scoped() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{communityFilter(nil)},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// Activities are read like Scoped rows, except that what was never
// published is for staff and the leaders of the activity's team
// (ActivityVisible). Staff write them, and team leaders write their own
// teams' activities.
func Activities() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{communityFilter(ActivityVisible)},
		Mutation: privacy.MutationPolicy{staffOrLeaderWrite(leaderActivityWrite)},
	}
}

// Slots are read with their activity: a slot of an activity the viewer may
// not see (its name, capacity and counts describe the activity) is hidden
// on every path. Staff write them, and team leaders write the slots of
// their own teams' activities.
func Slots() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{communityFilter(ofVisibleActivity)},
		Mutation: privacy.MutationPolicy{staffOrLeaderWrite(leaderSlotWrite)},
	}
}

// leaderSlotWrite lets a team leader add slots to, and change the slots of,
// activities of the teams they lead. A new slot's activity is read through
// the mutation's own client, so a slot created in the transaction that
// created its activity finds it.
func leaderSlotWrite(ctx context.Context, v *viewer.Viewer, m ent.Mutation) error {
	if m.Op().Is(ent.OpCreate) {
		sm, ok := m.(*lent.SlotMutation)
		if !ok {
			return deny(ErrForbidden)
		}
		aid, set := sm.ActivityID()
		if !set {
			return deny(ErrForbidden)
		}
		a, err := sm.Client().Activity.Get(viewer.System(ctx), aid)
		if err != nil {
			return deny(ErrForbidden)
		}
		if cid, _ := sm.CommunityID(); cid != a.CommunityID || !v.CanOrganize(a.CommunityID, a.TeamID) {
			return deny(ErrForbidden)
		}
		return privacy.Allow
	}
	return leaderScope(ctx, m, v, entql.HasEdgeWith("activity", ledTeams(v, "team_id")))
}

// leaderScope confines a team leader's change or deletion to rows of their
// community that onTheirTeams matches.
func leaderScope(ctx context.Context, m ent.Mutation, v *viewer.Viewer, onTheirTeams entql.P) error {
	return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
		f.Where(entql.And(entql.FieldEQ("community_id", v.CommunityID), onTheirTeams))
		return privacy.Allow
	}).EvalMutation(ctx, m)
}

// Registrations lets a person read their own registrations, a kiosk those of
// activities at its venue, and staff their community's; writes go through
// the sign-up service (as the system) or staff.
func Registrations() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			switch {
			case v.IsStaff():
				return nil
			case v.IsKiosk():
				// A kiosk sees the registrations of activities at its venue.
				return entql.HasEdgeWith("activity", entql.And(entql.FieldEQ("venue_id", v.VenueID), ActivityVisible(v)))
			}
			return entql.FieldEQ("person_id", v.PersonID)
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// communityFilter admits the system and admins, and filters everyone else to
// rows of their own community, narrowed further by extra when it returns a
// predicate.
func communityFilter(extra func(*viewer.Viewer) entql.P) privacy.QueryRule {
	return narrowedFilter(func(v *viewer.Viewer) (entql.P, error) {
		if extra == nil {
			return nil, nil
		}
		return extra(v), nil
	})
}

// narrowedFilter is communityFilter whose narrowing may also refuse.
func narrowedFilter(narrow func(*viewer.Viewer) (entql.P, error)) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		switch {
		case v == nil:
			return deny(ErrUnauthenticated)
		case v.IsAdmin():
			return privacy.Allow
		}
		p := entql.FieldEQ("community_id", v.CommunityID)
		q, err := narrow(v)
		if err != nil {
			return deny(err)
		}
		if q != nil {
			p = entql.And(p, q)
		}
		f.Where(p)
		return privacy.Allow
	})
}

// ledTeams matches rows whose field (a team id) is one of the teams v leads.
func ledTeams(v *viewer.Viewer, field string) entql.P {
	ids := make([]any, len(v.LeadTeams))
	for i, id := range v.LeadTeams {
		ids[i] = id
	}
	return entql.FieldIn(field, ids...)
}

// staffOrLeaderWrite is staffWrite, except that a team leader who is not
// staff is judged by leader instead.
func staffOrLeaderWrite(leader func(context.Context, *viewer.Viewer, ent.Mutation) error) privacy.MutationRule {
	staff := staffWrite()
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if v := viewer.FromContext(ctx); !v.IsStaff() && !v.IsAdmin() && v.LeadsTeams() {
			return leader(ctx, v, m)
		}
		return staff.EvalMutation(ctx, m)
	})
}

// leaderActivityWrite lets a team leader create an activity of a team they
// lead in their community, and change one only while it stays with such a
// team.
func leaderActivityWrite(ctx context.Context, v *viewer.Viewer, m ent.Mutation) error {
	if team, ok := m.Field("team_id"); ok {
		if id, _ := team.(int); !v.Leads(&id) {
			return deny(ErrForbidden)
		}
	} else if m.Op().Is(ent.OpCreate) || m.FieldCleared("team_id") {
		return deny(ErrForbidden)
	}
	if m.Op().Is(ent.OpCreate) {
		if cid, ok := m.Field("community_id"); ok && cid == v.CommunityID {
			return privacy.Allow
		}
		return deny(ErrForbidden)
	}
	return leaderScope(ctx, m, v, ledTeams(v, "team_id"))
}

// staffWrite admits the system and admins; coordinators may create rows in
// their own community and change or delete only rows of it.
func staffWrite() privacy.MutationRule {
	scope := privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		f.Where(entql.FieldEQ("community_id", viewer.FromContext(ctx).CommunityID))
		return privacy.Allow
	})
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		switch {
		case v == nil:
			return deny(ErrUnauthenticated)
		case v.IsAdmin():
			return privacy.Allow
		case !v.IsStaff():
			return deny(ErrForbidden)
		}
		if m.Op().Is(ent.OpCreate) {
			if cid, ok := m.Field("community_id"); ok && cid == v.CommunityID {
				return privacy.Allow
			}
			return deny(ErrForbidden)
		}
		return scope.EvalMutation(ctx, m)
	})
}
