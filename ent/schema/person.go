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

// Person is an account: a resident, and possibly a volunteer, team leader,
// coordinator or platform admin.
type Person struct{ ent.Schema }

// Fields of the Person.
func (Person) Fields() []ent.Field {
	return []ent.Field{
		field.String("display_name").NotEmpty().MaxRuneLen(50).
			Annotations(entgql.OrderField("DISPLAY_NAME")),
		// Shown masked except to its owner and staff. Unique in a community,
		// and across the platform among accounts that sign in (with a
		// password): a walk-in registered at the door of one community
		// (without a password) neither claims the number elsewhere nor
		// reveals that it has an account elsewhere.
		field.String("phone").NotEmpty().MaxLen(20).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("password_hash").Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Roles in the person's community (RESIDENT, VOLUNTEER, TEAM_LEADER,
		// COORDINATOR) plus ADMIN, which is platform-wide.
		field.Strings("roles").Annotations(entgql.Skip(entgql.SkipAll)),
		// Optional; a person under 14 (China time, by year) needs a
		// guardian's consent recorded by staff for sensitive processing
		// (rights.Minor, PIPL art. 31). Read through myProfile only.
		field.Int("birth_year").Optional().Nillable().Range(1900, 2100).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Set once when the account is deleted (rights.Delete): the row
		// stays, anonymised, so that statistics stay exact.
		field.Time("deleted_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Person.
func (Person) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("volunteer_profile", VolunteerProfile.Type).Unique(),
		// Person.teams in GraphQL, so that entgql's field collection loads it
		// with the list (one statement per page, not one per person).
		edge.To("memberships", TeamMembership.Type).
			Annotations(entgql.MapsTo("teams"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		edge.To("registrations", Registration.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		// For authz.RequestCounterparts (who handles a resident's request).
		edge.From("submitted_requests", Request.Type).Ref("submitter").Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("assigned_requests", Request.Type).Ref("assignee").Annotations(entgql.Skip(entgql.SkipAll)),
		// The back reference that makes HomeVisit.volunteers many-to-many
		// (a volunteer goes on many visits).
		edge.From("home_visits", HomeVisit.Type).Ref("volunteers").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Person.
func (Person) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "display_name"),
		index.Fields("community_id", "phone").Unique(),
		index.Fields("phone").Unique().Annotations(entsql.IndexWhere("password_hash <> ''")),
	}
}

// Mixin of the Person.
func (Person) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Person.
func (Person) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of the Person: staff read their community's people, everyone else
// only those an activity or team needs to show (authz.People).
func (Person) Policy() ent.Policy { return authz.People() }

// Interceptors of the Person: kiosks see masked display names.
func (Person) Interceptors() []ent.Interceptor { return []ent.Interceptor{authz.KioskNames()} }

// Session is a bearer token. Only its SHA-256 is stored.
type Session struct{ ent.Schema }

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").Unique().Immutable().Sensitive(),
		field.Int("person_id").Immutable(),
		field.Time("expires_at"),
		field.Time("revoked_at").Optional().Nillable(),
		// The session ends when unused until then (the idle timeout of its
		// class, auth.Config.IdleTimeout); moved forward as it is used.
		// Nil: no idle timeout (sessions issued before it existed).
		field.Time("idle_expires_at").Optional().Nillable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable()}
}

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Session: only the system (the auth service) touches tokens.
func (Session) Policy() ent.Policy { return systemOnlyPolicy() }

// VolunteerProfile marks a person registered to serve.
type VolunteerProfile struct{ ent.Schema }

// Fields of the VolunteerProfile.
func (VolunteerProfile) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Unique().Immutable(),
		field.Strings("skills").Optional(),
		field.Time("registered_at").Default(now),
	}
}

// Edges of the VolunteerProfile.
func (VolunteerProfile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("person", Person.Type).Ref("volunteer_profile").Field("person_id").Unique().Required().Immutable(),
	}
}

// Mixin of the VolunteerProfile.
func (VolunteerProfile) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the VolunteerProfile.
func (VolunteerProfile) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}

// Policy of the VolunteerProfile: its person and staff read it.
func (VolunteerProfile) Policy() ent.Policy { return authz.VolunteerProfiles() }
