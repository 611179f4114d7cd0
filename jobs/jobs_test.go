package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/job"
	"linli/jobs"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

func open(t *testing.T, backend string) *store.DB {
	t.Helper()
	ctx := viewer.System(context.Background())
	db, err := store.Open(ctx, linlitest.DatabaseURL(t, backend), store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func inTx(t *testing.T, db *store.DB, fn func(tx *ent.Tx) error) error {
	t.Helper()
	return store.InTx(viewer.System(context.Background()), db.Client, store.TxOptions{Lock: db.Writers()}, fn)
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(t *testing.T, db *store.DB, ps ...func(*ent.JobQuery)) int {
	q := db.Client.Job.Query()
	for _, p := range ps {
		p(q)
	}
	n, err := q.Count(viewer.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A job enqueued in a transaction that rolls back never runs; one that
// commits runs once, promptly (woken after the commit, not at the next
// poll); a batch goes in with one statement.
func TestEnqueueWithTheTransaction(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			db := open(t, backend)
			r := jobs.New(db, jobs.Options{Poll: time.Hour})
			var ran sync.Map
			var runs atomic.Int64
			r.Handle("test.echo", func(ctx context.Context, c *jobs.Claimed) error {
				var p struct{ N int }
				if err := c.Decode(&p); err != nil {
					return err
				}
				runs.Add(1)
				if _, dup := ran.LoadOrStore(p.N, true); dup {
					t.Errorf("job %d ran twice", p.N)
				}
				return nil
			})
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer r.Stop(context.Background())
			rollback := errors.New("roll back")
			err := inTx(t, db, func(tx *ent.Tx) error {
				if err := jobs.Enqueue(context.Background(), tx, jobs.Job{Kind: "test.echo", Payload: map[string]int{"N": -1}}); err != nil {
					return err
				}
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatal(err)
			}
			batch := make([]jobs.Job, 50)
			for i := range batch {
				batch[i] = jobs.Job{Kind: "test.echo", Payload: map[string]int{"N": i}}
			}
			start := time.Now()
			if err := inTx(t, db, func(tx *ent.Tx) error { return jobs.Enqueue(context.Background(), tx, batch...) }); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "50 jobs", func() bool { return runs.Load() == 50 })
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("50 jobs took %v (woken after commit?)", d)
			}
			waitFor(t, 5*time.Second, "an empty table", func() bool { return count(t, db) == 0 })
			if _, ok := ran.Load(-1); ok {
				t.Error("the rolled-back job ran")
			}
		})
	}
}

// A key holds one job: Keep dedupes, Replace reschedules, Reschedule moves
// and CancelKey drops it.
func TestUniqueKeys(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			db := open(t, backend)
			sys := viewer.System(context.Background())
			later := time.Now().Add(time.Hour).UTC()
			enq := func(js ...jobs.Job) {
				t.Helper()
				if err := inTx(t, db, func(tx *ent.Tx) error { return jobs.Enqueue(sys, tx, js...) }); err != nil {
					t.Fatal(err)
				}
			}
			enq(jobs.Job{Kind: "a", Key: "k1", RunAt: later, Payload: 1}, jobs.Job{Kind: "a", Key: "k1", RunAt: later, Payload: 2})
			enq(jobs.Job{Kind: "a", Key: "k1", RunAt: later, Payload: 3})
			j := db.Client.Job.Query().Where(job.UniqueKey("k1")).OnlyX(sys)
			if j.Payload != "1" || count(t, db) != 1 {
				t.Fatalf("kept payload %s, %d jobs", j.Payload, count(t, db))
			}
			enq(jobs.Job{Kind: "b", Key: "k1", RunAt: later.Add(time.Hour), Payload: 4, OnConflict: jobs.Replace})
			j = db.Client.Job.Query().Where(job.UniqueKey("k1")).OnlyX(sys)
			if j.Payload != "4" || j.Kind != "b" || !j.RunAt.Equal(later.Add(time.Hour).Truncate(time.Microsecond)) {
				t.Fatalf("replaced: %+v", j)
			}
			var moved, gone, none bool
			if err := inTx(t, db, func(tx *ent.Tx) (err error) {
				moved, err = jobs.Reschedule(sys, tx, "k1", later.Add(2*time.Hour))
				return err
			}); err != nil || !moved {
				t.Fatal(moved, err)
			}
			if j = db.Client.Job.Query().Where(job.UniqueKey("k1")).OnlyX(sys); !j.RunAt.Equal(later.Add(2 * time.Hour).Truncate(time.Microsecond)) {
				t.Fatalf("rescheduled to %v", j.RunAt)
			}
			if err := inTx(t, db, func(tx *ent.Tx) (err error) {
				if gone, err = jobs.CancelKey(sys, tx, "k1"); err != nil {
					return err
				}
				none, err = jobs.CancelKey(sys, tx, "k1")
				return err
			}); err != nil || !gone || none {
				t.Fatal(gone, none, err)
			}
			if n := count(t, db); n != 0 {
				t.Fatalf("%d jobs after cancel", n)
			}
		})
	}
}

