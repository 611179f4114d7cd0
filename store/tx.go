package store

import (
	"context"
	"sync"

	"linli/ent"
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

// InTx runs fn in a transaction of client (Tx), and runs it again (up to
// TxAttempts times) on deadlocks, serialization failures, a busy SQLite and
// whatever o.Retry accepts, holding o.Lock around each attempt. It returns
// once the transaction committed, or with the last error.
func InTx(ctx context.Context, client *ent.Client, o TxOptions, fn func(tx *ent.Tx) error) error {
	var err error
	for range TxAttempts {
		if err = attempt(ctx, client, o.Lock, fn); err == nil {
			return nil
		}
		if !(IsTransient(err) || o.Retry != nil && o.Retry(err)) || ctx.Err() != nil {
			break
		}
	}
	return err
}

func attempt(ctx context.Context, client *ent.Client, lock sync.Locker, fn func(tx *ent.Tx) error) error {
	if lock != nil {
		lock.Lock()
		defer lock.Unlock()
	}
	return Tx(ctx, client, fn)
}

// Tx runs fn in one transaction of client: committed when fn returns nil,
// rolled back when it returns an error (which Tx returns) or panics (the
// panic goes on).
func Tx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
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
