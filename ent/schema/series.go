package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"linli/series/plan"
)

// Plan is what an activity template and a series keep of the activity
// they make: its texts, kind, team and venue, its length and windows (in
// minutes, relative to each start) and its slots. Team and venue are plain
// ids checked on write (like an activity's, by organize).
type Plan struct{ mixin.Schema }

// Fields of the Plan mixin.
func (Plan) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200),
		field.String("description").Default("").MaxLen(10000),
		// activity.Category and activity.ServiceType values.
		field.String("category").MaxLen(20),
		field.String("service_type").MaxLen(20),
		field.Int("team_id").Optional().Nillable(),
		field.Int("venue_id").Optional().Nillable(),
		field.Int("duration_minutes").Positive(),
		field.Int("checkin_opens_minutes").NonNegative().Default(60),
		// Sign-up opens this many minutes before the start (nil: at once)
		// and closes this many before it (nil: at the end).
		field.Int("signup_opens_minutes").Optional().Nillable(),
		field.Int("signup_closes_minutes").Optional().Nillable(),
		field.JSON("slots", []plan.Slot{}),
	}
}

// ActivityTemplate is a saved activity to create others from.
type ActivityTemplate struct{ ent.Schema }

// Fields of the ActivityTemplate.
func (ActivityTemplate) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		// Minutes after midnight, China time, of the activity it was saved from.
		field.Int("start_minute").Min(0).Max(24*60 - 1).Default(0),
	}
}

// Indexes of the ActivityTemplate.
func (ActivityTemplate) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "name")}
}

// Mixin of the ActivityTemplate.
func (ActivityTemplate) Mixin() []ent.Mixin {
	return []ent.Mixin{CommunityScoped{}, Timestamps{}, Plan{}}
}

// Annotations of the ActivityTemplate: its GraphQL type is hand-written
// (schema/series.graphql).
func (ActivityTemplate) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the ActivityTemplate: read in the community, written by staff.
func (ActivityTemplate) Policy() ent.Policy { return scopedPolicy(staffWrites) }

// Series is a recurring activity: a plan and an RFC 5545 recurrence rule
// whose occurrences are materialised ahead as ordinary activities.
type Series struct{ ent.Schema }

// Fields of the Series.
func (Series) Fields() []ent.Field {
	return []ent.Field{
		// RRULE without DTSTART (FREQ=WEEKLY;BYDAY=TU;UNTIL=…).
		field.String("rrule").NotEmpty().MaxLen(500),
		// The first occurrence; the rule repeats it in China time.
		field.Time("dtstart"),
		// Every occurrence starts this many minutes after the rule's
		// instant (changed by time edits, so the rule's instants stay the
		// occurrences' keys).
		field.Int("start_shift_minutes").Default(0),
		// Rule instants skipped (holidays).
		field.JSON("exdates", []time.Time{}).Optional(),
		// Occurrences from here on are cancelled and no more are made.
		field.Time("cancelled_from").Optional().Nillable(),
		// Occurrences are materialised up to here.
		field.Time("materialised_until").Optional().Nillable(),
		// Volunteers may sign up for every occurrence of a slot at once.
		field.Bool("recurring_signup").Default(false),
		// Standing sign-ups per slot position (nil: half its capacity, at least 1).
		field.Int("standing_cap").Optional().Nillable(),
	}
}

// Edges of the Series.
func (Series) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("occurrences", Activity.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("standing", StandingSignup.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Mixin of the Series.
func (Series) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}, Plan{}} }

// Annotations of the Series: its GraphQL type is hand-written.
func (Series) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Series: read in the community, written by staff.
func (Series) Policy() ent.Policy { return scopedPolicy(staffWrites) }

// StandingSignup is a volunteer's sign-up for one slot position of every
// future occurrence of a series. Booked through the ledger like any
// sign-up; booked_until is the last occurrence it has been booked for.
type StandingSignup struct{ ent.Schema }

// Fields of the StandingSignup.
func (StandingSignup) Fields() []ent.Field {
	return []ent.Field{
		field.Int("series_id").Immutable(),
		field.Int("person_id").Immutable(),
		field.Int("position").Immutable().NonNegative(),
		field.Time("booked_until").Optional().Nillable(),
		field.Time("cancelled_at").Optional().Nillable(),
	}
}

// Edges of the StandingSignup.
func (StandingSignup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("series", Series.Type).Ref("standing").Field("series_id").Unique().Required().Immutable(),
	}
}

// Indexes of the StandingSignup.
func (StandingSignup) Indexes() []ent.Index {
	return []ent.Index{index.Fields("series_id", "person_id", "position").Unique()}
}

// Mixin of the StandingSignup.
func (StandingSignup) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the StandingSignup.
func (StandingSignup) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the StandingSignup: written and read by the series package as
// the system, after its own checks (authz).
func (StandingSignup) Policy() ent.Policy { return systemOnlyPolicy() }
