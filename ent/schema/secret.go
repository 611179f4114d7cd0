package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Secret is a deployment-wide secret linli generates on first start and
// every replica then shares, e.g. the key of the API's IDs (gid). It belongs
// to no community and only the system reads it.
type Secret struct{ ent.Schema }

// Fields of the Secret.
func (Secret) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).Unique().Immutable(),
		field.Bytes("value").Sensitive().Immutable(),
		field.Time("created_at").Default(now).Immutable(),
	}
}

// Annotations of the Secret.
func (Secret) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Secret: only the system touches secrets.
func (Secret) Policy() ent.Policy { return systemOnlyPolicy() }
