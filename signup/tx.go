package signup

import (
	"context"
	"database/sql"
	"errors"

	"linli/events"
	"linli/store"
)

// errRetry asks inTx to run the transaction again: the state it read under
// the activity lock was changed by a writer that does not take that lock.
var errRetry = errors.New("signup: concurrent change, retry")

const maxAttempts = store.TxAttempts

// inTx runs fn in a transaction and retries it on deadlocks, serialization
// failures, a busy SQLite and errRetry. Events fn returns are published only
// after a successful commit.
func (s *Service) inTx(ctx context.Context, fn func(tx *sql.Tx) ([]events.Event, error)) error {
	o := store.TxOptions{Retry: retryable}
	if s.db.IsSQLite() {
		// SQLite has one writer at a time; queueing here instead of in its
		// busy handler (which sleeps up to 100 ms between tries) keeps a
		// storm of sign-ups moving.
		o.Lock = &s.sqliteWriter
	}
	evs, err := store.InTx(ctx, s.db, o, fn)
	if err == nil {
		s.publish(evs)
	}
	return err
}

// retryable reports whether running the same transaction again may succeed
// (besides the transient errors store.InTx always retries).
func retryable(err error) bool { return errors.Is(err, errRetry) }
