package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PhoneCode is a pending phone-verification code (auth.RequestPhoneCode):
// one per phone, stored only as a hash, valid until expires_at and for a few
// wrong attempts. It belongs to no community: a phone is unique on the
// platform, and the code is asked for before there is an account.
type PhoneCode struct{ ent.Schema }

// Fields of the PhoneCode.
func (PhoneCode) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").NotEmpty().MaxLen(20).Unique(),
		field.Bytes("code_hash").Sensitive(),
		field.Time("expires_at"),
		field.Int("attempts").NonNegative().Default(0),
		field.Time("created_at").Default(now),
	}
}

// Indexes of the PhoneCode: expired codes are swept by expires_at.
func (PhoneCode) Indexes() []ent.Index { return []ent.Index{index.Fields("expires_at")} }

// Annotations of the PhoneCode.
func (PhoneCode) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the PhoneCode: only the system (the auth service) touches codes.
func (PhoneCode) Policy() ent.Policy { return systemOnlyPolicy() }
