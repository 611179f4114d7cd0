package migrations_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"linli/app"
	"linli/ent"
	entmigrate "linli/ent/migrate"
	"linli/linlitest"
	"linli/migrations"
	"linli/migrations/diff"
	"linli/store"
)

var dialects = map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres}

// emptyDB is a new, empty database of backend (no tables at all), dropped
// after the test.
func emptyDB(t *testing.T, backend string) string {
	t.Helper()
	if backend == "sqlite" {
		return filepath.Join(t.TempDir(), "linli.db")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, drop, err := linlitest.ScratchDatabase(ctx, linlitest.AdminURL(), "linli_mig")
	if err != nil {
		if linlitest.PostgresRequired() {
			t.Fatalf("PostgreSQL is required: %v", err)
		}
		t.Skipf("PostgreSQL unusable: %v", err)
	}
	t.Cleanup(func() { _ = drop() })
	return u
}

func files(t *testing.T, dia string) []migrate.File {
	t.Helper()
	dir, err := migrations.Dir(dia)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func revisions(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT version FROM " + migrations.RevisionsTable + " ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestDirectoryMatchesSchema replays each committed migration directory
// into an empty database and compares it with the Ent schema: CI fails
// when someone changed ent/schema without `go generate .`.
func TestDirectoryMatchesSchema(t *testing.T) {
	for backend, dia := range dialects {
		t.Run(backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			dir, err := migrations.Dir(dia)
			if err != nil {
				t.Fatal(err)
			}
			missing, err := diff.Check(ctx, dia, dir)
			if err != nil {
				if dia == dialect.Postgres && !linlitest.PostgresRequired() {
					t.Skip(err)
				}
				t.Fatal(err)
			}
			if missing != "" {
				t.Fatalf("migrations/%s does not replay to the Ent schema: run `go generate .` and commit the new migration. It lacks:\n%s", backend, missing)
			}
		})
	}
	// The check finds a difference: the baseline without its last statement.
	t.Run("detects", func(t *testing.T) {
		fs := files(t, dialect.SQLite)
		stmts, err := fs[0].Stmts()
		if err != nil {
			t.Fatal(err)
		}
		mem := &migrate.MemDir{}
		short := strings.Join(stmts[:len(stmts)-1], "\n")
		if err := mem.WriteFile(fs[0].Name(), []byte(short)); err != nil {
			t.Fatal(err)
		}
		sum, _ := mem.Checksum()
		if err := migrate.WriteSumFile(mem, sum); err != nil {
			t.Fatal(err)
		}
		missing, err := diff.Check(context.Background(), dialect.SQLite, mem)
		if err != nil {
			t.Fatal(err)
		}
		if missing == "" {
			t.Fatalf("a directory without %q passed the check", stmts[len(stmts)-1])
		}
	})
}

// TestStartMigratesOnce: replicas starting together on one empty
// database (store.Open is the start path: app.New opens the store) all
// come up, and every migration is applied and recorded once; a later
// start applies nothing.
func TestStartMigratesOnce(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			url := emptyDB(t, backend)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := store.Open(ctx, url, store.Options{MaxOpenConns: 2})
					if err == nil {
						db.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("a replica failed to start: %v", err)
				}
			}
			db, err := store.Open(ctx, url, store.Options{MaxOpenConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			fs := files(t, db.Dialect)
			got := revisions(t, db.SQL)
			if len(got) != len(fs) {
				t.Fatalf("revisions %v, want one per file (%d)", got, len(fs))
			}
			st, err := migrations.ReadStatus(ctx, db.SQL, db.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Pending) != 0 || st.Latest != got[len(got)-1] {
				t.Fatalf("status after start: pending %d, latest %s, applied %v", len(st.Pending), st.Latest, got)
			}
		})
	}
}

// TestNewerDatabaseRefused: a database migrated by a newer linli (a
// revision this binary does not have) does not start, and says why.
func TestNewerDatabaseRefused(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			url := emptyDB(t, backend)
			ctx := context.Background()
			db, err := store.Open(ctx, url, store.Options{MaxOpenConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL.Exec(db.Rebind("INSERT INTO "+migrations.RevisionsTable+" (version, description, hash, applied_at) VALUES (?, ?, ?, ?)"),
				"99991231235959", "from_the_future", "h1:x", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = store.Open(ctx, url, store.Options{MaxOpenConns: 2})
			if !errors.Is(err, migrations.ErrNewer) {
				t.Fatalf("want ErrNewer, got %v", err)
			}
			if !strings.Contains(err.Error(), "99991231235959") || !strings.Contains(err.Error(), "newer") {
				t.Fatalf("message does not say what is wrong: %v", err)
			}
		})
	}
}

