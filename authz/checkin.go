package authz

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	lent "linli/ent"
	"linli/ent/privacy"
	"linli/mask"
	"linli/viewer"
)

// Kiosks lets staff read their community's kiosks and a kiosk read itself;
// staff write them.
func Kiosks() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{staffOr(func(v *viewer.Viewer) entql.P {
			if v.IsKiosk() {
				return entql.FieldEQ("id", v.KioskID)
			}
			return nil
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// CheckInScans lets staff read their community's scans and a kiosk its own;
// only the check-in service writes them.
func CheckInScans() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{staffOr(func(v *viewer.Viewer) entql.P {
			if v.IsKiosk() {
				return entql.FieldEQ("kiosk_id", v.KioskID)
			}
			return nil
		})},
		Mutation: privacy.MutationPolicy{systemWrite()},
	}
}

// PersonalRecords (service records, certificates) lets a person read their
// own and staff their community's; kiosks read none. Only the check-in
// service writes them, after its own checks.
func PersonalRecords() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{staffOr(func(v *viewer.Viewer) entql.P {
			if v.PersonID != 0 && !v.IsKiosk() {
				return entql.FieldEQ("person_id", v.PersonID)
			}
			return nil
		})},
		Mutation: privacy.MutationPolicy{systemWrite()},
	}
}

// staffOr filters staff to their community and everyone else to their
// community narrowed by own; when own returns nil they may read nothing.
func staffOr(own func(*viewer.Viewer) entql.P) privacy.QueryRule {
	return narrowedFilter(func(v *viewer.Viewer) (entql.P, error) {
		if v.IsStaff() {
			return nil, nil
		}
		if q := own(v); q != nil {
			return q, nil
		}
		return nil, ErrForbidden
	})
}

func systemWrite() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if viewer.FromContext(ctx).IsSystem() {
			return privacy.Allow
		}
		return deny(ErrForbidden)
	})
}

// KioskNames masks people's display names (张**) for kiosk viewers on
// every path that loads people: a tablet at the door shows who checked in
// without listing the neighbourhood's full names.
func KioskNames() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			v, err := next.Query(ctx, q)
			if err != nil || !viewer.FromContext(ctx).IsKiosk() {
				return v, err
			}
			switch x := v.(type) {
			case []*lent.Person:
				for _, p := range x {
					p.DisplayName = mask.Name(p.DisplayName)
				}
			case *lent.Person:
				x.DisplayName = mask.Name(x.DisplayName)
			}
			return v, nil
		})
	})
}
