// Package migrations holds linli's versioned schema migrations, one
// directory per database (postgres/, sqlite/, each with Atlas's atlas.sum),
// and applies them: store.Open brings a database up to date at start, and
// `server migrate status|up` does it on demand.
//
// Applied revisions are rows of linli_schema_revisions. On PostgreSQL the
// migration runs under an advisory lock, so replicas starting together
// migrate once; on SQLite each file is applied in an immediate (writing)
// transaction that first checks the file is still pending. A database that
// records a revision this binary does not know is refused (ErrNewer). A
// database made by the auto-migration of earlier releases (linli's tables,
// no revisions table) is adopted at the baseline after checking that its
// schema is the baseline's.
//
// New files are written by `go generate .` (migrations/gen); never edit a
// file once it is committed — atlas.sum and the applied revision's hash
// catch it.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

//go:embed postgres sqlite
var files embed.FS

// RevisionsTable records the applied migrations.
const RevisionsTable = "linli_schema_revisions"

// lockKey is the PostgreSQL advisory lock migrations run under.
const lockKey = 0x6c696e6c696d67 // "linlimg"

// ErrNewer is returned when the database has a revision this binary does
// not know: it was migrated by a newer linli.
var ErrNewer = errors.New("the database was migrated by a newer linli")

// ErrNotBaseline is returned when a database without revisions has
// linli's tables but not the baseline's schema.
var ErrNotBaseline = errors.New("the database's schema is not the baseline's")

// dirName is the directory of dia's migrations.
func dirName(dia string) (string, error) {
	switch dia {
	case dialect.Postgres:
		return "postgres", nil
	case dialect.SQLite:
		return "sqlite", nil
	}
	return "", fmt.Errorf("migrations: unknown database %q", dia)
}

