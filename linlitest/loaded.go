package linlitest

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/ent"
	"linli/store"
)

// A loaded database is a database filled once per test process and
// backend (the demo year, say) and copied for each test that reads it,
// instead of filling a fresh database in every test: on PostgreSQL a
// CREATE DATABASE … TEMPLATE of it, on SQLite a copy of its file. Each
// test gets its own copy, so tests may write to it and run in parallel.
//
// The filled databases live as long as the test process: a package that
// uses them calls DropLoaded from its TestMain after m.Run. A process
// killed before that leaves a PostgreSQL database named linli_loaded_…
// behind (nothing reuses it; drop it by hand).

// Fill writes a loaded database's content through c.
type Fill func(ctx context.Context, c *ent.Client) error

type loadedKey struct{ name, backend string }

type loadedDB struct {
	once sync.Once
	// source is the SQLite file or the PostgreSQL database name.
	source string
	drop   func() error
	err    error
}

var loaded struct {
	mu sync.Mutex
	m  map[loadedKey]*loadedDB
}

// NewLoaded starts linli on backend over a copy of the database fill
// filled, once per process for each name and backend.
func NewLoaded(t testing.TB, backend, name string, fill Fill, opts ...Option) *Env {
	t.Helper()
	return NewAt(t, backend, LoadedURL(t, backend, name, fill), opts...)
}

// RunLoaded is Run over NewLoaded: fn once per backend, each on its own
// copy of the loaded database.
func RunLoaded(t *testing.T, name string, fill Fill, fn func(t *testing.T, e *Env), opts ...Option) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) {
			shortSkip(t, b)
			fn(t, NewLoaded(t, b, name, fill, opts...))
		})
	}
}

// LoadedURL returns a fresh copy of the loaded database name on backend,
// removed when the test ends.
func LoadedURL(t testing.TB, backend, name string, fill Fill) string {
	t.Helper()
	loaded.mu.Lock()
	if loaded.m == nil {
		loaded.m = map[loadedKey]*loadedDB{}
	}
	k := loadedKey{name, backend}
	l := loaded.m[k]
	if l == nil {
		l = &loadedDB{}
		loaded.m[k] = l
	}
	loaded.mu.Unlock()
	l.once.Do(func() {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		l.source, l.drop, l.err = buildLoaded(ctx, t, backend, name, fill)
		if l.err == nil {
			t.Logf("loaded database %s on %s filled in %v", name, backend, time.Since(start).Round(time.Millisecond))
		}
	})
	if se, ok := l.err.(skipError); ok {
		t.Skipf("PostgreSQL unusable (%v); set LINLI_REQUIRE_POSTGRES=1 to make this a failure", se.err)
	}
	if l.err != nil {
		t.Fatalf("loaded database %s on %s: %v", name, backend, l.err)
	}
	switch backend {
	case "sqlite":
		dst := filepath.Join(t.TempDir(), "linli.db")
		if err := copyFile(l.source, dst); err != nil {
			t.Fatalf("copy loaded database %s: %v", name, err)
		}
		return dst
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var dbURL string
		var drop func() error
		var err error
		// The filling connections may take a moment to leave the source.
		for try := 0; ; try++ {
			dbURL, drop, err = ScratchDatabaseFrom(ctx, AdminURL(), "linli_test", l.source)
			if err == nil || try == 50 || !strings.Contains(err.Error(), "other users") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err == nil {
			if err = relaxDurability(ctx, dbURL); err != nil {
				_ = drop()
			}
		}
		if err != nil {
			t.Fatalf("copy loaded database %s: %v", name, err)
		}
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Logf("drop test database: %v", err)
			}
		})
		return dbURL
	}
	t.Fatalf("unknown backend %q", backend)
	return ""
}

// buildLoaded makes the source database of name on backend: migrated (a
// copy of the migrated template on PostgreSQL), filled, closed.
func buildLoaded(ctx context.Context, t testing.TB, backend, name string, fill Fill) (source string, drop func() error, err error) {
	var dbURL string
	switch backend {
	case "sqlite":
		dir, err := os.MkdirTemp("", "linli-loaded-")
		if err != nil {
			return "", nil, err
		}
		dbURL = filepath.Join(dir, name+".db")
		source, drop = dbURL, func() error { return os.RemoveAll(dir) }
	case "postgres":
		admin := AdminURL()
		tmpl, err := migratedTemplate(admin)
		if err == nil {
			dbURL, drop, err = ScratchDatabaseFrom(ctx, admin, "linli_loaded", tmpl)
		}
		if err != nil {
			if PostgresRequired() {
				return "", nil, fmt.Errorf("PostgreSQL is required but unusable at %s: %w", redact(admin), err)
			}
			return "", nil, skipError{err}
		}
		if err := relaxDurability(ctx, dbURL); err != nil {
			_ = drop()
			return "", nil, err
		}
		u, err := url.Parse(dbURL)
		if err != nil {
			_ = drop()
			return "", nil, err
		}
		source = strings.TrimPrefix(u.Path, "/")
	default:
		return "", nil, fmt.Errorf("unknown backend %q", backend)
	}
	fail := func(err error) (string, func() error, error) {
		_ = drop()
		return "", nil, err
	}
	s, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 4})
	if err != nil {
		return fail(err)
	}
	if err := fill(ctx, s.Client); err != nil {
		s.Close()
		return fail(fmt.Errorf("fill: %w", err))
	}
	if s.IsSQLite() {
		// Everything into the main file, so copying it copies the data.
		if _, err := s.SQL.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.Close()
			return fail(err)
		}
	}
	if err := s.Close(); err != nil {
		return fail(err)
	}
	registerLoaded(drop)
	return source, drop, nil
}

// skipError is an unusable PostgreSQL where it is not required.
type skipError struct{ err error }

func (e skipError) Error() string { return e.err.Error() }

var loadedDrops struct {
	mu sync.Mutex
	fs []func() error
}

func registerLoaded(drop func() error) {
	loadedDrops.mu.Lock()
	defer loadedDrops.mu.Unlock()
	loadedDrops.fs = append(loadedDrops.fs, drop)
}

// DropLoaded removes every loaded database this process filled. Call it
// from TestMain after m.Run.
func DropLoaded() {
	loadedDrops.mu.Lock()
	defer loadedDrops.mu.Unlock()
	for _, drop := range loadedDrops.fs {
		if err := drop(); err != nil {
			fmt.Fprintf(os.Stderr, "linlitest: drop loaded database: %v\n", err)
		}
	}
	loadedDrops.fs = nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
