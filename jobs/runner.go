package jobs

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"linli/ent"
	"linli/ent/job"
	"linli/reqlog"
	"linli/store"
	"linli/tracing"
	"linli/viewer"

	"go.opentelemetry.io/otel/trace"
)

// Handler works one claimed job. Its error retries the job (see package
// doc); nil completes it.
type Handler func(ctx context.Context, c *Claimed) error

// Claimed is a job this Runner holds the lease of.
type Claimed struct {
	ID      int
	Kind    string
	Payload []byte
	Key     string
	// Attempt counts from 1.
	Attempt     int
	MaxAttempts int

	lease  string
	period time.Duration
	done   atomic.Bool
	next   *string
}

// KeepForNext sets the payload a periodic job's next run gets (its state
// from run to run, e.g. where a sweep stopped); it is written with the
// completion.
func (c *Claimed) KeepForNext(payload any) error {
	s, err := encode(payload)
	if err != nil {
		return err
	}
	c.next = &s
	return nil
}

// Decode unmarshals the payload into v.
func (c *Claimed) Decode(v any) error {
	if err := json.Unmarshal(c.Payload, v); err != nil {
		return Permanent(fmt.Errorf("jobs: %s payload: %w", c.Kind, err))
	}
	return nil
}

// ErrLeaseLost: the job is no longer this claim's (its lease expired and
// another claim took it, or it was cancelled or replaced).
var ErrLeaseLost = errors.New("jobs: lease lost")

// CompleteIn completes the job inside tx: deleted (a periodic job:
// rescheduled) when tx commits, together with the handler's writes. It
// fails with ErrLeaseLost, and the handler must then roll back, when the
// job is no longer this claim's.
func (c *Claimed) CompleteIn(ctx context.Context, tx *ent.Tx) error {
	n, err := complete(viewer.System(ctx), tx.Job, c, time.Now().UTC())
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				c.done.Store(true)
			}
			return err
		})
	})
	return nil
}

func complete(ctx context.Context, c *ent.JobClient, cl *Claimed, now time.Time) (int, error) {
	if cl.period > 0 {
		u := c.Update().Where(job.ID(cl.ID), job.Lease(cl.lease)).SetState(job.StateAVAILABLE).
			SetRunAt(now.Add(cl.period).Truncate(time.Microsecond)).SetAttempts(0).ClearLease().ClearLeaseUntil().
			ClearLastError()
		if cl.next != nil {
			u.SetPayload(*cl.next)
		}
		return u.Save(ctx)
	}
	return c.Delete().Where(job.ID(cl.ID), job.Lease(cl.lease)).Exec(ctx)
}

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks err as not worth a retry: the job fails at once.
func Permanent(err error) error { return permanent{err} }

