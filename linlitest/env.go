// Package linlitest runs linli in-process for tests: a fresh database on each
// backend (a temporary SQLite file, and a new PostgreSQL database created for
// the test and dropped after it), the real HTTP handler behind httptest, a
// small GraphQL client and fixtures.
//
// PostgreSQL is found through LINLI_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it is
// unreachable the PostgreSQL half is skipped, unless LINLI_REQUIRE_POSTGRES=1
// or CI is set, in which case the test fails: CI never passes on SQLite alone.
package linlitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"linli/app"
	"linli/ent"
	"linli/gid"
	"linli/reqlog"
	"linli/store"
	"linli/viewer"
)

// Backends are the databases every suite runs on.
var Backends = []string{"sqlite", "postgres"}

// AdminURL is the PostgreSQL server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("LINLI_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// PostgresRequired reports whether a missing PostgreSQL fails the run.
func PostgresRequired() bool {
	return os.Getenv("LINLI_REQUIRE_POSTGRES") == "1" || os.Getenv("CI") != ""
}

// Env is one linli instance over a fresh database.
type Env struct {
	Backend string
	App     *app.App
	DB      *store.DB
	Client  *ent.Client
	Server  *httptest.Server
	// Statements counts SQL statements sent through Ent.
	Statements *atomic.Int64
}

// Option changes the configuration of a new Env.
type Option func(*app.Config)

// Run runs fn once per backend as subtests.
func Run(t *testing.T, fn func(t *testing.T, e *Env), opts ...Option) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) {
			shortSkip(t, b)
			fn(t, New(t, b, opts...))
		})
	}
}

// DatabaseURL returns a fresh, empty database on backend, removed when the test ends.
func DatabaseURL(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return filepath.Join(t.TempDir(), "linli.db")
	case "postgres":
		return freshPostgres(t)
	}
	t.Fatalf("unknown backend %q", backend)
	return ""
}

// New starts linli on backend ("sqlite" or "postgres").
func New(t testing.TB, backend string, opts ...Option) *Env {
	t.Helper()
	return NewAt(t, backend, DatabaseURL(t, backend), opts...)
}

// NewAt starts linli on the database dbURL of backend (from DatabaseURL):
// several instances on one PostgreSQL database are replicas.
func NewAt(t testing.TB, backend, dbURL string, opts ...Option) *Env {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.RateLimitPerMinute = 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.AllowedOrigins = []string{"http://allowed.example"}
	cfg.IDKey = TestIDKey
	for _, o := range opts {
		o(&cfg)
	}
	// Test packages run in parallel against one PostgreSQL server (100
	// connections by default); a modest pool per instance keeps them under it.
	if cfg.Store.MaxOpenConns == 0 {
		cfg.Store.MaxOpenConns = 12
	}
	counter := &atomic.Int64{}
	cfg.Store.WrapDriver = func(d dialect.Driver) dialect.Driver { return &countingDriver{Driver: d, n: counter} }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatalf("start linli on %s: %v", backend, err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &Env{Backend: backend, App: a, DB: a.DB, Client: a.DB.Client, Server: srv, Statements: counter}
}

// Sys is a context acting as the system (fixtures, assertions).
func (e *Env) Sys() context.Context { return viewer.System(context.Background()) }

func freshPostgres(t testing.TB) string {
	t.Helper()
	admin := AdminURL()
	// The template is built once, under its own deadline, before the
	// copy's deadline starts.
	tmpl, err := migratedTemplate(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var dbURL string
	var drop func() error
	if err == nil {
		dbURL, drop, err = ScratchDatabaseFrom(ctx, admin, "linli_test", tmpl)
	}
	if err == nil {
		if err = relaxDurability(ctx, dbURL); err != nil {
			_ = drop()
		}
	}
	if err != nil {
		if PostgresRequired() {
			t.Fatalf("PostgreSQL is required but unusable at %s: %v", redact(admin), err)
		}
		t.Skipf("PostgreSQL unusable (%v); set LINLI_REQUIRE_POSTGRES=1 to make this a failure", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Logf("drop test database: %v", err)
		}
	})
	return dbURL
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// countingDriver counts statements sent to the database, but not those of
// linli's background work (store.Background: jobs, read-log flushes), which
// run on their own clock and would make a request's count flaky.
type countingDriver struct {
	dialect.Driver
	n *atomic.Int64
}

func (d *countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, d.n)
	return d.Driver.Exec(ctx, q, args, v)
}

func (d *countingDriver) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, d.n)
	return d.Driver.Query(ctx, q, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, n: d.n}, nil
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, t.n)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, t.n)
	return t.Tx.Query(ctx, q, args, v)
}

// TestIDKey is the ID key of every Env unless an option changes it
// (GeneratedIDKey), so that package-level helpers (ID, IntID) and the
// fixtures of any Env agree without an Env at hand.
const TestIDKey = "linli test ID key, not a secret"

var testIDs = func() *gid.Codec {
	c, err := gid.New([]byte(TestIDKey))
	if err != nil {
		panic(err)
	}
	return c
}()

// GeneratedIDKey starts the Env without a configured ID key: linli uses
// the one it generated on first start and kept in the database.
func GeneratedIDKey(c *app.Config) { c.IDKey = "" }

// Converting a test: an ID a test sends (in a variable, or written into a
// query) is ID(n) (or e.ID(n)), never n or fmt.Sprint(n); an ID the API
// returned is read back with IntID(t, s) (or e.IntID). e.ID and e.IntID use
// the Env's own codec and so also work with GeneratedIDKey; the package
// functions assume TestIDKey.

// ID is the API's ID of the row with internal ID n under TestIDKey.
func ID(n int) string { return testIDs.Encode(n) }

// IDs is ID of each of ns.
func IDs(ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = ID(n)
	}
	return out
}

// IntID is the internal ID of s, an ID the API returned under TestIDKey,
// failing the test if it is none.
func IntID(t testing.TB, s string) int {
	t.Helper()
	n, err := testIDs.Decode(s)
	if err != nil {
		t.Fatalf("ID %q: %v", s, err)
	}
	return n
}

// ID is the API's ID of the row with internal ID id, as this instance's
// clients see it (the app's ID codec). A raw number is refused by the API.
func (e *Env) ID(id int) string { return e.App.IDs.Encode(id) }

// IntID is the internal ID of an ID the API returned, failing the test if
// it is not one of this instance's IDs.
func (e *Env) IntID(t testing.TB, id string) int {
	t.Helper()
	n, err := e.App.IDs.Decode(id)
	if err != nil {
		t.Fatalf("ID %q: %v", id, err)
	}
	return n
}

// RowID is an ID in a response struct, decoded to the internal ID (under
// TestIDKey) as the response is unmarshalled: for tests that compare rows
// by internal ID. int(id) or id.Int() is the internal ID.
type RowID int

// Int is the internal ID.
func (id RowID) Int() int { return int(id) }

// UnmarshalJSON decodes an API ID.
func (id *RowID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	n, err := testIDs.Decode(s)
	if err != nil {
		return fmt.Errorf("ID %q: %w", s, err)
	}
	*id = RowID(n)
	return nil
}

// count counts one statement unless it is background work.
func count(ctx context.Context, n *atomic.Int64) {
	if !reqlog.IsBackground(ctx) {
		n.Add(1)
	}
}