// autoMigrated creates linli's tables in the empty database url the way
// releases up to the baseline did at start (Ent's auto-migration), with
// one community in them.
func autoMigrated(t *testing.T, backend, url string) {
	t.Helper()
	ctx := context.Background()
	drv := "sqlite"
	dsn := "file:" + url + "?_pragma=foreign_keys(1)&_time_format=sqlite"
	if backend == "postgres" {
		drv, dsn = "postgres", url
	}
	db, err := sql.Open(drv, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := ent.NewClient(ent.Driver(entsql.OpenDB(dialects[backend], db)))
	if err := c.Schema.Create(ctx, entmigrate.WithDropIndex(true)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO communities (name, created_at, updated_at) VALUES ('前进社区', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"); err != nil {
		t.Fatal(err)
	}
}

// TestAdoptAutoMigrated: a database made by auto-migration (linli's
// tables, no revisions) is recorded at the baseline after its schema is
// checked, and kept as it is; one whose schema is not the baseline's is
// refused with what differs.
func TestAdoptAutoMigrated(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			fs := files(t, dialects[backend])
			url := emptyDB(t, backend)
			autoMigrated(t, backend, url)
			db, err := store.Open(ctx, url, store.Options{MaxOpenConns: 2})
			if len(fs) > 1 {
				// The auto-migration is the current schema's, no longer the
				// baseline's: such a database is refused.
				if !errors.Is(err, migrations.ErrNotBaseline) {
					t.Fatalf("want ErrNotBaseline, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("adopt: %v", err)
			}
			defer db.Close()
			if got := revisions(t, db.SQL); len(got) != 1 || got[0] != fs[0].Version() {
				t.Fatalf("revisions %v, want the baseline %s", got, fs[0].Version())
			}
			var n int
			if err := db.SQL.QueryRow("SELECT count(*) FROM communities").Scan(&n); err != nil || n != 1 {
				t.Fatalf("the adopted database lost its rows: %d communities (%v)", n, err)
			}

			other := emptyDB(t, backend)
			autoMigrated(t, backend, other)
			raw, err := store.Open(ctx, other, store.Options{MaxOpenConns: 2, NoMigrate: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.SQL.Exec("ALTER TABLE activities DROP COLUMN published_at"); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			_, err = store.Open(ctx, other, store.Options{MaxOpenConns: 2})
			if !errors.Is(err, migrations.ErrNotBaseline) || !strings.Contains(err.Error(), "published_at") {
				t.Fatalf("want ErrNotBaseline naming published_at, got %v", err)
			}
		})
	}
}

// TestMigrateCommand: `server migrate status` lists the pending files of
// a new database, `migrate up` applies them, and status then lists them
// as applied.
func TestMigrateCommand(t *testing.T) {
	ctx := context.Background()
	url := emptyDB(t, "sqlite")
	fs := files(t, dialect.SQLite)
	last := fs[len(fs)-1].Version()
	var out bytes.Buffer
	if err := app.Migrate(ctx, []string{"status", "-database-url", url}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pending  "+last) {
		t.Fatalf("status of a new database:\n%s", out.String())
	}
	out.Reset()
	if err := app.Migrate(ctx, []string{"up", "-database-url", url}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied "+last) || !strings.Contains(out.String(), "applied  "+last) || strings.Contains(out.String(), "pending") {
		t.Fatalf("up:\n%s", out.String())
	}
	if err := app.Migrate(ctx, []string{"sideways"}, &out); err == nil {
		t.Fatal("an unknown migrate command was accepted")
	}
}

// TestTemplateDatabaseMigrated: the tests' PostgreSQL template (built once
// per schema by the migration files) has every migration recorded, so a
// test database copied from it starts with nothing pending.
func TestTemplateDatabaseMigrated(t *testing.T) {
	url := linlitest.DatabaseURL(t, "postgres")
	db, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 2, NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := migrations.ReadStatus(context.Background(), db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != 0 || len(st.Applied) != len(files(t, db.Dialect)) {
		t.Fatalf("template copy: %d applied, %d pending", len(st.Applied), len(st.Pending))
	}
}
