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

// Activity is a community event with one or more slots.
type Activity struct{ ent.Schema }

// Fields of the Activity.
func (Activity) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200),
		field.String("description").Default("").MaxLen(10000),
		// The five service modules: 场 square, 堂 hall, 庭 family, 校 school, 网 online.
		field.Enum("category").Values("SQUARE", "HALL", "FAMILY", "SCHOOL", "ONLINE"),
		field.Enum("service_type").
			Values("APPEALS", "POVERTY_RELIEF", "CULTURE", "COUNSELING", "LEGAL", "HEALTH", "EDUCATION", "EMPLOYMENT").
			Annotations(entgql.Type("ServiceType")),
		field.Enum("status").Values("DRAFT", "PUBLISHED", "CANCELLED", "COMPLETED").Default("DRAFT").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Int("team_id").Optional().Nillable(),
		field.Int("venue_id").Optional().Nillable(),
		field.Time("starts_at").Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at"),
		field.Time("signup_opens_at").Optional().Nillable(),
		field.Time("signup_closes_at").Optional().Nillable(),
		// Check-in window: from this many minutes before the start to the end.
		field.Int("checkin_opens_minutes").NonNegative().Default(60),
		// When the activity was first published; nil while it has never been.
		// The read rule keys on it, so a draft cancelled before it was ever
		// published stays with its organisers (authz.ActivityVisible).
		field.Time("published_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		// Grows with every change to the counts of any of its slots.
		field.Int64("counts_version").Default(0).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// An occurrence of a series (package series): its series and the
		// rule's instant it stands for (its key, kept when its times move).
		field.Int("series_id").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		field.Time("occurrence_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	}
}

// Edges of the Activity.
func (Activity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("team", Team.Type).Ref("activities").Field("team_id").Unique(),
		edge.From("venue", Venue.Type).Ref("activities").Field("venue_id").Unique(),
		edge.To("slots", Slot.Type).Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.From("series", Series.Type).Ref("occurrences").Field("series_id").Unique().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Activity.
func (Activity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "starts_at"),
		index.Fields("community_id", "status", "starts_at"),
		// One activity per occurrence, whoever materialises it.
		index.Fields("series_id", "occurrence_at").Unique(),
	}
}

// Mixin of the Activity.
func (Activity) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Activity.
func (Activity) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
		entsql.Checks(map[string]string{
			"activity_time_order": "ends_at >= starts_at",
		}),
	}
}

// Policy of the Activity: what was never published is visible to staff and
// the leaders of its team only.
func (Activity) Policy() ent.Policy { return activityPolicy() }

// Hooks of the Activity: every write that makes an activity PUBLISHED (or
// creates it PUBLISHED or COMPLETED) stamps published_at.
func (Activity) Hooks() []ent.Hook { return []ent.Hook{authz.MarkPublished()} }

// Slot is where capacity lives: attendee seats or a volunteer position.
type Slot struct{ ent.Schema }

// Fields of the Slot.
func (Slot) Fields() []ent.Field {
	return []ent.Field{
		field.Int("activity_id").Immutable(),
		field.String("name").NotEmpty().MaxLen(100),
		field.Enum("kind").Values("ATTENDEE", "VOLUNTEER").Default("ATTENDEE"),
		field.Int("capacity").NonNegative(),
		field.Int("taken").NonNegative().Default(0).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Int("waitlisted").NonNegative().Default(0).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Int("pending").NonNegative().Default(0).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Int("checked_in").NonNegative().Default(0).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("starts_at").Optional().Nillable(),
		field.Time("ends_at").Optional().Nillable(),
		field.Int("max_seats_per_signup").Positive().Default(1),
		field.Bool("requires_approval").Default(false),
		field.Bool("waitlist_enabled").Default(true),
		// Qualification kinds a volunteer must hold, all of them, in force
		// when the sign-up (or approval, or walk-in) is decided
		// (ledger.Eligible); set with setSlotRequirements.
		field.Ints("required_qualifications").Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		// A sign-up by someone with more no-shows than this (in the
		// community's window, package reliability) waits for approval;
		// nil: no limit.
		field.Int("no_show_limit").Optional().Nillable().NonNegative(),
		// The slot of its series' plan this one was made from (nil: none).
		field.Int("series_position").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Slot.
func (Slot) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("activity", Activity.Type).Ref("slots").Field("activity_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Slot.
func (Slot) Indexes() []ent.Index {
	return []ent.Index{index.Fields("activity_id")}
}

// Mixin of the Slot.
func (Slot) Mixin() []ent.Mixin {
	return []ent.Mixin{CommunityScoped{}, Timestamps{}, WaitlistOffers{}}
}

// Annotations of the Slot: the database refuses any oversold or negative counter.
func (Slot) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
		entsql.Checks(map[string]string{
			"slot_capacity_nonneg":   "capacity >= 0",
			"slot_taken_range":       "taken >= 0 AND taken <= capacity",
			"slot_waitlisted_nonneg": "waitlisted >= 0",
			"slot_pending_nonneg":    "pending >= 0",
			"slot_checked_in_nonneg": "checked_in >= 0",
		}),
	}
}

// Policy of the Slot: staff write, and team leaders for their teams' activities.
func (Slot) Policy() ent.Policy { return slotPolicy() }
