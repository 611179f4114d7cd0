package scan

import (
	"context"
	"database/sql"
	"errors"

	"linli/events"
	"linli/store"
)

// errStale rolls back a transaction whose conditional update matched
// nothing: the registration moved since it was read, so the scan is decided
// again from the new state.
var errStale = errors.New("checkin: registration changed, decide again")

const maxAttempts = store.TxAttempts

// inTx runs fn in a transaction, again on deadlocks, serialization failures
// and a busy SQLite, and publishes the events fn returns after commit.
func (s *Service) inTx(ctx context.Context, fn func(tx *sql.Tx) ([]events.Event, error)) error {
	evs, err := store.InTx(ctx, s.db, store.TxOptions{}, fn)
	if err == nil {
		s.publish(evs...)
	}
	return err
}

// one runs a query for at most one row; it reports whether there was one.
func (s *Service) one(ctx context.Context, q store.Querier, query string, args []any, dest ...any) (bool, error) {
	return store.QueryRow(ctx, q, s.db.Rebind(query), args, dest...)
}

// exec runs a statement and returns how many rows it changed.
func (s *Service) exec(ctx context.Context, q store.Querier, query string, args ...any) (int64, error) {
	r, err := q.ExecContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// prepared returns query prepared on the database (per connection, by
// database/sql), for the statements every scan sends: the database parses
// and plans them once instead of on every scan.
func (s *Service) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.SQL.PrepareContext(ctx, s.db.Rebind(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}
