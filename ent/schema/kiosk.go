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

// skipInputs keeps a type out of entgql's generated mutation inputs: these
// rows are written only by the check-in service.
var skipInputs = entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)

// Kiosk is a check-in tablet at a venue. It signs in with its own bearer
// token, of which only the SHA-256 is kept.
type Kiosk struct{ ent.Schema }

// Fields of the Kiosk.
func (Kiosk) Fields() []ent.Field {
	return []ent.Field{
		field.Int("venue_id").Immutable(),
		field.String("name").NotEmpty().MaxLen(100),
		// Replaced when a tablet pairs with the kiosk (pairing package).
		field.Bytes("token_hash").Unique().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("created_by_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_seen_at").Optional().Nillable(),
	}
}

// Edges of the Kiosk.
func (Kiosk) Edges() []ent.Edge {
	return []ent.Edge{edge.To("venue", Venue.Type).Field("venue_id").Unique().Required().Immutable()}
}

// Indexes of the Kiosk.
func (Kiosk) Indexes() []ent.Index { return []ent.Index{index.Fields("community_id", "venue_id")} }

// Mixin of the Kiosk.
func (Kiosk) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the Kiosk.
func (Kiosk) Annotations() []schema.Annotation { return []schema.Annotation{skipInputs} }

// Policy of the Kiosk: staff manage their community's kiosks; a kiosk sees itself.
func (Kiosk) Policy() ent.Policy { return authz.Kiosks() }

// CheckInScan is one check-in, check-out or undo as it was asked for and
// answered. The (kiosk, nonce) pair makes a retried scan return the answer
// of the first, if it asks the same (request_hash); scanned_at is when the
// kiosk scanned (offline scans arrive later), recorded_at when linli learnt
// of it.
type CheckInScan struct{ ent.Schema }

// Fields of the CheckInScan.
func (CheckInScan) Fields() []ent.Field {
	return []ent.Field{
		field.Int("kiosk_id").Optional().Nillable().Immutable(),
		// The staff member who scanned or checked in by hand (no kiosk).
		field.Int("actor_id").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.String("nonce").NotEmpty().MaxLen(100).Immutable(),
		// What was asked under the nonce (SHA-256 of the operation and its
		// input): a retry must ask the same, another scan under a used nonce
		// is a CONFLICT.
		field.Bytes("request_hash").Optional().Immutable().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("kind").Values("IN", "OUT", "UNDO").Immutable().
			Annotations(entgql.Type("CheckInKind")),
		field.Enum("method").Values("SCAN", "MANUAL", "WALK_IN", "SYNC", "AUTO", "SELF").Immutable().
			Annotations(entgql.Type("CheckInMethod")),
		field.Int("registration_id").Optional().Nillable().Immutable(),
		// No edge (a scan of an unknown code names the tablet's activity),
		// but an ID all the same: clients get opaque IDs only.
		field.Int("activity_id").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.Enum("status").
			Values("OK", "ALREADY_CHECKED_IN", "ALREADY_CHECKED_OUT", "NOT_CHECKED_IN", "NOT_CONFIRMED",
				"CANCELLED", "WRONG_ACTIVITY", "WRONG_VENUE", "TOO_EARLY", "TOO_LATE", "UNKNOWN_CODE",
				// A volunteer's check-out that would credit no minute; a self
				// check-in with a venue code past its time window.
				"NO_TIME_SERVED", "CODE_EXPIRED").
			Immutable().Annotations(entgql.Type("CheckInStatus")),
		field.String("message").Default("").MaxLen(500).Immutable(),
		field.Time("scanned_at").Immutable(),
		field.Time("recorded_at").Default(now).Immutable(),
	}
}

// Edges of the CheckInScan.
func (CheckInScan) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("kiosk", Kiosk.Type).Field("kiosk_id").Unique().Immutable(),
		edge.To("registration", Registration.Type).Field("registration_id").Unique().Immutable(),
	}
}

// Indexes of the CheckInScan: a nonce is unique per kiosk, or per staff
// member for scans made without a kiosk.
func (CheckInScan) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kiosk_id", "nonce").Unique().
			Annotations(entsql.IndexWhere("kiosk_id IS NOT NULL")),
		index.Fields("actor_id", "nonce").Unique().
			Annotations(entsql.IndexWhere("kiosk_id IS NULL AND actor_id IS NOT NULL")),
		index.Fields("activity_id", "status"),
		index.Fields("registration_id"),
	}
}