// A failing job is retried with backoff, then kept FAILED with its error;
// Retry makes it due again.
func TestRetriesThenFailed(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			db := open(t, backend)
			sys := viewer.System(context.Background())
			r := jobs.New(db, jobs.Options{Poll: 20 * time.Millisecond})
			var attempts atomic.Int64
			r.Handle("test.fail", func(ctx context.Context, c *jobs.Claimed) error {
				attempts.Add(1)
				if c.Attempt != int(attempts.Load()) {
					t.Errorf("attempt %d, run %d", c.Attempt, attempts.Load())
				}
				return errors.New("gateway down")
			})
			if err := r.Start(sys); err != nil {
				t.Fatal(err)
			}
			defer r.Stop(context.Background())
			if err := jobs.EnqueueNow(sys, db.Client, jobs.Job{Kind: "test.fail", MaxAttempts: 2}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "a failed job", func() bool { return count(t, db, func(q *ent.JobQuery) { q.Where(job.StateEQ(job.StateFAILED)) }) == 1 })
			failed, err := jobs.Failed(sys, db.Client, "test.fail", 10)
			if err != nil || len(failed) != 1 || failed[0].LastError == nil || *failed[0].LastError != "gateway down" || failed[0].Attempts != 2 {
				t.Fatalf("failed: %v %+v", err, failed)
			}
			if attempts.Load() != 2 || r.Counts().Retried.Load() != 1 || r.Counts().Failed.Load() != 1 {
				t.Errorf("attempts %d, retried %d, failed %d", attempts.Load(), r.Counts().Retried.Load(), r.Counts().Failed.Load())
			}
			st, err := jobs.ReadStats(sys, db.Client)
			if err != nil || st.Failed != 1 || st.Queued != 0 {
				t.Errorf("stats %+v %v", st, err)
			}
			attempts.Store(0)
			if err := inTx(t, db, func(tx *ent.Tx) error { _, err := jobs.Retry(sys, tx, failed[0].ID); return err }); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "a retried job", func() bool { return attempts.Load() >= 1 })
		})
	}
}

// Backoff doubles from a second and stops at an hour.
func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second}, {13, time.Hour}, {40, time.Hour}} {
		if d := jobs.Backoff(tc.attempt); d < tc.base || d > tc.base+tc.base/10 {
			t.Errorf("Backoff(%d) = %v, want %v + ≤10%%", tc.attempt, d, tc.base)
		}
	}
}

