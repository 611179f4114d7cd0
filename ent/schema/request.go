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

// Request is a resident's need or complaint (诉求/社情民意), from submission
// through triage, assignment and resolution to the resident's confirmation.
type Request struct{ ent.Schema }

// Fields of the Request.
func (Request) Fields() []ent.Field {
	return []ent.Field{
		// Human-readable, unique in the community: prefix-year-sequence.
		field.String("number").NotEmpty().MaxLen(40).Immutable(),
		field.Int("year").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("seq").Positive().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("kind").Values("REPAIR", "ELDERLY_CARE", "DISPUTE", "LEGAL", "HEALTH", "EMPLOYMENT", "LIVELIHOOD", "ENVIRONMENT", "SUGGESTION", "OTHER").
			Annotations(entgql.Type("RequestKind")),
		field.Enum("channel").Values("APP", "WECHAT_GROUP", "PHONE", "WALK_IN", "HOME_VISIT").Annotations(entgql.Type("RequestChannel")),
		field.Enum("status").Values("SUBMITTED", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "RESOLVED", "CLOSED", "REJECTED").
			Default("SUBMITTED").Annotations(entgql.Type("RequestStatus")),
		field.String("title").NotEmpty().MaxLen(200),
		// Personal data (health, family): never a filter, so it cannot be
		// probed by those who see it withheld (authz.SeesRequestDescription).
		field.String("description").Default("").MaxLen(5000).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("submitter_id").Optional().Nillable().Annotations(entgql.Type("ID")),
		field.Int("household_id").Optional().Nillable().Annotations(entgql.Type("ID")),
		field.Int("team_id").Optional().Nillable().Annotations(entgql.Type("ID")),
		field.Int("assignee_id").Optional().Nillable().Annotations(entgql.Type("ID")),
		// The staff member who entered it on someone's behalf.
		field.Int("created_by_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("outcome").Values("SOLVED", "MEDIATED", "REFERRED", "EXPLAINED", "UNRESOLVED").Optional().Nillable().
			Annotations(entgql.Type("RequestOutcome")),
		field.String("resolution").Optional().Nillable().MaxLen(5000).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("satisfaction").Optional().Nillable().Range(1, 5),
		// Confirmed by staff after a follow-up call (回访) rather than by the submitter.
		field.Bool("confirmed_by_staff").Default(false),
		field.Time("accepted_at").Optional().Nillable(),
		field.Time("resolved_at").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		field.Time("due_at").Optional().Nillable().Annotations(entgql.OrderField("DUE_AT")),
		// Bumped by every transition: a transition updates the row only at
		// the version it read, so two concurrent ones cannot both win.
		field.Int("version").Default(0).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Request.
func (Request) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("submitter", Person.Type).Field("submitter_id").Unique().Annotations(skipNarrowedEdge),
		edge.From("household", Household.Type).Ref("requests").Field("household_id").Unique().Annotations(skipNarrowedEdge),
		edge.To("team", Team.Type).Field("team_id").Unique().Annotations(skipNarrowedEdge),
		edge.To("assignee", Person.Type).Field("assignee_id").Unique().Annotations(skipNarrowedEdge),
		edge.To("events", RequestEvent.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("visits", HomeVisit.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Request.
func (Request) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "number").Unique(),
		index.Fields("community_id", "year", "seq").Unique(),
		index.Fields("community_id", "status", "due_at"),
		index.Fields("community_id", "created_at"),
		// Resolved and confirmed in a period (statistics).
		index.Fields("community_id", "resolved_at"),
		index.Fields("community_id", "closed_at"),
		index.Fields("submitter_id", "created_at"),
	}
}

// Mixin of the Request.
func (Request) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Request.
func (Request) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of the Request.
func (Request) Policy() ent.Policy { return authz.Requests() }

// RequestEvent is one transition in a request's history.
type RequestEvent struct{ ent.Schema }

// Fields of the RequestEvent.
func (RequestEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int("request_id").Immutable(),
		field.Time("at").Default(now).Immutable(),
		// The transition made: SUBMIT, ACCEPT, ASSIGN, START, RESOLVE, CONFIRM, REOPEN, REJECT, VISIT.
		field.String("action").NotEmpty().MaxLen(20).Immutable(),
		field.Enum("status").Values("SUBMITTED", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "RESOLVED", "CLOSED", "REJECTED").
			Immutable().Annotations(entgql.Type("RequestStatus")),
		field.Int("actor_id").Optional().Nillable().Immutable(),
		field.String("note").Default("").MaxLen(5000).Immutable(),
		field.Int("home_visit_id").Optional().Nillable().Immutable(),
	}
}

// Edges of the RequestEvent.
func (RequestEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("request", Request.Type).Ref("events").Field("request_id").Unique().Required().Immutable(),
		edge.To("actor", Person.Type).Field("actor_id").Unique().Immutable(),
	}
}

// Indexes of the RequestEvent.
func (RequestEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("request_id", "at")}
}

// Mixin of the RequestEvent.
func (RequestEvent) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the RequestEvent.
func (RequestEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the RequestEvent.
func (RequestEvent) Policy() ent.Policy { return authz.RequestEvents() }
