package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"linli/authz"
)

// ActiveRegistrationStatuses hold a person's place in a slot; at most one
// registration per (slot, person) may be in one of them.
const activeRegistrationWhere = "status IN ('CONFIRMED','WAITLISTED','PENDING_APPROVAL','CHECKED_IN','CHECKED_OUT','OFFERED')"

// Registration is one person in one slot.
type Registration struct{ ent.Schema }

// Fields of the Registration.
func (Registration) Fields() []ent.Field {
	return []ent.Field{
		field.Int("slot_id").Immutable(),
		field.Int("person_id").Immutable(),
		field.Int("activity_id").Immutable().Annotations(entgql.Skip(entgql.SkipType)),
		field.Enum("status").
			Values("CONFIRMED", "WAITLISTED", "PENDING_APPROVAL", "CANCELLED", "CHECKED_IN", "CHECKED_OUT", "NO_SHOW", "OFFERED"),
		field.Int("seats").Positive().Default(1),
		// Order in the slot's queue: first come, first served.
		field.Int64("queue_seq").Default(0).Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("consent_sensitive_at").Optional().Nillable(),
		field.String("check_in_code").Unique().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("checked_in_at").Optional().Nillable(),
		field.Time("checked_out_at").Optional().Nillable(),
		field.Time("cancelled_at").Optional().Nillable(),
		field.String("cancel_reason").Optional().MaxLen(500),
	}
}

// Edges of the Registration.
func (Registration) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("slot", Slot.Type).Field("slot_id").Unique().Required().Immutable(),
		edge.From("person", Person.Type).Ref("registrations").Field("person_id").Unique().Required().Immutable().
			Annotations(skipNarrowedEdge),
		// Lets lists of registrations load their activities in one query.
		edge.To("activity", Activity.Type).Field("activity_id").Unique().Required().Immutable().
			Annotations(skipNarrowedEdge),
	}
}

// Indexes of the Registration.
func (Registration) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("slot_id", "person_id").Unique().
			Annotations(entsql.IndexWhere(activeRegistrationWhere)),
		index.Fields("slot_id", "status", "queue_seq"),
		index.Fields("person_id", "created_at"),
		index.Fields("activity_id", "status"),
	}
}

// Mixin of the Registration.
func (Registration) Mixin() []ent.Mixin {
	return []ent.Mixin{CommunityScoped{}, Timestamps{}, OfferExpiry{}}
}

// Annotations of the Registration.
func (Registration) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of the Registration: residents read their own, staff their community's.
func (Registration) Policy() ent.Policy { return registrationPolicy() }

// IdempotencyKey remembers the answer to a retried mutation.
type IdempotencyKey struct{ ent.Schema }

// Fields of the IdempotencyKey.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Immutable(),
		field.String("key").NotEmpty().MaxLen(200).Immutable(),
		field.String("operation").Immutable(),
		field.Bytes("request_hash").Immutable(),
		field.Bytes("response").Optional(),
		field.Time("created_at").Default(now).Immutable(),
	}
}

// Indexes of the IdempotencyKey.
func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("person_id", "key").Unique(), index.Fields("created_at")}
}

// Annotations of the IdempotencyKey.
func (IdempotencyKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the IdempotencyKey.
func (IdempotencyKey) Policy() ent.Policy { return systemOnlyPolicy() }

// AuditEntry records a staff action that changed someone else's data (or
// read it out, for exports): who, what, to which row, when and from which
// client address. Entries are append-only (authz.AppendOnly).
type AuditEntry struct{ ent.Schema }

// Fields of the AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Int("actor_id").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.String("action").NotEmpty().Immutable(),
		field.String("subject").Default("").Immutable(),
		// The row acted on, when it is one (its API ID to clients).
		field.Int("subject_id").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.String("detail").Default("").Immutable(),
		// The client address of the request (reqlog.ClientAddress).
		field.String("client_address").Default("").MaxLen(100).Immutable(),
		field.Time("at").Default(now).Immutable().Annotations(entgql.OrderField("AT")),
		// The hash chain (package audit): the entry's place in its
		// community's chain (1, 2, …; 0 for entries written before the
		// chain existed) and sha256 over the previous entry's hash and this
		// entry's fields, hex.
		field.Int64("seq").Default(0).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("hash").Default("").MaxLen(64).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the AuditEntry: a community's log newest first, by action.
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "seq"),
		index.Fields("community_id", "at"),
		index.Fields("community_id", "action", "at"),
	}
}

// Mixin of the AuditEntry.
func (AuditEntry) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the AuditEntry.
func (AuditEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), skipInputs}
}

// Policy of the AuditEntry: staff of its community read it.
func (AuditEntry) Policy() ent.Policy { return authz.AuditEntries() }

// Hooks of the AuditEntry: no update or delete, whoever asks.
func (AuditEntry) Hooks() []ent.Hook { return []ent.Hook{authz.AppendOnly()} }