// Options tune a Runner; zero fields take the defaults in parentheses.
type Options struct {
	// Workers is how many jobs run at once (4).
	Workers int
	// Poll is how often the Runner looks for due jobs without being woken
	// (1 s): jobs enqueued on other replicas, or falling due.
	Poll time.Duration
	// Lease is how long a claim holds a job (5 min); a replica that died
	// holding it leaves it to others after that.
	Lease time.Duration
	// Timeout bounds a handler (1 min; at most Lease less 10 %).
	Timeout time.Duration
	Logger  *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	o.Timeout = min(o.Timeout, o.Lease*9/10)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Runner claims and works due jobs of the kinds registered on it.
type Runner struct {
	db       *store.DB
	o        Options
	handlers map[string]Handler
	periodic map[string]time.Duration
	kinds    []string

	wakeCh  chan struct{}
	freed   chan struct{}
	busy    atomic.Int64
	stop    context.CancelFunc
	loop    sync.WaitGroup
	working sync.WaitGroup
	// handlerCtx is cancelled when a drain times out.
	handlerCtx    context.Context
	cancelHandler context.CancelFunc
	started       bool

	mu      sync.Mutex
	running map[*Claimed]struct{}

	counts Counts
}

// Counts are what this Runner did since it started.
type Counts struct {
	Completed, Retried, Failed atomic.Int64
}

// New makes a Runner over db; register handlers, then Start it.
func New(db *store.DB, o Options) *Runner {
	return &Runner{db: db, o: o.withDefaults(), handlers: map[string]Handler{}, periodic: map[string]time.Duration{},
		wakeCh: make(chan struct{}, 1), freed: make(chan struct{}, 1), running: map[*Claimed]struct{}{}}
}

// Handle registers the handler of kind (before Start).
func (r *Runner) Handle(kind string, h Handler) {
	if r.started {
		panic("jobs: Handle after Start")
	}
	if _, dup := r.handlers[kind]; dup {
		panic("jobs: two handlers for " + kind)
	}
	r.handlers[kind] = h
	r.kinds = append(r.kinds, kind)
}

// Periodic registers h to run every period (before Start), once across
// all replicas; it runs at Start when it is due (or has never run).
func (r *Runner) Periodic(kind string, every time.Duration, h Handler) {
	if every < 10*time.Millisecond {
		panic("jobs: a period under 10 ms")
	}
	r.Handle(kind, h)
	r.periodic[kind] = every
}

// PeriodicKey is the unique key of kind's periodic job.
func PeriodicKey(kind string) string { return "periodic:" + kind }

// Counts are what this Runner did since it started.
func (r *Runner) Counts() *Counts { return &r.counts }

// Start makes sure every periodic job has its row and starts working.
func (r *Runner) Start(ctx context.Context) error {
	sys := viewer.System(reqlog.Background(ctx))
	now := time.Now().UTC()
	for kind, every := range r.periodic {
		cr, err := create(r.db.Client.Job, Job{Kind: kind, Key: PeriodicKey(kind), RunAt: now}, now)
		if err != nil {
			return err
		}
		err = r.write(func() error {
			secs := max(int(every/time.Second), 1) // marks it periodic; the period is the registration's
			return cr.SetPeriodSeconds(secs).OnConflictColumns(job.FieldUniqueKey).
				Update(func(u *ent.JobUpsert) { u.SetPeriodSeconds(secs) }).Exec(sys)
		})
		if err != nil {
			return fmt.Errorf("jobs: periodic %s: %w", kind, err)
		}
	}
	r.started = true
	loopCtx, stop := context.WithCancel(reqlog.Background(context.Background()))
	r.stop = stop
	r.handlerCtx, r.cancelHandler = context.WithCancel(reqlog.Background(context.Background()))
	runners.Lock()
	runners.m[r] = struct{}{}
	runners.Unlock()
	r.loop.Add(1)
	go r.run(loopCtx)
	return nil
}

// Stop stops claiming and waits for running handlers until ctx ends; then
// it cancels them and releases their jobs, due again at once.
func (r *Runner) Stop(ctx context.Context) {
	if !r.started {
		return
	}
	runners.Lock()
	delete(runners.m, r)
	runners.Unlock()
	r.stop()
	r.loop.Wait()
	done := make(chan struct{})
	go func() { r.working.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	r.cancelHandler()
	<-done
}

func (r *Runner) wake() {
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

func (r *Runner) run(ctx context.Context) {
	defer r.loop.Done()
	if len(r.kinds) == 0 {
		<-ctx.Done()
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		free := r.o.Workers - int(r.busy.Load())
		got := 0
		if free > 0 {
			claimed, err := r.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				r.o.Logger.Warn("jobs: claim", slog.String("error", err.Error()))
			}
			for _, c := range claimed {
				r.busy.Add(1)
				r.working.Add(1)
				go r.work(c)
			}
			got = len(claimed)
		}
		if got > 0 && got == free {
			// Maybe more are due: claim again as soon as a worker frees.
			select {
			case <-ctx.Done():
				return
			case <-r.freed:
			}
			continue
		}
		timer.Reset(r.o.Poll)
		select {
		case <-ctx.Done():
			return
		case <-r.wakeCh:
		case <-r.freed:
		case <-timer.C:
		}
	}
}

// write runs a write statement, under the single writer lock on SQLite.
func (r *Runner) write(f func() error) error {
	if l := r.db.Writers(); l != nil {
		l.Lock()
		defer l.Unlock()
	}
	return f()
}

func (r *Runner) claim(ctx context.Context, n int) ([]*Claimed, error) {
	token := newLease()
	now := time.Now().UTC().Truncate(time.Microsecond)
	args := []any{token, now.Add(r.o.Lease), now}
	marks := make([]string, len(r.kinds))
	for i, k := range r.kinds {
		marks[i] = "?"
		args = append(args, k)
	}
	args = append(args, now, now, n)
	lock := ""
	if !r.db.IsSQLite() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := r.db.Rebind(`UPDATE jobs SET state = 'RUNNING', lease = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (SELECT id FROM jobs WHERE kind IN (` + strings.Join(marks, ", ") + `)
			AND ((state = 'AVAILABLE' AND run_at <= ?) OR (state = 'RUNNING' AND lease_until < ?))
			ORDER BY run_at LIMIT ?` + lock + `)
		RETURNING id, kind, payload, unique_key, attempts, max_attempts, period_seconds`)
	var out []*Claimed
	err := r.write(func() error {
		rows, err := r.db.SQL.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := &Claimed{lease: token}
			var key *string
			var payload string
			var period int
			if err := rows.Scan(&c.ID, &c.Kind, &payload, &key, &c.Attempt, &c.MaxAttempts, &period); err != nil {
				return err
			}
			c.Payload = []byte(payload)
			if key != nil {
				c.Key = *key
			}
			c.period = time.Duration(period) * time.Second
			if every, ok := r.periodic[c.Kind]; ok {
				c.period = every
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: claim: %w", err)
	}
	return out, nil
}

func newLease() string {
	b := make([]byte, 16)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

func (r *Runner) work(c *Claimed) {
	defer func() {
		r.busy.Add(-1)
		r.working.Done()
		select {
		case r.freed <- struct{}{}:
		default:
		}
	}()
	r.mu.Lock()
	r.running[c] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, c)
		r.mu.Unlock()
	}()
	// One span per run (tracing on), over the handler and the outcome.
	sctx, span := tracing.StartJob(r.handlerCtx, c.Kind, c.ID)
	ctx, cancel := context.WithTimeout(viewer.System(sctx), r.o.Timeout)
	err := r.call(ctx, c)
	cancel()
	// The outcome is written even when a drain cancelled the handler.
	wctx, wcancel := context.WithTimeout(viewer.System(reqlog.Background(trace.ContextWithSpan(context.Background(), span))), 10*time.Second)
	defer wcancel()
	ferr := r.finish(wctx, c, err)
	if ferr != nil {
		tracing.Logger(wctx, r.o.Logger).Warn("jobs: finish", slog.String("kind", c.Kind), slog.Int("job", c.ID), slog.String("error", ferr.Error()))
	}
	tracing.End(span, errors.Join(err, ferr))
}

func (r *Runner) call(ctx context.Context, c *Claimed) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: %s panicked: %v", c.Kind, p)
		}
	}()
	return r.handlers[c.Kind](ctx, c)
}

