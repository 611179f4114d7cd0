package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// Community is the tenant: every other row belongs to exactly one.
type Community struct{ ent.Schema }

// Fields of the Community.
func (Community) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		field.String("town").Default("").MaxLen(100),
		field.String("city").Default("").MaxLen(100),
		field.Int("households").NonNegative().Default(0),
		// 常住人口: resident population, for the volunteer share.
		field.Int("resident_population").NonNegative().Default(0),
		// Prefix of its requests' numbers (QJ-2026-0042); empty: "R".
		field.String("request_prefix").Default("").MaxLen(6).Match(requestPrefix).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Float("area_km2").Default(0).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		// Star-level thresholds in hours (1★ … 5★), configurable per community.
		field.Ints("star_thresholds").Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		// Months a no-show counts against a person (package reliability);
		// older ones are forgotten.
		field.Int("no_show_window_months").Range(1, 60).Default(6),
		// Notification defaults (notify): reminder lead times in minutes
		// (nil: 24 h and 2 h) and quiet hours "HH:MM" China time (nil:
		// 22:00–07:00).
		field.Ints("reminder_lead_minutes").Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("quiet_hours_start").Optional().Nillable().MaxLen(5).Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("quiet_hours_end").Optional().Nillable().MaxLen(5).Annotations(entgql.Skip(entgql.SkipAll)),
		// How far ahead series materialise their occurrences (package series).
		field.Int("series_window_weeks").Default(8).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// requestPrefix is a few capital letters (or none).
var requestPrefix = regexp.MustCompile(`^[A-Z]{0,6}$`)

// Mixin of the Community.
func (Community) Mixin() []ent.Mixin { return []ent.Mixin{Timestamps{}} }

// Annotations of the Community.
func (Community) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of the Community.
func (Community) Policy() ent.Policy { return communityPolicy() }
