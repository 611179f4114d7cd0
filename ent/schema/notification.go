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

// Notification is one message in a person's inbox (通知): what happened,
// in Chinese, naming the activity or request, its time and place. The
// inbox is the always-on channel; external channels deliver copies. Only
// the notify package writes notifications, and a person reads only their
// own (authz.OwnNotifications).
type Notification struct{ ent.Schema }

// NotificationKinds are the kinds of notification (API.md NotificationKind).
var NotificationKinds = []string{
	"WAITLIST_PROMOTED", "SIGNUP_APPROVED", "SIGNUP_REJECTED",
	"ACTIVITY_CHANGED", "ACTIVITY_CANCELLED", "REMINDER",
	"HOURS_CREDITED", "CERTIFICATE_ISSUED",
	"QUALIFICATION_EXPIRING", "QUALIFICATIONS_EXPIRING",
	"REQUEST_UPDATED", "REQUEST_ASSIGNED", "REQUEST_FOLLOW_UP",
}

// Mixin of the Notification.
func (Notification) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("kind").Values(NotificationKinds...).Immutable().Annotations(entgql.Type("NotificationKind")),
		field.String("title").MaxLen(200).Immutable(),
		field.Text("body").Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("read_at").Optional().Nillable(),
		field.Int("activity_id").Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("registration_id").Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("request_id").Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// source dedupes: one notification per cause and person (e.g. a
		// reminder: person, activity, lead minutes).
		field.String("source").MaxLen(200).Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Notification: what it is about, each readable only when the
// viewer may read the row itself.
func (Notification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("activity", Activity.Type).Field("activity_id").Unique().Immutable().Annotations(skipNarrowedEdge),
		edge.To("registration", Registration.Type).Field("registration_id").Unique().Immutable().Annotations(skipNarrowedEdge),
		edge.To("request", Request.Type).Field("request_id").Unique().Immutable().Annotations(skipNarrowedEdge),
	}
}

// Indexes of the Notification: a person's inbox, newest first, and unread.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("person_id", "created_at"),
		index.Fields("person_id", "read_at"),
	}
}

// Annotations of the Notification.
func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipOrderField)}
}

// Policy of the Notification.
func (Notification) Policy() ent.Policy { return authz.OwnNotifications() }

// NotificationPreference is one person's choice of channels, muted kinds,
// reminder lead times and quiet hours (a missing row or an unset field:
// the community's default).
type NotificationPreference struct{ ent.Schema }

// Mixin of the NotificationPreference.
func (NotificationPreference) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Fields of the NotificationPreference.
func (NotificationPreference) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Unique().Immutable(),
		// External channels (WECHAT, SMS); IN_APP is always on.
		field.Strings("channels").Optional(),
		field.Strings("muted_kinds").Optional(),
		// nil: the community's default.
		field.Ints("reminder_lead_minutes").Optional(),
		field.String("quiet_hours_start").Optional().Nillable().MaxLen(5),
		field.String("quiet_hours_end").Optional().Nillable().MaxLen(5),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Edges of the NotificationPreference.
func (NotificationPreference) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable(),
	}
}

// Annotations of the NotificationPreference.
func (NotificationPreference) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the NotificationPreference.
func (NotificationPreference) Policy() ent.Policy { return authz.OwnNotifications() }
