package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Job is one unit of background work (the jobs package): written in the
// same transaction as the change that causes it, claimed by one replica
// under a lease, deleted when done (a periodic job is rescheduled instead),
// and kept as FAILED for staff when its attempts ran out. It belongs to no
// community; only the system touches jobs.
type Job struct{ ent.Schema }

// Fields of the Job.
func (Job) Fields() []ent.Field {
	return []ent.Field{
		field.String("kind").NotEmpty().MaxLen(100),
		// JSON, as the enqueuer encoded it.
		field.Text("payload").Default(""),
		// unique_key dedupes: at most one job holds a key (NULL: none).
		field.String("unique_key").Optional().Nillable().MaxLen(200).Unique(),
		field.Enum("state").Values("AVAILABLE", "RUNNING", "FAILED").Default("AVAILABLE"),
		field.Time("run_at"),
		field.Int("attempts").Default(0),
		field.Int("max_attempts").Default(10),
		// period_seconds > 0: a periodic job, rescheduled after each run.
		field.Int("period_seconds").Default(0),
		field.Text("last_error").Optional().Nillable(),
		// lease is the claim's random token; lease_until when it expires
		// (then any replica may claim the job again).
		field.String("lease").Optional().Nillable().MaxLen(64),
		field.Time("lease_until").Optional().Nillable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Indexes of the Job: claims look for due jobs in run_at order.
func (Job) Indexes() []ent.Index {
	return []ent.Index{index.Fields("state", "run_at")}
}

// Annotations of the Job.
func (Job) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of the Job: only the system.
func (Job) Policy() ent.Policy { return systemOnlyPolicy() }