// Mixin of the CheckInScan.
func (CheckInScan) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the CheckInScan.
func (CheckInScan) Annotations() []schema.Annotation { return []schema.Annotation{skipInputs} }

// Policy of the CheckInScan: staff read their community's, a kiosk its own.
func (CheckInScan) Policy() ent.Policy { return authz.CheckInScans() }

// ServiceRecord is a volunteer's 志愿服务记录: one served position with the
// fields the national volunteer-record rules ask for. It is made from a
// check-in and check-out; minutes are what was actually served.
type ServiceRecord struct{ ent.Schema }

// Fields of the ServiceRecord.
func (ServiceRecord) Fields() []ent.Field {
	return []ent.Field{
		field.Int("person_id").Immutable(),
		// An ID to clients, like every reference, though it has no edge here.
		field.Int("registration_id").Optional().Nillable().Unique().Immutable().Annotations(entgql.Type("ID")),
		field.Int("activity_id").Optional().Nillable().Immutable(),
		// The home visit served, for records made by recordHomeVisit (no
		// registration or activity then).
		field.Int("home_visit_id").Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.String("activity_name").MaxLen(200),
		// The day of service in China Standard Time, YYYY-MM-DD.
		field.String("service_date").MaxLen(10),
		field.String("place").Default("").MaxLen(300),
		field.String("service_content").Default("").MaxLen(500),
		field.Time("started_at").Annotations(entgql.OrderField("STARTED_AT")),
		field.Time("ended_at"),
		field.Int("minutes").NonNegative(),
		field.String("organizing_team").Default("").MaxLen(100),
		field.String("person_in_charge").Default("").MaxLen(100),
		field.String("recorded_by").Default("").MaxLen(100),
		field.Bool("flagged_for_review").Default(false),
		field.String("flag_reason").Default("").MaxLen(300),
		field.Time("corrected_at").Optional().Nillable(),
		field.Int("corrected_by_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("correction_reason").Default("").MaxLen(500),
	}
}

// Edges of the ServiceRecord.
func (ServiceRecord) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable(),
		edge.To("activity", Activity.Type).Field("activity_id").Unique().Immutable(),
	}
}

// Indexes of the ServiceRecord.
func (ServiceRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("person_id", "started_at"),
		index.Fields("community_id", "flagged_for_review"),
		index.Fields("home_visit_id"),
		// Service hours of a period (statistics).
		index.Fields("community_id", "started_at"),
	}
}

// Mixin of the ServiceRecord.
func (ServiceRecord) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}, Timestamps{}} }

// Annotations of the ServiceRecord.
func (ServiceRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(), skipInputs,
		entsql.Checks(map[string]string{"service_record_time_order": "ended_at >= started_at"}),
	}
}

// Policy of the ServiceRecord: a volunteer reads their own, staff their
// community's; only the check-in service writes.
func (ServiceRecord) Policy() ent.Policy { return authz.PersonalRecords() }

// Certificate is a service certificate: a snapshot of a volunteer's hours
// and star level with a code anyone can verify.
type Certificate struct{ ent.Schema }

// Fields of the Certificate.
func (Certificate) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").NotEmpty().MaxLen(40).Unique().Immutable(),
		field.Int("person_id").Immutable(),
		field.String("person_name").Immutable(),
		field.Int("minutes").NonNegative().Immutable(),
		field.Int("record_count").NonNegative().Immutable(),
		field.Int("star_level").NonNegative().Immutable(),
		field.Time("issued_at").Default(now).Immutable(),
		field.Int("issued_by_id").Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Certificate.
func (Certificate) Edges() []ent.Edge {
	return []ent.Edge{edge.To("person", Person.Type).Field("person_id").Unique().Required().Immutable()}
}

// Mixin of the Certificate.
func (Certificate) Mixin() []ent.Mixin { return []ent.Mixin{CommunityScoped{}} }

// Annotations of the Certificate.
func (Certificate) Annotations() []schema.Annotation { return []schema.Annotation{skipInputs} }

// Policy of the Certificate: its person and staff read it; verification
// goes through the check-in service.
func (Certificate) Policy() ent.Policy { return authz.PersonalRecords() }
