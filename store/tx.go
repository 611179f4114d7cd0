package store

import (
	"context"
	"database/sql"
	"sync"
)

// TxAttempts is how often InTx runs a transaction before giving up.
const TxAttempts = 8

// TxOptions tune InTx.
type TxOptions struct {
	// Retry, when set, also runs the transaction again on errors it
	// accepts; transient errors (IsTransient) always are.
	Retry func(error) bool
	// Lock, when set, is held around each attempt (SQLite writers queue
	// on it instead of in SQLite's busy handler).
	Lock sync.Locker
}

// InTx runs fn in a transaction, rolling back on an error or a panic, and
// runs it again (up to TxAttempts times) on deadlocks, serialization
// failures, a busy SQLite and whatever o.Retry accepts. It returns fn's
// result once the transaction committed.
func InTx[T any](ctx context.Context, db *DB, o TxOptions, fn func(tx *sql.Tx) (T, error)) (T, error) {
	var (
		res T
		err error
	)
	for range TxAttempts {
		if res, err = attemptTx(ctx, db, o.Lock, fn); err == nil {
			return res, nil
		}
		if !(IsTransient(err) || o.Retry != nil && o.Retry(err)) || ctx.Err() != nil {
			break
		}
	}
	var zero T
	return zero, err
}

func attemptTx[T any](ctx context.Context, db *DB, lock sync.Locker, fn func(tx *sql.Tx) (T, error)) (res T, err error) {
	if lock != nil {
		lock.Lock()
		defer lock.Unlock()
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if res, err = fn(tx); err != nil {
		_ = tx.Rollback()
		var zero T
		return zero, err
	}
	return res, tx.Commit()
}
