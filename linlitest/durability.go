package linlitest

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"sync"
)

// A test database need not survive a crash of the PostgreSQL server: its
// commits skip waiting for the WAL flush (synchronous_commit off, a
// setting of the database alone; the server's other databases keep
// theirs). What a commit makes visible, and when, is unchanged; only the
// fsync wait goes, which on a busy disk is most of a small transaction's
// time. Benchmarks' scratch databases keep the server's setting.

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// relaxDurability turns synchronous_commit off for the test database at
// dbURL, before anyone connects to it.
func relaxDurability(ctx context.Context, dbURL string) error {
	admin.once.Do(func() {
		admin.db, admin.err = sql.Open("postgres", AdminURL())
		if admin.err == nil {
			admin.db.SetMaxIdleConns(1)
		}
	})
	if admin.err != nil {
		return admin.err
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	_, err = admin.db.ExecContext(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off")
	return err
}
