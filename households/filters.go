package households

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"linli/authz"
	"linli/ent"
	"linli/ent/homevisit"
	"linli/ent/household"
	"linli/ent/predicate"
	"linli/viewer"
)

// WithCareTag matches households with care tag tag, for a viewer who may see
// care tags (authz.CareTagsVisible); for anyone else it matches nothing, as
// if no household had tags: their careTags are empty on every path, so the
// filter must not tell them more.
func WithCareTag(ctx context.Context, tag string) predicate.Household {
	v := viewer.FromContext(ctx)
	if v == nil || !authz.CareTagsVisible(v, v.CommunityID) {
		return household.IDIn()
	}
	return func(s *sql.Selector) {
		s.Where(sqljson.ValueContains(s.C(household.FieldCareTags), tag))
	}
}

// VisitedSince matches households with a visit at or after since among the
// visits the viewer may read (read through the privacy rules first: a
// subquery would see every team's visits).
func VisitedSince(ctx context.Context, client *ent.Client, since time.Time) (predicate.Household, error) {
	ids, err := client.HomeVisit.Query().Where(homevisit.VisitedAtGTE(since.UTC())).
		Unique(true).Select(homevisit.FieldHouseholdID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	return household.IDIn(ids...), nil
}
