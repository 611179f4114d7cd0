package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Consent is a person's consent to one purpose of sensitive processing
// (PIPL arts. 14, 29, 31): given at a time, for a version of the wording
// shown, by the person or (for a minor) by a guardian through staff, and
// withdrawn at a time. A new consent after a withdrawal is a new row, so
// the history stays. Package rights is its one home (rights.HasConsent).
type Consent struct{ ent.Schema }

// Fields of the Consent.
func (Consent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Immutable(),
		field.Enum("purpose").Values("HEALTH_SIGNUP", "CARE_TAGS", "PHOTOS").Immutable(),
		field.String("wording_version").NotEmpty().MaxLen(40).Immutable(),
		field.Time("given_at").Default(now).Immutable(),
		field.Time("withdrawn_at").Optional().Nillable(),
		// Who recorded it: the person themselves, or a staff member (a
		// guardian's consent for a minor, a household head's on paper).
		field.Int("recorded_by_id").Optional().Nillable().Immutable(),
		field.Bool("by_guardian").Default(false).Immutable(),
		// The household the consent covers (CARE_TAGS: the head's consent).
		field.Int("household_id").Optional().Nillable().Immutable(),
	}
}

// Edges of the Consent.
func (Consent) Edges() []ent.Edge {
	return []ent.Edge{edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable()}
}

// Indexes of the Consent.
func (Consent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("person_id", "purpose"), index.Fields("community_id", "purpose")}
}

// Mixin of the Consent.
func (Consent) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the Consent.
func (Consent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Consent: only the system touches consents; package rights
// decides who may give, withdraw and list them (authz.Consent…).
func (Consent) Policy() ent.Policy { return systemOnlyPolicy() }
