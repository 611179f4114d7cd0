package authz

import (
	"context"

	"entgo.io/ent"

	"linli/ent/privacy"
	"linli/viewer"
)

// SensitiveReads (the log of staff reads of full phones, care tags and
// health sign-ups) are read by platform admins only: the staff whose reads
// it records are the ones it watches. Only linli writes or removes entries
// (package readlog, the retention purge), as the system.
func SensitiveReads() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
			switch v := viewer.FromContext(ctx); {
			case v == nil:
				return deny(ErrUnauthenticated)
			case v.IsAdmin():
				return privacy.Allow
			}
			return deny(ErrForbidden)
		})},
		Mutation: privacy.MutationPolicy{privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
			if viewer.FromContext(ctx).IsSystem() {
				return privacy.Allow
			}
			return deny(ErrForbidden)
		})},
	}
}

// ReadsSensitiveReads reports whether v may list the sensitive-read log.
func ReadsSensitiveReads(v *viewer.Viewer) bool { return v.IsAdmin() }

// VerifiesAudit reports whether v may run the audit chain verification of
// community cid (nil: every community): platform admins.
func VerifiesAudit(v *viewer.Viewer) bool { return v.IsAdmin() }

// RetentionPolicies are read by staff of their community (admins: all) and
// set by platform admins only: how long a community keeps personal data is
// the operator's commitment, not a coordinator's switch.
func RetentionPolicies() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(nil)},
		Mutation: privacy.MutationPolicy{privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
			if viewer.FromContext(ctx).IsAdmin() {
				return privacy.Allow
			}
			return deny(ErrForbidden)
		})},
	}
}
