package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"linli/ent"
	"linli/ent/job"
	"linli/viewer"
)

// Conflict says what Enqueue does when a job's Key is already held.
type Conflict int

const (
	// Keep leaves the existing job as it is (dedupe).
	Keep Conflict = iota
	// Replace gives the existing job this one's kind, payload, run time
	// and max attempts, and makes it due again with no attempts (reschedule).
	Replace
)

// DefaultMaxAttempts is how often a job runs before it is FAILED.
const DefaultMaxAttempts = 10

// Job is work to enqueue.
type Job struct {
	Kind string
	// Payload is encoded as JSON ([]byte and json.RawMessage as they are).
	Payload any
	// RunAt is when the job becomes due (zero: now).
	RunAt time.Time
	// Key, when set, makes the job unique (see OnConflict).
	Key        string
	OnConflict Conflict
	// MaxAttempts (0: DefaultMaxAttempts).
	MaxAttempts int
}

// Enqueue adds jobs in tx, in one statement per conflict policy; the
// Runners of this process are woken when tx commits.
func Enqueue(ctx context.Context, tx *ent.Tx, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if err := insert(ctx, tx.Job, jobs); err != nil {
		return err
	}
	wakeOnCommit(tx)
	return nil
}

// EnqueueNow adds jobs outside any transaction and wakes the Runners.
func EnqueueNow(ctx context.Context, client *ent.Client, jobs ...Job) error {
	if err := insert(ctx, client.Job, jobs); err != nil {
		return err
	}
	wakeAll()
	return nil
}

func insert(ctx context.Context, c *ent.JobClient, jobs []Job) error {
	sys := viewer.System(ctx)
	now := time.Now().UTC()
	var keep, replace []*ent.JobCreate
	for _, j := range jobs {
		cr, err := create(c, j, now)
		if err != nil {
			return err
		}
		if j.Key != "" && j.OnConflict == Replace {
			replace = append(replace, cr)
		} else {
			keep = append(keep, cr)
		}
	}
	if len(keep) > 0 {
		if err := c.CreateBulk(keep...).OnConflictColumns(job.FieldUniqueKey).DoNothing().Exec(sys); err != nil {
			return fmt.Errorf("jobs: enqueue: %w", err)
		}
	}
	if len(replace) > 0 {
		err := c.CreateBulk(replace...).OnConflictColumns(job.FieldUniqueKey).
			Update(func(u *ent.JobUpsert) {
				u.UpdateKind().UpdatePayload().UpdateRunAt().UpdateMaxAttempts().UpdateUpdatedAt().
					SetState(job.StateAVAILABLE).SetAttempts(0).ClearLease().ClearLeaseUntil().ClearLastError()
			}).Exec(sys)
		if err != nil {
			return fmt.Errorf("jobs: enqueue: %w", err)
		}
	}
	return nil
}

func create(c *ent.JobClient, j Job, now time.Time) (*ent.JobCreate, error) {
	if j.Kind == "" {
		return nil, errors.New("jobs: a job needs a kind")
	}
	payload, err := encode(j.Payload)
	if err != nil {
		return nil, fmt.Errorf("jobs: %s payload: %w", j.Kind, err)
	}
	runAt := j.RunAt.UTC()
	if j.RunAt.IsZero() {
		runAt = now
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	cr := c.Create().SetKind(j.Kind).SetPayload(payload).SetRunAt(runAt.Truncate(time.Microsecond)).
		SetMaxAttempts(maxAttempts).SetCreatedAt(now).SetUpdatedAt(now)
	if j.Key != "" {
		cr.SetUniqueKey(j.Key)
	}
	return cr, nil
}

func encode(p any) (string, error) {
	switch p := p.(type) {
	case nil:
		return "", nil
	case []byte:
		return string(p), nil
	case json.RawMessage:
		return string(p), nil
	case string:
		b, err := json.Marshal(p)
		return string(b), err
	default:
		b, err := json.Marshal(p)
		return string(b), err
	}
}

// Reschedule moves the job holding key to runAt (and makes a FAILED one
// due again); it reports whether there was one.
func Reschedule(ctx context.Context, tx *ent.Tx, key string, runAt time.Time) (bool, error) {
	n, err := tx.Job.Update().Where(job.UniqueKey(key), job.StateNEQ(job.StateRUNNING)).
		SetRunAt(runAt.UTC().Truncate(time.Microsecond)).SetState(job.StateAVAILABLE).Save(viewer.System(ctx))
	if err != nil {
		return false, fmt.Errorf("jobs: reschedule: %w", err)
	}
	if n > 0 {
		wakeOnCommit(tx)
	}
	return n > 0, nil
}

// CancelKey deletes the job holding key; it reports whether there was one.
func CancelKey(ctx context.Context, tx *ent.Tx, key string) (bool, error) {
	n, err := tx.Job.Delete().Where(job.UniqueKey(key)).Exec(viewer.System(ctx))
	if err != nil {
		return false, fmt.Errorf("jobs: cancel: %w", err)
	}
	return n > 0, nil
}

func wakeOnCommit(tx *ent.Tx) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				wakeAll()
			}
			return err
		})
	})
}

// runners are the running Runners of this process, woken after a commit
// that enqueued.
var runners = struct {
	sync.Mutex
	m map[*Runner]struct{}
}{m: map[*Runner]struct{}{}}

func wakeAll() {
	runners.Lock()
	defer runners.Unlock()
	for r := range runners.m {
		r.wake()
	}
}
