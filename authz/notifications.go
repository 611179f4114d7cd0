package authz

import (
	"context"

	"linli/ent"
	"linli/ent/privacy"
	"linli/viewer"

	"entgo.io/ent/entql"
)

// OwnNotifications lets a person read only their own notifications and
// notification preferences — staff and admins included: an inbox is
// private. Only linli itself (the notify package, as the system) writes
// them; what a person changes (read marks, preferences) the notify service
// writes for them after confining it to their own rows.
func OwnNotifications() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
			v := viewer.FromContext(ctx)
			switch {
			case v.IsSystem():
				return privacy.Allow
			case v == nil:
				return deny(ErrUnauthenticated)
			case v.PersonID == 0 || v.IsKiosk():
				return deny(ErrForbidden)
			}
			f.Where(entql.FieldEQ("person_id", v.PersonID))
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{systemWrite()},
	}
}

// NotificationDefaultsOf is the community whose notification defaults the
// viewer reads or changes: cid, for its staff (coordinators) and admins;
// a resident is FORBIDDEN, staff of another community NOT_FOUND.
func NotificationDefaultsOf(ctx context.Context, cid int) (int, error) {
	return RequireStaffOfCommunity(ctx, &cid)
}
