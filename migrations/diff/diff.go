// Package diff compares the Ent schema with what a migration directory
// replays to, on a dev database, and writes the difference as a new
// migration file. The generator (migrations/gen, run by `go generate .`)
// writes; the sync test only checks.
package diff

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // embedded SQLite driver

	entmigrate "linli/ent/migrate"
	"linli/migrations"
)

// PostgresAdminURL is the PostgreSQL server on which the dev database for
// migrations/postgres is created: LINLI_MIGRATE_POSTGRES, else
// LINLI_TEST_POSTGRES, else the local server.
func PostgresAdminURL() string {
	for _, k := range []string{"LINLI_MIGRATE_POSTGRES", "LINLI_TEST_POSTGRES"} {
		if u := os.Getenv(k); u != "" {
			return u
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Write replays the migration directory at path into a dev database of
// dia ("sqlite" or "postgres") and, when the Ent schema differs, writes
// the difference as a new file named <version>_<name>.sql and updates
// atlas.sum. It returns the new file's name, or "" when the directory
// already replays to the Ent schema.
func Write(ctx context.Context, dia, path, name string) (string, error) {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return "", err
	}
	before, err := names(dir)
	if err != nil {
		return "", err
	}
	if err := run(ctx, dia, dir, name, false); err != nil {
		return "", err
	}
	after, err := names(dir)
	if err != nil {
		return "", err
	}
	for n := range after {
		if !before[n] {
			return n, nil
		}
	}
	return "", nil
}

// Check replays dir (not changed) into a dev database of dia and returns
// the statements that would bring it to the Ent schema: "" when they agree.
func Check(ctx context.Context, dia string, dir migrate.Dir) (string, error) {
	files, err := dir.Files()
	if err != nil {
		return "", err
	}
	mem := &migrate.MemDir{}
	if err := mem.CopyFiles(files); err != nil {
		return "", err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return "", fmt.Errorf("checksum: %w", err)
	}
	if err := migrate.WriteSumFile(mem, sum); err != nil {
		return "", err
	}
	before, _ := names(mem)
	err = run(ctx, dia, mem, "check", true)
	if errors.Is(err, migrate.ErrNoPlan) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var out strings.Builder
	all, _ := mem.Files()
	for _, f := range all {
		if !before[f.Name()] {
			out.Write(f.Bytes())
		}
	}
	return out.String(), nil
}

func names(dir migrate.Dir) (map[string]bool, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, f := range files {
		m[f.Name()] = true
	}
	return m, nil
}

// Options are the Ent migration options every diff uses: replay the
// directory, and include drops (a removed field or index must show up as
// a migration, reviewed like any other).
func Options(dia string, dir migrate.Dir) []schema.MigrateOption {
	return []schema.MigrateOption{
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dia),
		schema.WithFormatter(formatter{}),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(migrations.SamePredicates),
	}
}

// version is the version of the files this run writes: the same for both
// databases, so that their directories list the same revisions.
var version = migrate.NewVersion()

// formatter is Atlas's default file format with one version per run.
type formatter struct{}

func (formatter) Format(p *migrate.Plan) ([]migrate.File, error) {
	p.Version = version
	return migrate.DefaultFormatter.Format(p)
}

func run(ctx context.Context, dia string, dir migrate.Dir, name string, errNoPlan bool) error {
	db, done, err := devDB(ctx, dia)
	if err != nil {
		return err
	}
	defer done()
	opts := append(Options(dia, dir), schema.WithErrNoPlan(errNoPlan))
	return entmigrate.NewSchema(entsql.OpenDB(dia, db)).NamedDiff(ctx, name, opts...)
}

// devDB opens an empty database of dia to replay into.
func devDB(ctx context.Context, dia string) (*sql.DB, func(), error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	switch dia {
	case dialect.SQLite:
		db, err := sql.Open("sqlite", "file:linli_dev_"+tag+"?mode=memory&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1) // one connection holds the in-memory database
		return db, func() { db.Close() }, nil
	case dialect.Postgres:
		admin := PostgresAdminURL()
		u, err := url.Parse(admin)
		if err != nil {
			return nil, nil, fmt.Errorf("PostgreSQL admin URL: %w", err)
		}
		adm, err := sql.Open("postgres", admin)
		if err != nil {
			return nil, nil, err
		}
		name := "linli_migrate_dev_" + tag
		if _, err := adm.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			adm.Close()
			return nil, nil, fmt.Errorf("migrations/postgres needs a PostgreSQL server to replay the directory into a scratch database, "+
				"and none answered at %s (%v): start PostgreSQL or set LINLI_MIGRATE_POSTGRES to an admin URL", u.Redacted(), err)
		}
		u.Path = "/" + name
		db, err := sql.Open("postgres", u.String())
		if err != nil {
			adm.Close()
			return nil, nil, err
		}
		return db, func() {
			db.Close()
			_, _ = adm.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			adm.Close()
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown database %q", dia)
}

// Rehash rewrites the atlas.sum of the directory at path from its files.
func Rehash(path string) error {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	sum, err := migrate.NewHashFile(files)
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(dir, sum)
}
