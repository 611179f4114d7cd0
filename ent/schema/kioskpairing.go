package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// KioskPairingCode is a short-lived, single-use code staff show to a
// tablet so that it can receive its kiosk's token (pairing package). Only
// the code's SHA-256 is kept; used_at is set once, by the pairing that
// consumed it.
type KioskPairingCode struct{ ent.Schema }

// Fields of the KioskPairingCode.
func (KioskPairingCode) Fields() []ent.Field {
	return []ent.Field{
		field.Int("kiosk_id").Immutable(),
		field.Bytes("code_hash").Unique().Immutable().Sensitive(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
		field.Int("created_by_id").Optional().Nillable().Immutable(),
		field.Time("created_at").Default(now).Immutable(),
	}
}

// Edges of the KioskPairingCode.
func (KioskPairingCode) Edges() []ent.Edge {
	return []ent.Edge{edge.To("kiosk", Kiosk.Type).Field("kiosk_id").Unique().Required().Immutable()}
}

// Indexes of the KioskPairingCode: expired codes are swept by expires_at.
func (KioskPairingCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at"), index.Fields("kiosk_id")}
}

// Annotations of the KioskPairingCode.
func (KioskPairingCode) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the KioskPairingCode: only the system (the pairing service)
// touches codes; it checks who may create one itself.
func (KioskPairingCode) Policy() ent.Policy { return systemOnlyPolicy() }
