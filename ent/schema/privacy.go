package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"linli/authz"
)

// SensitiveRead is one staff read of sensitive personal information (a full
// phone number, a household's care tags, a health sign-up): who read whose,
// when, through which path. Written by package readlog, in batches; read by
// platform admins only; removed only by the retention purge.
type SensitiveRead struct{ ent.Schema }

// Fields of the SensitiveRead.
func (SensitiveRead) Fields() []ent.Field {
	return []ent.Field{
		field.Int("actor_id").Immutable().Annotations(entgql.Type("ID")),
		field.Enum("kind").Values("PHONE", "CARE_TAGS", "HEALTH_SIGNUP").Immutable(),
		// The type of the row read: Person, Household or Registration.
		field.String("subject_type").NotEmpty().MaxLen(40).Immutable(),
		field.Int("subject_id").Immutable().Annotations(entgql.Type("ID")),
		// How it was read: graphql:<field path> or export:<name>.
		field.String("path").Default("").MaxLen(300).Immutable(),
		field.String("client_address").Default("").MaxLen(100).Immutable(),
		field.Time("at").Default(now).Immutable().Annotations(entgql.OrderField("AT")),
	}
}

// Indexes of the SensitiveRead: a community's log by time, a subject's
// readers, and the purge by age.
func (SensitiveRead) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "at"),
		index.Fields("subject_id", "at"),
		index.Fields("at"),
	}
}

// Mixin of the SensitiveRead.
func (SensitiveRead) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the SensitiveRead.
func (SensitiveRead) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), skipInputs}
}

// Policy of the SensitiveRead: admins read, only linli writes.
func (SensitiveRead) Policy() ent.Policy { return authz.SensitiveReads() }

// RetentionPolicy is a community's choice of how long personal data is kept
// (package retention holds the defaults and the floors); a field left null
// takes the default.
type RetentionPolicy struct{ ent.Schema }

// Fields of the RetentionPolicy.
func (RetentionPolicy) Fields() []ent.Field {
	return []ent.Field{
		field.Int("scan_days").Optional().Nillable(),
		field.Int("request_text_days").Optional().Nillable(),
		field.Int("care_tag_days").Optional().Nillable(),
		field.Int("notification_days").Optional().Nillable(),
		field.Int("read_log_days").Optional().Nillable(),
	}
}

// Indexes of the RetentionPolicy: one per community.
func (RetentionPolicy) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id").Unique()}
}

// Mixin of the RetentionPolicy.
func (RetentionPolicy) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the RetentionPolicy.
func (RetentionPolicy) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the RetentionPolicy: staff of the community read it, admins set it.
func (RetentionPolicy) Policy() ent.Policy { return authz.RetentionPolicies() }