// Dir is the migration directory of dia ("postgres" or "sqlite3", Ent's
// dialect names), checked against its atlas.sum.
func Dir(dia string) (migrate.Dir, error) {
	name, err := dirName(dia)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(files, name)
	if err != nil {
		return nil, err
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(name, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("migrations/%s: %w", name, err)
	}
	return dir, nil
}

// Revision is one applied migration.
type Revision struct {
	Version     string
	Description string
	Hash        string
	AppliedAt   time.Time
}

// Status is what `migrate status` prints.
type Status struct {
	Applied []Revision
	// Pending are the files not applied yet, in order.
	Pending []migrate.File
	// Latest is the version of the last file this binary has.
	Latest string
	// Adoptable is true when the database has linli's tables but no
	// revisions (made by auto-migration): `up` adopts it at the baseline.
	Adoptable bool
	// Newer are applied versions this binary does not know.
	Newer []string
}

// Options tune Up.
type Options struct {
	// To stops after the file of this version ("" applies all).
	To string
}

// ReadStatus reads which migrations the database has applied.
func ReadStatus(ctx context.Context, db *sql.DB, dia string) (*Status, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return readStatus(ctx, conn, dia)
}

func readStatus(ctx context.Context, conn *sql.Conn, dia string) (*Status, error) {
	dir, err := Dir(dia)
	if err != nil {
		return nil, err
	}
	fs, err := dir.Files()
	if err != nil {
		return nil, err
	}
	st := &Status{}
	if len(fs) > 0 {
		st.Latest = fs[len(fs)-1].Version()
	}
	has, err := tableExists(ctx, conn, dia, RevisionsTable)
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	if has {
		rows, err := conn.QueryContext(ctx, "SELECT version, description, hash, applied_at FROM "+RevisionsTable+" ORDER BY version")
		if err != nil {
			return nil, fmt.Errorf("migrations: read revisions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r Revision
			var at string
			if err := rows.Scan(&r.Version, &r.Description, &r.Hash, &at); err != nil {
				return nil, err
			}
			r.AppliedAt, _ = time.Parse(time.RFC3339Nano, at)
			st.Applied = append(st.Applied, r)
			applied[r.Version] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else {
		linli, err := tableExists(ctx, conn, dia, "communities")
		if err != nil {
			return nil, err
		}
		st.Adoptable = linli
	}
	known := map[string]bool{}
	for _, f := range fs {
		known[f.Version()] = true
		if !applied[f.Version()] {
			st.Pending = append(st.Pending, f)
		}
	}
	for _, r := range st.Applied {
		if !known[r.Version] {
			st.Newer = append(st.Newer, r.Version)
		}
	}
	return st, nil
}

// Check returns ErrNewer (wrapped, with a message saying what to do) when
// st has revisions this binary does not know.
func (st *Status) Check() error {
	if len(st.Newer) == 0 {
		return nil
	}
	return fmt.Errorf("%w: it is at migration %s, and the newest this linli knows is %s; "+
		"run the linli release that migrated it (or newer), or restore the backup taken before that upgrade",
		ErrNewer, st.Newer[len(st.Newer)-1], st.Latest)
}

// Up applies the pending migrations (up to o.To) and returns the versions
// it applied.
func Up(ctx context.Context, db *sql.DB, dia string, o Options) ([]string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dia == dialect.Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
			return nil, fmt.Errorf("migrations: lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck
	}
	st, err := readStatus(ctx, conn, dia)
	if err != nil {
		return nil, err
	}
	if err := st.Check(); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+RevisionsTable+
		" (version varchar(64) NOT NULL PRIMARY KEY, description text NOT NULL, hash text NOT NULL, applied_at text NOT NULL)"); err != nil {
		return nil, fmt.Errorf("migrations: create %s: %w", RevisionsTable, err)
	}
	dir, err := Dir(dia)
	if err != nil {
		return nil, err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return nil, err
	}
	if err := checkHashes(st, sum); err != nil {
		return nil, err
	}
	pending := st.Pending
	if st.Adoptable && len(pending) > 0 {
		if err := adopt(ctx, conn, dia, pending[0]); err != nil {
			return nil, err
		}
		if err := record(ctx, conn, dia, pending[0], sum); err != nil {
			return nil, err
		}
		pending = pending[1:]
	}
	var done []string
	for _, f := range pending {
		if o.To != "" && f.Version() > o.To {
			break
		}
		ok, err := apply(ctx, conn, dia, f, sum)
		if err != nil {
			return done, err
		}
		if ok {
			done = append(done, f.Version())
		}
	}
	return done, nil
}

// checkHashes refuses a database whose applied file differs from ours (a
// committed migration was edited).
func checkHashes(st *Status, sum migrate.HashFile) error {
	files := map[string]string{}
	for _, name := range sumNames(sum) {
		files[strings.SplitN(name, "_", 2)[0]] = name
	}
	for _, r := range st.Applied {
		name, ok := files[r.Version]
		if !ok {
			continue
		}
		h, err := sum.SumByName(name)
		if err != nil {
			return err
		}
		if h != r.Hash {
			return fmt.Errorf("migrations: %s was applied with another content than this linli's (hash %s, ours %s): a committed migration was edited", name, r.Hash, h)
		}
	}
	return nil
}

func sumNames(sum migrate.HashFile) []string {
	var out []string
	for _, kv := range sum {
		out = append(out, kv.N)
	}
	sort.Strings(out)
	return out
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func record(ctx context.Context, ex execer, dia string, f migrate.File, sum migrate.HashFile) error {
	h, err := sum.SumByName(f.Name())
	if err != nil {
		return err
	}
	q := "INSERT INTO " + RevisionsTable + " (version, description, hash, applied_at) VALUES (?, ?, ?, ?)"
	if dia == dialect.Postgres {
		q = "INSERT INTO " + RevisionsTable + " (version, description, hash, applied_at) VALUES ($1, $2, $3, $4)"
	}
	_, err = ex.ExecContext(ctx, q, f.Version(), f.Desc(), h, time.Now().UTC().Format(time.RFC3339Nano))
	return err
}

// apply runs f's statements and records it, in one transaction, unless
// another process recorded it first (false).
func apply(ctx context.Context, conn *sql.Conn, dia string, f migrate.File, sum migrate.HashFile) (bool, error) {
	stmts, err := f.Stmts()
	if err != nil {
		return false, fmt.Errorf("migrations: %s: %w", f.Name(), err)
	}
	// Atlas brackets an SQLite table rebuild with PRAGMA foreign_keys =
	// off/on, which has no effect inside a transaction: it is set around
	// the transaction instead, and foreign keys are checked before commit.
	fkOff := false
	body := stmts[:0:0]
	for _, s := range stmts {
		if p := strings.ToLower(strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(s), ";")), " ")); strings.HasPrefix(p, "pragma foreign_keys") {
			fkOff = fkOff || strings.HasSuffix(p, "off")
			continue
		}
		body = append(body, s)
	}
	if fkOff && dia == dialect.SQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return false, err
		}
		defer conn.ExecContext(context.Background(), "PRAGMA foreign_keys = on") //nolint:errcheck
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck
	var n int
	q := "SELECT count(*) FROM " + RevisionsTable + " WHERE version = ?"
	if dia == dialect.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	if err := tx.QueryRowContext(ctx, q, f.Version()).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for _, s := range body {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return false, fmt.Errorf("migrations: %s: %w\n%s", f.Name(), err, s)
		}
	}
	if fkOff && dia == dialect.SQLite {
		var bad int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&bad); err != nil {
			return false, err
		}
		if bad > 0 {
			return false, fmt.Errorf("migrations: %s leaves %d rows violating foreign keys", f.Name(), bad)
		}
	}
	if err := record(ctx, tx, dia, f, sum); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

func tableExists(ctx context.Context, conn *sql.Conn, dia, table string) (bool, error) {
	var n int
	var err error
	if dia == dialect.Postgres {
		err = conn.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1", table).Scan(&n)
	} else {
		err = conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("migrations: inspect: %w", err)
	}
	return n > 0, nil
}