// finish records the outcome of c's run: done (deleted or rescheduled),
// released (a drain cancelled it), retried later, or FAILED.
func (r *Runner) finish(ctx context.Context, c *Claimed, herr error) error {
	now := time.Now().UTC()
	upd := func() *ent.JobUpdate { return r.db.Client.Job.Update().Where(job.ID(c.ID), job.Lease(c.lease)) }
	switch {
	case c.done.Load():
		r.counts.Completed.Add(1)
		return nil
	case herr == nil:
		r.counts.Completed.Add(1)
		return r.write(func() error { _, err := complete(ctx, r.db.Client.Job, c, now); return err })
	case r.handlerCtx.Err() != nil:
		// Drained: due again at once, this attempt not counted.
		return r.write(func() error {
			return upd().SetState(job.StateAVAILABLE).AddAttempts(-1).ClearLease().ClearLeaseUntil().Exec(ctx)
		})
	}
	msg := herr.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, perm := errors.AsType[permanent](herr)
	if c.period == 0 && (perm || c.Attempt >= c.MaxAttempts) {
		r.counts.Failed.Add(1)
		tracing.Logger(ctx, r.o.Logger).Error("jobs: failed", slog.String("kind", c.Kind), slog.Int("job", c.ID), slog.Int("attempts", c.Attempt), slog.String("error", msg))
		return r.write(func() error {
			return upd().SetState(job.StateFAILED).SetLastError(msg).ClearLease().ClearLeaseUntil().Exec(ctx)
		})
	}
	r.counts.Retried.Add(1)
	wait := Backoff(c.Attempt)
	if c.period > 0 {
		wait = min(wait, c.period)
	}
	tracing.Logger(ctx, r.o.Logger).Warn("jobs: retry", slog.String("kind", c.Kind), slog.Int("job", c.ID), slog.Int("attempt", c.Attempt), slog.Duration("in", wait), slog.String("error", msg))
	return r.write(func() error {
		return upd().SetState(job.StateAVAILABLE).SetRunAt(now.Add(wait).Truncate(time.Microsecond)).SetLastError(msg).
			ClearLease().ClearLeaseUntil().Exec(ctx)
	})
}

// Backoff is the wait after the attempt-th failed attempt: 1 s doubled
// each time, capped at an hour, plus up to 10 % jitter.
func Backoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 13 {
		d = min(time.Second<<max(attempt-1, 0), time.Hour)
	}
	return d + time.Duration(rand.Int64N(int64(d/10)+1))
}
