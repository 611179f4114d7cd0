// Package authz holds the privacy rules that Ent evaluates on every query and
// mutation, so authorization holds on every path: lists, node(id:), nested
// edges and domain services alike.
package authz

import (
	"context"
	"errors"

	"entgo.io/ent"
	"entgo.io/ent/entql"

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

// Activities are read like Scoped rows, except that drafts are for staff only.
func Activities() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			if v.IsStaff() {
				return nil
			}
			return entql.FieldNEQ("status", "DRAFT")
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// Registrations lets a person read their own registrations and staff read
// their community's; writes go through the sign-up service (as the system) or
// staff.
func Registrations() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			if v.IsStaff() || v.IsKiosk() {
				return nil
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
