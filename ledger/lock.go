package ledger

import (
	"context"
	"errors"

	"linli/apperr"
	"linli/ent"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// lockActivity bumps the version of an activity's counts. As the first
// write of every transaction that changes counters it orders them all, in
// this process and across replicas.
const lockActivity = `UPDATE activities SET counts_version = counts_version + 1 WHERE id = ? RETURNING counts_version`

// Lock takes the activity's lock inside tx by bumping its counts version,
// then reads the activity, and returns a Batch to decide ops on. Every
// transaction that changes counters does this first, so they never
// deadlock on each other and promotions see a stable queue. Most callers
// want Apply, which also decides and writes.
func (l *Ledger) Lock(ctx context.Context, tx *ent.Tx, activityID int) (*Batch, error) {
	b := &Batch{l: l, tx: tx, now: now(), signedUp: map[[2]int]bool{}, signUpKeys: map[idemKey]*signUpOp{}}
	ok, err := store.QueryRow(ctx, tx, l.db.Rebind(lockActivity), []any{activityID}, &b.version)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if b.activity, err = tx.Activity.Get(viewer.System(ctx), activityID); err != nil {
		return nil, err
	}
	return b, nil
}

// Apply runs ops on one activity inside the caller's transaction tx: it
// locks the activity once, decides each op in order and writes what they
// decided. errs holds each op's refusal (nil for those that went ahead);
// err is a failure of the whole, after which tx must be rolled back. The
// counts and change events go out when tx commits.
func (l *Ledger) Apply(ctx context.Context, tx *ent.Tx, activityID int, ops ...Op) (errs []error, err error) {
	b, errs, err := l.apply(ctx, tx, activityID, ops)
	if err != nil {
		return nil, err
	}
	evs := b.evs
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

func (l *Ledger) apply(ctx context.Context, tx *ent.Tx, activityID int, ops []Op) (*Batch, []error, error) {
	b, err := l.Lock(ctx, tx, activityID)
	if err != nil {
		return nil, nil, err
	}
	b.ops = ops
	errs := make([]error, len(ops))
	applied := false
	for i, o := range ops {
		err := o.Decide(ctx, b)
		if _, coded := apperr.As(err); err != nil && !coded {
			return nil, nil, err
		}
		errs[i] = err
		applied = applied || err == nil
	}
	if applied {
		if err := b.flush(ctx); err != nil {
			return nil, nil, err
		}
		b.evs = append([]events.Event{countsEvent(b.activity.CommunityID, b.activity.ID)}, b.evs...)
	}
	return b, errs, nil
}

// inTx runs fn in a new transaction, again on deadlocks, serialization
// failures, a busy SQLite and errRetry (up to store.TxAttempts times).
func (l *Ledger) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	var err error
	for range store.TxAttempts {
		if err = l.attempt(ctx, fn); err == nil {
			return nil
		}
		if !(store.IsTransient(err) || errors.Is(err, errRetry)) || ctx.Err() != nil {
			break
		}
	}
	return err
}

func (l *Ledger) attempt(ctx context.Context, fn func(tx *ent.Tx) error) (err error) {
	if l.db.IsSQLite() {
		l.sqliteWriter.Lock()
		defer l.sqliteWriter.Unlock()
	}
	tx, err := l.client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
