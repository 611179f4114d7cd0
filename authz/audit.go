package authz

import (
	"context"
	"errors"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	"linli/ent/privacy"
	"linli/viewer"
)

// ErrAppendOnly is returned for any update or deletion of an audit entry.
var ErrAppendOnly = errors.New("audit entries cannot be changed or deleted")

// AuditEntries are read by staff of their community (admins: all) and
// written like Scoped rows; nobody else sees that an entry exists.
func AuditEntries() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{narrowedFilter(func(v *viewer.Viewer) (entql.P, error) {
			if !v.IsStaff() {
				return nil, ErrForbidden
			}
			return nil, nil
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// AppendOnly is the hook that keeps the audit log append-only: it refuses
// every update and deletion, the system's too (a privacy rule can be
// bypassed with a decision context; a hook cannot).
func AppendOnly() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if !m.Op().Is(ent.OpCreate) {
				return nil, ErrAppendOnly
			}
			return next.Mutate(ctx, m)
		})
	}
}
