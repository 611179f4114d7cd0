// Package schema holds linli's Ent schema: the domain model shared by
// PostgreSQL and the embedded SQLite default.
package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// CommunityScoped gives a type the community it belongs to. Every row of a
// scoped type carries community_id, so one privacy rule can confine reads and
// writes to the viewer's community whatever path (node, nested edge, list)
// reached it.
type CommunityScoped struct{ mixin.Schema }

// Fields of the CommunityScoped mixin.
func (CommunityScoped) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput, entgql.SkipType, entgql.SkipOrderField)),
	}
}

// Edges of the CommunityScoped mixin.
func (CommunityScoped) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("community", Community.Type).Field("community_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Timestamps records when a row was created and last changed.
type Timestamps struct{ mixin.Schema }

// Fields of the Timestamps mixin.
func (Timestamps) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(now).UpdateDefault(now).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

func now() time.Time { return time.Now().UTC() }
