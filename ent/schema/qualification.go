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

// QualificationKind is a qualification a community recognises (执业医师,
// 护士, 律师, 心理咨询师, 教师, 急救): what a slot may require of the
// volunteers who take it (package qualify).
type QualificationKind struct{ ent.Schema }

// Fields of the QualificationKind.
func (QualificationKind) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(50),
		field.String("description").Default("").MaxLen(500),
	}
}

// Indexes of the QualificationKind.
func (QualificationKind) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "name").Unique()}
}

// Mixin of the QualificationKind.
func (QualificationKind) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the QualificationKind: written through package qualify.
func (QualificationKind) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}

// Policy of the QualificationKind: the community reads its kinds, staff write.
func (QualificationKind) Policy() ent.Policy { return scopedPolicy(staffWrites) }

// Qualification is a qualification a person holds, entered by staff with
// the reference of the evidence they saw (a certificate's number), in
// force through its expiry date (China time). One per person and kind: a
// renewal changes it.
type Qualification struct{ ent.Schema }

// Fields of the Qualification.
func (Qualification) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Immutable(),
		field.Int("kind_id").Immutable(),
		// The last day it is in force, YYYY-MM-DD China time.
		field.String("expires_on").NotEmpty().MaxLen(10),
		// The moment it stops being in force: the start of the day after
		// expires_on, China time (qualify.ValidUntil).
		field.Time("valid_until").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("evidence_ref").NotEmpty().MaxLen(100),
		field.Int("recorded_by_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		// When its holder and staff were told it is about to expire (for
		// this valid_until); cleared by a renewal.
		field.Time("expiry_notified_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Qualification.
func (Qualification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable().Annotations(skipNarrowedEdge),
		edge.To("kind", QualificationKind.Type).Field("kind_id").Unique().Required().Immutable().Annotations(skipNarrowedEdge),
	}
}

// Indexes of the Qualification.
func (Qualification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("person_id", "kind_id").Unique(),
		index.Fields("community_id", "valid_until"),
	}
}

// Mixin of the Qualification.
func (Qualification) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Qualification: written through package qualify.
func (Qualification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}

// Policy of the Qualification: the holder and staff of their community
// read it, staff write it.
func (Qualification) Policy() ent.Policy { return authz.Qualifications() }
