package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Querier is what single-statement domain writes need: *sql.DB, *sql.Tx and
// *ent.Tx all have it, so the same steps run in a service's own transaction
// and in a caller's.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryRow runs a query expected to return at most one row and scans it; it
// reports false when there was none.
func QueryRow(ctx context.Context, q Querier, query string, args []any, dest ...any) (bool, error) {
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

// IsTransient reports whether running the same transaction again may
// succeed: a PostgreSQL deadlock or serialization failure, a busy or locked
// SQLite.
func IsTransient(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "40P01" || pqErr.Code == "40001"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-index violation on
// either database.
func IsUniqueViolation(err error) bool {
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

// IsUnavailable reports whether err says the database could not be reached
// or refused work for now (the connection failed or was dropped, the server
// is shutting down or out of connections, SQLite stayed busy), rather than
// that the statement itself was wrong: the same request may succeed later.
func IsUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		// Class 08: connection exception; 53300: too many connections;
		// 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
		return pqErr.Code.Class() == "08" || pqErr.Code == "53300" ||
			pqErr.Code == "57P01" || pqErr.Code == "57P02" || pqErr.Code == "57P03"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_CANTOPEN
	}
	var netErr *net.OpError
	return errors.As(err, &netErr)
}
