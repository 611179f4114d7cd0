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

// CalendarFeed is a secret iCalendar URL (package calendar): a person's
// own activities, or the activities of a team or a venue for its staff.
// Only the token's SHA-256 is kept; rotating a feed revokes the old row and
// makes a new one, and revoking a person's account revokes their feeds.
type CalendarFeed struct{ ent.Schema }

// Fields of the CalendarFeed.
func (CalendarFeed) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("token_hash").Unique().Immutable().Sensitive(),
		field.Enum("scope").Values("PERSON", "TEAM", "VENUE").Immutable(),
		// The holder: the person whose activities a PERSON feed lists, the
		// staff member (or leader) who made a TEAM or VENUE feed.
		field.Int("person_id").Immutable(),
		field.Int("team_id").Optional().Nillable().Immutable(),
		field.Int("venue_id").Optional().Nillable().Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the CalendarFeed: a holder's live feeds are found by person.
func (CalendarFeed) Indexes() []ent.Index { return []ent.Index{index.Fields("person_id", "scope")} }

// Mixin of the CalendarFeed.
func (CalendarFeed) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the CalendarFeed.
func (CalendarFeed) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the CalendarFeed: only the system (the calendar service, which
// checks who may hold which feed) touches feeds.
func (CalendarFeed) Policy() ent.Policy { return systemOnlyPolicy() }

// Webhook is a community's subscription of an integration to events:
// deliveries are POSTed to url, signed with secret (package webhooks).
// A deleted webhook keeps its row (deleted_at) so its history stays
// readable in the audit log's terms; it gets no more deliveries.
type Webhook struct{ ent.Schema }

// Fields of the Webhook.
func (Webhook) Fields() []ent.Field {
	return []ent.Field{
		field.String("url").NotEmpty().MaxLen(2000).Immutable(),
		field.String("secret").NotEmpty().Sensitive().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("events"),
		field.String("description").Default("").MaxLen(200),
		field.Int("created_by_id").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.Time("deleted_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Webhook.
func (Webhook) Edges() []ent.Edge {
	return []ent.Edge{edge.To("deliveries", WebhookDelivery.Type).Annotations(entgql.Skip(entgql.SkipAll))}
}

// Mixin of the Webhook.
func (Webhook) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Webhook.
func (Webhook) Annotations() []schema.Annotation { return []schema.Annotation{skipInputs} }

// Policy of the Webhook: staff of its community only.
func (Webhook) Policy() ent.Policy { return authz.StaffRead() }

// WebhookDelivery is one event sent (or to be sent) to one webhook, with
// the outcome of its attempts. uuid is the unique delivery id receivers
// deduplicate by (header X-Linli-Delivery): every attempt of a delivery
// carries the same one.
type WebhookDelivery struct{ ent.Schema }

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.Int("webhook_id").Immutable(),
		field.String("uuid").NotEmpty().MaxLen(64).Unique().Immutable(),
		field.String("event").NotEmpty().MaxLen(64).Immutable(),
		field.Text("payload").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("status").Values("PENDING", "DELIVERED", "FAILED").Default("PENDING").
			Annotations(entgql.Type("WebhookDeliveryStatus")),
		field.Int("attempts").NonNegative().Default(0),
		field.String("last_error").Default("").MaxLen(500),
		field.Int("response_code").Optional().Nillable(),
		field.Time("created_at").Default(now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("last_attempt_at").Optional().Nillable(),
		field.Time("delivered_at").Optional().Nillable(),
	}
}

// Edges of the WebhookDelivery.
func (WebhookDelivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("webhook", Webhook.Type).Ref("deliveries").Field("webhook_id").Unique().Required().Immutable(),
	}
}

// Indexes of the WebhookDelivery: a webhook's history, newest first.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{index.Fields("webhook_id", "created_at")}
}

// Mixin of the WebhookDelivery.
func (WebhookDelivery) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the WebhookDelivery.
func (WebhookDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{skipInputs, entgql.RelayConnection()}
}

// Policy of the WebhookDelivery: staff of its community only.
func (WebhookDelivery) Policy() ent.Policy { return authz.StaffRead() }

// NotificationDelivery is the copy of one inbox notification sent (or to
// be sent) through one external channel (WeChat, SMS) by package channels,
// with the outcome of its attempts: the log staff read to see what failed.
type NotificationDelivery struct{ ent.Schema }

// Fields of the NotificationDelivery.
func (NotificationDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.Int("notification_id").Immutable().Annotations(entgql.Type("ID")),
		field.Int("person_id").Immutable().Annotations(entgql.Type("ID")),
		field.Enum("channel").Values("WECHAT", "SMS").Immutable().
			Annotations(entgql.Type("DeliveryChannel")),
		field.String("kind").NotEmpty().MaxLen(64).Immutable(),
		field.Enum("status").Values("PENDING", "SENT", "FAILED", "SKIPPED").Default("PENDING").
			Annotations(entgql.Type("NotificationDeliveryStatus")),
		field.Int("attempts").NonNegative().Default(0),
		field.String("last_error").Default("").MaxLen(500),
		field.Time("created_at").Default(now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("last_attempt_at").Optional().Nillable(),
		field.Time("sent_at").Optional().Nillable(),
	}
}

// Indexes of the NotificationDelivery: one row per notification and
// channel; the log is read by community and status, newest first.
func (NotificationDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("notification_id", "channel").Unique(),
		index.Fields("community_id", "status", "created_at"),
	}
}

// Mixin of the NotificationDelivery.
func (NotificationDelivery) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the NotificationDelivery.
func (NotificationDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{skipInputs, entgql.RelayConnection()}
}

// Policy of the NotificationDelivery: staff of its community only.
func (NotificationDelivery) Policy() ent.Policy { return authz.StaffRead() }

// WechatBinding is the WeChat openid a person gave linli for subscribe
// messages (the WeChat channel's address; SMS goes to the phone).
type WechatBinding struct{ ent.Schema }

// Fields of the WechatBinding.
func (WechatBinding) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Unique().Immutable(),
		field.String("openid").NotEmpty().MaxLen(128).Sensitive(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Mixin of the WechatBinding.
func (WechatBinding) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the WechatBinding.
func (WechatBinding) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the WechatBinding: only the system (package channels, which
// lets a person set only their own).
func (WechatBinding) Policy() ent.Policy { return systemOnlyPolicy() }