// Two runners (replicas) over one database work each of 300 jobs once;
// a job whose claim was abandoned (its replica died: the lease is held and
// never finished) is claimed again once the lease expired, and runs once
// more, not twice.
func TestReplicasAndAbandonedLeases(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			db := open(t, backend)
			db2 := open2(t, db, backend)
			sys := viewer.System(context.Background())
			var mu sync.Mutex
			seen := map[int]int{}
			handler := func(ctx context.Context, c *jobs.Claimed) error {
				var n int
				if err := c.Decode(&n); err != nil {
					return err
				}
				// Exactly once: the handler's write and the completion commit together.
				return store.InTx(ctx, db.Client, store.TxOptions{Lock: db.Writers()}, func(tx *ent.Tx) error {
					if err := c.CompleteIn(ctx, tx); err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					seen[n]++
					return nil
				})
			}
			var rs []*jobs.Runner
			for _, d := range []*store.DB{db, db2} {
				r := jobs.New(d, jobs.Options{Poll: 20 * time.Millisecond, Lease: 2 * time.Second, Workers: 3})
				r.Handle("test.once", handler)
				rs = append(rs, r)
			}
			// The crashed replica: it claimed job 1000 and vanished.
			if err := jobs.EnqueueNow(sys, db.Client, jobs.Job{Kind: "test.once", Payload: 1000}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL.ExecContext(sys, db.Rebind(`UPDATE jobs SET state = 'RUNNING', lease = 'dead', lease_until = ?, attempts = 1`), time.Now().UTC().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if err := r.Start(sys); err != nil {
					t.Fatal(err)
				}
				defer r.Stop(context.Background())
			}
			batch := make([]jobs.Job, 300)
			for i := range batch {
				batch[i] = jobs.Job{Kind: "test.once", Payload: i}
			}
			if err := inTx(t, db, func(tx *ent.Tx) error { return jobs.Enqueue(sys, tx, batch...) }); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 20*time.Second, "every job", func() bool { return count(t, db) == 0 })
			mu.Lock()
			defer mu.Unlock()
			for i := range 300 {
				if seen[i] != 1 {
					t.Errorf("job %d ran %d times", i, seen[i])
				}
			}
			if seen[1000] != 1 {
				t.Errorf("the abandoned job ran %d times", seen[1000])
			}
		})
	}
}

// open2 opens a second handle on the database of db (another replica).
func open2(t *testing.T, db *store.DB, backend string) *store.DB {
	t.Helper()
	url := db.URL
	if backend == "sqlite" {
		var file string
		if err := db.SQL.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
			t.Fatal(err)
		}
		url = file
	}
	d, err := store.Open(viewer.System(context.Background()), url, store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// A periodic job runs once per period across replicas, at start when due.
func TestPeriodic(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			db := open(t, backend)
			db2 := open2(t, db, backend)
			sys := viewer.System(context.Background())
			var runs atomic.Int64
			for _, d := range []*store.DB{db, db2} {
				r := jobs.New(d, jobs.Options{Poll: 20 * time.Millisecond})
				r.Periodic("test.tick", time.Second, func(ctx context.Context, c *jobs.Claimed) error { runs.Add(1); return nil })
				if err := r.Start(sys); err != nil {
					t.Fatal(err)
				}
				defer r.Stop(context.Background())
			}
			waitFor(t, 5*time.Second, "the first run", func() bool { return runs.Load() >= 1 })
			time.Sleep(2500 * time.Millisecond)
			if n := runs.Load(); n < 2 || n > 4 {
				t.Errorf("%d runs in ~2.5 s of a 1 s period over two replicas", n)
			}
			if n := count(t, db); n != 1 {
				t.Errorf("%d rows for one periodic job", n)
			}
		})
	}
}

// Stop drains: a handler still running when the drain's time is up is
// cancelled and its job released, due again at once with the attempt not
// counted; nothing is lost.
func TestDrainReleases(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			db := open(t, backend)
			sys := viewer.System(context.Background())
			r := jobs.New(db, jobs.Options{Poll: 20 * time.Millisecond})
			started := make(chan struct{})
			r.Handle("test.slow", func(ctx context.Context, c *jobs.Claimed) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			})
			if err := r.Start(sys); err != nil {
				t.Fatal(err)
			}
			if err := jobs.EnqueueNow(sys, db.Client, jobs.Job{Kind: "test.slow"}); err != nil {
				t.Fatal(err)
			}
			<-started
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			r.Stop(ctx)
			j := db.Client.Job.Query().OnlyX(sys)
			if j.State != job.StateAVAILABLE || j.Attempts != 0 || j.Lease != nil {
				t.Errorf("after drain: %s, %d attempts, lease %v", j.State, j.Attempts, j.Lease)
			}
		})
	}
}
