package jobs

import (
	"context"
	"time"

	"linli/ent"
	"linli/ent/job"
	"linli/viewer"
)

// Stats is the table's state, for metrics.
type Stats struct {
	// Queued jobs wait (due or not); Due of them are due now.
	Queued, Due int
	// Running jobs are claimed under a live lease.
	Running int
	// Failed jobs ran out of attempts (kept for staff).
	Failed int
	// OldestDue is how long the oldest due job has waited (0: none).
	OldestDue time.Duration
}

// ReadStats reads the table's state (four small queries on the state
// index).
func ReadStats(ctx context.Context, c *ent.Client) (Stats, error) {
	sys := viewer.System(ctx)
	now := time.Now().UTC()
	var s Stats
	var err error
	if s.Queued, err = c.Job.Query().Where(job.StateEQ(job.StateAVAILABLE)).Count(sys); err != nil {
		return s, err
	}
	if s.Running, err = c.Job.Query().Where(job.StateEQ(job.StateRUNNING), job.LeaseUntilGTE(now)).Count(sys); err != nil {
		return s, err
	}
	if s.Failed, err = c.Job.Query().Where(job.StateEQ(job.StateFAILED)).Count(sys); err != nil {
		return s, err
	}
	due := c.Job.Query().Where(job.Or(job.And(job.StateEQ(job.StateAVAILABLE), job.RunAtLTE(now)),
		job.And(job.StateEQ(job.StateRUNNING), job.LeaseUntilLT(now))))
	if s.Due, err = due.Clone().Count(sys); err != nil {
		return s, err
	}
	if s.Due > 0 {
		oldest, err := due.Order(ent.Asc(job.FieldRunAt)).First(sys)
		if err != nil && !ent.IsNotFound(err) {
			return s, err
		}
		if oldest != nil {
			s.OldestDue = max(now.Sub(oldest.RunAt), 0)
		}
	}
	return s, nil
}

// Failed lists failed jobs of kind (all kinds when empty), newest first,
// at most limit.
func Failed(ctx context.Context, c *ent.Client, kind string, limit int) ([]*ent.Job, error) {
	q := c.Job.Query().Where(job.StateEQ(job.StateFAILED))
	if kind != "" {
		q.Where(job.Kind(kind))
	}
	return q.Order(ent.Desc(job.FieldUpdatedAt), ent.Desc(job.FieldID)).Limit(limit).All(viewer.System(ctx))
}

// Retry makes a FAILED job due again with fresh attempts; it reports
// whether id was a failed job.
func Retry(ctx context.Context, tx *ent.Tx, id int) (bool, error) {
	n, err := tx.Job.Update().Where(job.ID(id), job.StateEQ(job.StateFAILED)).SetState(job.StateAVAILABLE).
		SetAttempts(0).SetRunAt(time.Now().UTC().Truncate(time.Microsecond)).Save(viewer.System(ctx))
	if err == nil && n > 0 {
		wakeOnCommit(tx)
	}
	return n > 0, err
}
