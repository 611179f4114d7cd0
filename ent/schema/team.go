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

// Team is a volunteer team (爱心助学团, 医疗健康 …) that organises activities.
type Team struct{ ent.Schema }

// Fields of the Team.
func (Team) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Annotations(entgql.OrderField("NAME")),
		field.String("description").Default("").MaxLen(2000),
	}
}

// Edges of the Team.
func (Team) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", TeamMembership.Type).Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("activities", Activity.Type).Annotations(entgql.RelayConnection(), skipNarrowedEdge),
	}
}

// Indexes of the Team.
func (Team) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "name").Unique()}
}

// Mixin of the Team.
func (Team) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Team.
func (Team) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}

// Policy of the Team.
func (Team) Policy() ent.Policy { return scopedPolicy(staffWrites) }

// TeamMembership places a person in a team as leader or member.
type TeamMembership struct{ ent.Schema }

// Fields of the TeamMembership.
func (TeamMembership) Fields() []ent.Field {
	return []ent.Field{
		field.Int("team_id").Immutable(),
		field.Int("person_id").Immutable(),
		field.Enum("role").Values("LEADER", "MEMBER").Default("MEMBER").Annotations(entgql.Type("TeamRole")),
	}
}

// Edges of the TeamMembership.
func (TeamMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("team", Team.Type).Ref("memberships").Field("team_id").Unique().Required().Immutable(),
		edge.From("person", Person.Type).Ref("memberships").Field("person_id").Unique().Required().Immutable(),
	}
}

// Indexes of the TeamMembership.
func (TeamMembership) Indexes() []ent.Index {
	return []ent.Index{index.Fields("team_id", "person_id").Unique(), index.Fields("person_id")}
}

// Mixin of the TeamMembership.
func (TeamMembership) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the TeamMembership.
func (TeamMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}

// Policy of the TeamMembership: who is in which team follows authz.People.
func (TeamMembership) Policy() ent.Policy { return authz.Memberships() }

// Venue is a place where activities happen (社区广场, 道德讲堂 …).
type Venue struct{ ent.Schema }

// Fields of the Venue.
func (Venue) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Annotations(entgql.OrderField("NAME")),
		field.String("address").Default("").MaxLen(200),
		field.Int("capacity").NonNegative().Default(0),
	}
}

// Edges of the Venue.
func (Venue) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("activities", Activity.Type).Annotations(entgql.RelayConnection(), skipNarrowedEdge),
	}
}

// Indexes of the Venue.
func (Venue) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "name").Unique()}
}

// Mixin of the Venue.
func (Venue) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Venue.
func (Venue) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}

// Policy of the Venue.
func (Venue) Policy() ent.Policy { return scopedPolicy(staffWrites) }
