package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"linli/authz"
)

// Household is an address in the community (住户) with its head, size and
// care tags. Care tags are sensitive personal information: staff only.
type Household struct{ ent.Schema }

// Fields of the Household.
func (Household) Fields() []ent.Field {
	return []ent.Field{
		field.String("address").NotEmpty().MaxRuneLen(300).Annotations(entgql.OrderField("ADDRESS")),
		// Masked except to staff (Household.headName's resolver), so no
		// where-input either: a filter would spell it out letter by letter.
		field.String("head_name").Default("").MaxRuneLen(100).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("phone").Default("").MaxLen(40).Sensitive(),
		field.Int("size").Positive().Default(1),
		// CareTag values (EMPTY_NEST, LOST_ONLY_CHILD, …), sorted.
		field.Strings("care_tags").Optional().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Household.
func (Household) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("visits", HomeVisit.Type).Annotations(entgql.RelayConnection(), skipNarrowedEdge),
		edge.To("requests", Request.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Household.
func (Household) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "address").Unique()}
}

// Mixin of the Household.
func (Household) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Household.
func (Household) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of the Household.
func (Household) Policy() ent.Policy { return authz.Households() }

// HomeVisit is volunteers visiting a household (上门服务/慰问).
type HomeVisit struct{ ent.Schema }

// Fields of the HomeVisit.
func (HomeVisit) Fields() []ent.Field {
	return []ent.Field{
		field.Int("household_id").Immutable().Annotations(entgql.Type("ID")),
		field.Enum("kind").Values("CARE_VISIT", "HOME_SERVICE", "SURVEY", "ERRAND").Annotations(entgql.Type("HomeVisitKind")),
		field.Time("visited_at").Annotations(entgql.OrderField("VISITED_AT")),
		field.Int("minutes").NonNegative(),
		field.Int("team_id").Optional().Nillable().Annotations(entgql.Type("ID")),
		field.Int("request_id").Optional().Nillable().Annotations(entgql.Type("ID")),
		field.String("notes").Default("").MaxRuneLen(2000),
		field.Int("recorded_by_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the HomeVisit.
func (HomeVisit) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("household", Household.Type).Ref("visits").Field("household_id").Unique().Required().Immutable(),
		edge.To("team", Team.Type).Field("team_id").Unique().Annotations(skipNarrowedEdge),
		edge.To("volunteers", Person.Type).Annotations(skipNarrowedEdge),
		edge.From("request", Request.Type).Ref("visits").Field("request_id").Unique().Annotations(skipNarrowedEdge),
	}
}

// Indexes of the HomeVisit.
func (HomeVisit) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "visited_at"),
		index.Fields("household_id", "visited_at"),
	}
}

// Mixin of the HomeVisit.
func (HomeVisit) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the HomeVisit.
func (HomeVisit) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), skipInputs}
}

// Policy of the HomeVisit.
func (HomeVisit) Policy() ent.Policy { return authz.HomeVisits() }
