package signup

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"linli/events"
)

// querier is what the write steps need: *sql.Tx, *sql.DB and *ent.Tx all
// have it, so the same steps run in our transactions and in a caller's.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

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
	if errors.Is(err, errRetry) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "40P01", "40001": // deadlock_detected, serialization_failure
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// isUniqueViolation reports whether err is a unique-index violation.
func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// queryRow runs a query expected to return at most one row and scans it;
// it reports false when there was none.
func queryRow(ctx context.Context, q querier, query string, args []any, dest ...any) (bool, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	return true, rows.Close()
}
