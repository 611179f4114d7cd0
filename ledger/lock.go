package ledger

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// lockActivities bumps the version of the activities' counts, in one
// statement whatever their number. As the first write of every transaction
// that changes counters it orders them all, in this process and across
// replicas. Two replicas locking overlapping sets may deadlock; the
// database detects it and the transaction runs again (store.IsTransient).
const lockActivities = `UPDATE activities SET counts_version = counts_version + 1 WHERE id IN (%s) RETURNING id, counts_version`

// Lock takes the activity's lock inside tx by bumping its counts version,
// then reads the activity and its slots, and returns a Batch to decide ops
// on. Every transaction that changes counters does this first, so they
// never deadlock on each other and promotions see a stable queue. Most
// callers want Apply, which also decides and writes.
func (l *Ledger) Lock(ctx context.Context, tx *ent.Tx, activityID int) (*Batch, error) {
	g, err := l.lock(ctx, tx, []int{activityID}, true)
	if err != nil {
		return nil, err
	}
	b := g.batches[activityID]
	if b == nil {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	return b, nil
}

// lock locks activities (one statement, whatever their number) and, when
// read, reads them and their slots (one query each) into a group. A group
// of door ops (DoorOp) does not read them: its batches have no activity row.
func (l *Ledger) lock(ctx context.Context, tx *ent.Tx, ids []int, read bool) (*group, error) {
	sys := viewer.System(ctx)
	g := &group{l: l, tx: tx, now: now(), batches: map[int]*Batch{}, slots: map[int]*slotState{},
		signedUp: map[[2]int]bool{}, signUpKeys: map[idemKey]*signUpOp{}}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return g, nil
	}
	versions, err := l.lockRows(ctx, tx, ids)
	if err != nil || len(versions) == 0 {
		return g, err
	}
	if !read {
		for id, v := range versions {
			g.batches[id] = &Batch{g: g, tx: tx, version: v, now: g.now}
		}
		return g, nil
	}
	locked := slices.Collect(maps.Keys(versions))
	acts, err := tx.Activity.Query().Where(activity.IDIn(locked...)).All(sys)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		g.batches[a.ID] = &Batch{g: g, tx: tx, activity: a, version: versions[a.ID], now: g.now}
	}
	all, err := tx.Slot.Query().Where(slot.ActivityIDIn(locked...)).All(sys)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		g.slots[s.ID] = &slotState{slot: s, taken: s.Taken, waitlisted: s.Waitlisted, pending: s.Pending, capacity: s.Capacity}
	}
	return g, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// Apply runs ops inside the caller's transaction tx: it locks their
// activities (activityID, and any other an op names) once, decides each op
// in order and writes what they decided. errs holds each op's refusal (nil
// for those that went ahead); err is a failure of the whole, after which tx
// must be rolled back. The counts and change events go out when tx
// commits.
func (l *Ledger) Apply(ctx context.Context, tx *ent.Tx, activityID int, ops ...Op) (errs []error, err error) {
	g, errs, err := l.apply(ctx, tx, activityID, ops, false)
	if err != nil {
		return nil, err
	}
	evs := g.events()
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			l.publish(evs)
			return nil
		})
	})
	return errs, nil
}

// apply locks, decides and writes ops in tx (activityID 0: only the ops'
// own activities); retry tells door ops that this transaction runs again.
func (l *Ledger) apply(ctx context.Context, tx *ent.Tx, activityID int, ops []Op, retry bool) (*group, []error, error) {
	if err := prepare(ctx, tx, ops); err != nil {
		return nil, nil, err
	}
	ids := make([]int, 0, len(ops)+1)
	read := activityID != 0
	if activityID != 0 {
		ids = append(ids, activityID)
	}
	for _, o := range ops {
		if id := o.ActivityID(); id != 0 {
			ids = append(ids, id)
		}
		if _, door := o.(DoorOp); !door {
			read = true
		}
	}
	g, err := l.lock(ctx, tx, ids, read)
	if err != nil {
		return nil, nil, err
	}
	g.ops, g.retry = ops, retry
	errs, applied, err := g.decide(ctx)
	if err != nil {
		return nil, nil, err
	}
	if applied {
		if err := g.flush(ctx); err != nil {
			return nil, nil, err
		}
	}
	return g, errs, nil
}

// decide decides the group's ops in order: errs holds their refusals,
// applied whether any went ahead; err fails the whole.
func (g *group) decide(ctx context.Context) (errs []error, applied bool, err error) {
	errs = make([]error, len(g.ops))
	for i, o := range g.ops {
		b := g.batches[o.ActivityID()]
		if _, door := o.(DoorOp); door && o.ActivityID() == 0 {
			b = g.unlocked()
		}
		if b == nil {
			errs[i] = apperr.New(apperr.NotFound, "no such activity")
			continue
		}
		err := o.Decide(ctx, b)
		if _, coded := apperr.As(err); err != nil && !coded {
			return nil, false, err
		}
		errs[i] = err
		if err == nil {
			_, door := o.(DoorOp)
			b.applied, b.counted, applied = true, b.counted || !door, true
		}
	}
	return errs, applied, nil
}

// prepare lets the ops that read before the lock (Preparer) do it, all of
// them with the first one's Prepare.
func prepare(ctx context.Context, tx *ent.Tx, ops []Op) error {
	var first Preparer
	var them []Op
	for _, o := range ops {
		if p, ok := o.(Preparer); ok {
			first = cmp.Or(first, p)
			them = append(them, o)
		}
	}
	if first == nil {
		return nil
	}
	return first.Prepare(ctx, tx, them)
}

// unlocked is the group's batch of door ops that name no activity (an
// unknown code): they take no lock and only record their scans.
func (g *group) unlocked() *Batch {
	if g.none == nil {
		g.none = &Batch{g: g, tx: g.tx, now: g.now}
	}
	return g.none
}

// events is what the group announces after its commit: for each activity
// an op changed, its counts, then the changes to registrations.
func (g *group) events() []events.Event {
	var evs []events.Event
	for _, id := range g.order() {
		if b := g.batches[id]; b.applied {
			if b.counted {
				evs = append(evs, countsEvent(b.activity.CommunityID, id))
			}
			evs = append(evs, b.evs...)
		}
	}
	return evs
}

// inTx runs fn in a new transaction, again on deadlocks, serialization
// failures, a busy SQLite and errRetry (up to store.TxAttempts times).
func (l *Ledger) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return store.InTx(ctx, l.client, store.TxOptions{Lock: l.db.Writers(), Retry: isRetry}, fn)
}

func isRetry(err error) bool { return errors.Is(err, errRetry) }

// lockRows runs lockActivities for ids and returns the new counts version
// of each activity that exists.
func (l *Ledger) lockRows(ctx context.Context, tx *ent.Tx, ids []int) (map[int]int64, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	rows, err := tx.QueryContext(ctx, l.db.Rebind(fmt.Sprintf(lockActivities, marks)), args...)
	if err != nil {
		return nil, err
	}
	versions := map[int]int64{}
	for rows.Next() {
		var id int
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return nil, err
		}
		versions[id] = v
	}
	return versions, closeRows(rows)
}
