package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PersistedQuery is an operation document a client registered by its hash
// (automatic persisted queries, the persisted package), shared by every
// replica. It belongs to no community: a document is the same text for
// everyone, and running it still goes through every privacy rule. Only
// documents that parsed, validated and passed the limits are stored, the
// table is capped by the persisted package, and the least recently used
// rows (last_used_at, refreshed at most hourly) go first.
type PersistedQuery struct{ ent.Schema }

// Fields of the PersistedQuery.
func (PersistedQuery) Fields() []ent.Field {
	return []ent.Field{
		// sha256 of document, lowercase hex.
		field.String("hash").NotEmpty().MaxLen(64).Unique().Immutable(),
		field.Text("document").NotEmpty().Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("last_used_at").Default(now),
	}
}

// Indexes of the PersistedQuery: eviction takes the least recently used.
func (PersistedQuery) Indexes() []ent.Index { return []ent.Index{index.Fields("last_used_at")} }

// Annotations of the PersistedQuery.
func (PersistedQuery) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the PersistedQuery: only the system (the persisted store)
// touches documents.
func (PersistedQuery) Policy() ent.Policy { return systemOnlyPolicy() }
