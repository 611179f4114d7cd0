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

const maxAttempts = 8

// inTx runs fn in a transaction and retries it on deadlocks, serialization
// failures, a busy SQLite and errRetry. Events fn returns are published only
// after a successful commit.
func (s *Service) inTx(ctx context.Context, fn func(tx *sql.Tx) ([]events.Event, error)) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var evs []events.Event
		evs, err = s.runTx(ctx, fn)
		if err == nil {
			s.publish(evs)
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (s *Service) runTx(ctx context.Context, fn func(tx *sql.Tx) ([]events.Event, error)) (evs []events.Event, err error) {
	if s.db.IsSQLite() {
		// SQLite has one writer at a time; queueing here instead of in its
		// busy handler (which sleeps up to 100 ms between tries) keeps a
		// storm of sign-ups moving.
		s.sqliteWriter.Lock()
		defer s.sqliteWriter.Unlock()
	}
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if evs, err = fn(tx); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return evs, tx.Commit()
}

// retryable reports whether running the same transaction again may succeed.
func retryable(err error) bool {
	return errors.Is(err, errRetry) || store.IsTransient(err)
}
