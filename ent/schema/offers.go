package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// Waitlist offers (package ledger, offer.go): a slot in OFFER mode offers a
// freed seat to the head of its waitlist for a while instead of confirming
// them at once. Kept in mixins of their own so the Slot and Registration
// field lists stay as they were.

func init() {
	// The notifications of offers: one made, one lapsed.
	NotificationKinds = append(NotificationKinds, "WAITLIST_OFFERED", "OFFER_LAPSED")
}

// WaitlistOffers are a slot's waitlist settings: INSTANT promotion (the
// default) or OFFER, with how long an offer stands and how long before the
// start offers stop.
type WaitlistOffers struct{ mixin.Schema }

// Fields of the WaitlistOffers mixin.
func (WaitlistOffers) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("waitlist_mode").Values("INSTANT", "OFFER").Default("INSTANT"),
		// How long an offer stands (hours).
		field.Int("offer_hours").Range(1, 168).Default(12),
		// Offers close this many minutes before the slot's (or activity's)
		// start; an offer never stands past it.
		field.Int("offer_close_minutes").Range(0, 7*24*60).Default(120),
	}
}

// OfferExpiry is when an OFFERED registration's offer lapses.
type OfferExpiry struct{ mixin.Schema }

// Fields of the OfferExpiry mixin.
func (OfferExpiry) Fields() []ent.Field {
	return []ent.Field{
		field.Time("offer_expires_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	}
}
