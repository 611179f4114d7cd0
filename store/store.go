// Package store opens linli's database: PostgreSQL through lib/pq when given a
// postgres:// URL, otherwise an embedded SQLite file through modernc.org/sqlite.
// Both get the same Ent schema, brought up to date on open by the
// versioned migrations of package migrations.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // embedded SQLite driver

	"linli/ent"
	_ "linli/ent/runtime" // privacy policies, hooks and defaults
	"linli/migrations"
	"linli/tracing"
)

// DefaultSQLitePath is where the embedded database lives when nothing is configured.
const DefaultSQLitePath = "linli.db"

// DB is an open database with its Ent client and the raw handle that domain
// services use for single-statement atomic updates.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.Postgres or dialect.SQLite
	// URL is the PostgreSQL URL (empty for SQLite).
	URL string
	// ListenURL is the PostgreSQL URL live events LISTEN on: Options.ListenURL,
	// else URL.
	ListenURL string
	// Pooled says the connections go through a transaction-mode pooler
	// (Options.TransactionPooling): keep no prepared statement (pooling.go).
	Pooled bool
	// Read is the client of reads that may be a moment old (statistics,
	// exports, public lists): the read replica's while it is healthy
	// (replica.go), else Client.
	Read    *ent.Client
	replica *replica

	writer sync.Mutex
}

// Writers is the lock every writing transaction holds on SQLite, which
// takes one writer at a time anyway: writers then queue here, in order,
// instead of spinning in SQLite's busy handler. On PostgreSQL it is nil
// (row locks order writers there). Pass it as TxOptions.Lock.
func (d *DB) Writers() sync.Locker {
	if d.IsSQLite() {
		return &d.writer
	}
	return nil
}

// DefaultPostgresConns is the PostgreSQL pool's size when Options do not
// set one: per replica, so replicas × this must stay under the server's
// max_connections (100 by default), with room for LISTEN and psql.
const DefaultPostgresConns = 32

// Options tune Open.
type Options struct {
	// MaxOpenConns bounds the pool (PostgreSQL); 0 is DefaultPostgresConns.
	MaxOpenConns int
	// Driver wraps the Ent driver (tests count statements with it).
	WrapDriver func(dialect.Driver) dialect.Driver
	// NoMigrate opens the database as it is, without applying pending
	// migrations (migrate status, backup).
	NoMigrate bool
	// ListenURL is where live events LISTEN (a session of its own, which
	// must not go through a transaction-mode pooler); empty: the URL.
	ListenURL string
	// TransactionPooling says the URL is a transaction-mode pooler
	// (PgBouncer): see pooling.go. It needs ListenURL.
	TransactionPooling bool
	// ReadURL is a streaming replica of the database for the reads that
	// may be a moment old (DB.Read, replica.go); empty: none.
	ReadURL string
	// ReadMaxLag is how far behind the replica may be before reads go to
	// the primary; 0 is DefaultReadMaxLag. ReadCheckInterval is how often
	// the replica is asked (0: a second, or half of ReadMaxLag if less).
	ReadMaxLag, ReadCheckInterval time.Duration
	// Logger logs the replica's state changes; nil is slog.Default.
	Logger *slog.Logger
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open connects to url (postgres://… or a SQLite file path, optionally
// prefixed sqlite: or file:) and applies pending migrations (unless
// o.NoMigrate); a database migrated by a newer linli is refused
// (migrations.ErrNewer).
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	db := &DB{}
	var err error
	if IsPostgres(url) {
		db.Dialect, db.URL, db.ListenURL = dialect.Postgres, url, url
		if o.ListenURL != "" {
			db.ListenURL = o.ListenURL
		}
		dsn := url
		if o.TransactionPooling {
			if o.ListenURL == "" {
				return nil, errors.New("store: behind a transaction-mode pooler, LISTEN needs a URL of its own (-listen-database-url)")
			}
			if dsn, err = pooledURL(url); err != nil {
				return nil, err
			}
			db.Pooled = true
		}
		db.SQL, err = tracing.OpenDB("postgres", dsn)
		if err != nil {
			return nil, err
		}
		n := o.MaxOpenConns
		if n <= 0 {
			n = DefaultPostgresConns
		}
		db.SQL.SetMaxOpenConns(n)
		db.SQL.SetMaxIdleConns(n)
		db.SQL.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		db.Dialect = dialect.SQLite
		if err := privateSQLiteFiles(url); err != nil {
			return nil, err
		}
		db.SQL, err = tracing.OpenDB("sqlite", sqliteDSN(url))
		if err != nil {
			return nil, err
		}
		// One writer at a time is SQLite's model; a small pool keeps readers
		// concurrent under WAL without piling up lock waits.
		db.SQL.SetMaxOpenConns(8)
		db.SQL.SetMaxIdleConns(8)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.SQL.PingContext(pingCtx); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	var drv dialect.Driver = entsql.OpenDB(db.Dialect, db.SQL)
	if db.Pooled {
		drv = pooledDriver{drv}
	}
	if o.WrapDriver != nil {
		drv = o.WrapDriver(drv)
	}
	db.Client = ent.NewClient(ent.Driver(drv))
	if !o.NoMigrate {
		if err := db.migrate(ctx); err != nil {
			db.SQL.Close()
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
	}
	if err := db.openRead(o, drv); err != nil {
		db.SQL.Close()
		return nil, err
	}
	return db, nil
}

// migrate applies pending migrations. Behind a transaction-mode pooler the
// session advisory lock that makes replicas migrate one at a time would be
// taken on one server connection and released on another: migrations then
// go straight to PostgreSQL, through the LISTEN URL.
func (db *DB) migrate(ctx context.Context) error {
	conn := db.SQL
	if db.Pooled {
		direct, err := sql.Open("postgres", db.ListenURL)
		if err != nil {
			return err
		}
		defer direct.Close()
		conn = direct
	}
	_, err := migrations.Up(ctx, conn, db.Dialect, migrations.Options{})
	return err
}

// Close closes the database (and the read replica's connections).
func (db *DB) Close() error {
	if db.replica != nil {
		db.replica.close()
	}
	return db.Client.Close()
}

// IsSQLite reports whether the database is the embedded SQLite.
func (db *DB) IsSQLite() bool { return db.Dialect == dialect.SQLite }

// sqliteDSN builds the modernc.org/sqlite DSN: foreign keys on, a busy
// timeout, WAL, immediate write transactions (so two transactions never
// deadlock upgrading read locks), and times stored as UTC text that sorts.
func sqliteDSN(path string) string {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "sqlite:"), "file:")
	if path == "" {
		path = DefaultSQLitePath
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		extra, _ := url.ParseQuery(path[i+1:])
		for k, vs := range extra {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		path = path[:i]
	}
	return "file:" + path + "?" + q.Encode()
}

// Rebind turns ?-placeholders into $n for PostgreSQL.
func (db *DB) Rebind(query string) string {
	if db.Dialect != dialect.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// privateSQLiteFiles creates the embedded database file readable by its
// owner only (0600), before SQLite opens it, and narrows an existing one
// and its -wal and -shm files to that: they hold phone numbers, care tags
// and health sign-ups. SQLite creates its -wal and -shm with the mode of
// the database file.
func privateSQLiteFiles(dsn string) error {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		if strings.Contains(path[i:], "mode=memory") {
			return nil
		}
		path = path[:i]
	}
	if path == "" {
		path = DefaultSQLitePath
	}
	if path == ":memory:" || strings.HasPrefix(path, ":") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: chmod %s: %w", p, err)
		}
	}
	return nil
}
