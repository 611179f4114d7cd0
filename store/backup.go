package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"linli/migrations"
)

// ErrNotEmpty is Restore's answer when the target already holds a database.
var ErrNotEmpty = errors.New("the restore target is not empty")

// SQLitePath is the file of a SQLite URL as Open reads it.
func SQLitePath(url string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = DefaultSQLitePath
	}
	return path
}

// Backup writes a consistent copy of the embedded database to the new file
// to, while the server may be running: VACUUM INTO reads one snapshot
// (one read transaction) and writes it compacted. The copy is written
// beside to and renamed when complete, readable by its owner only.
func (db *DB) Backup(ctx context.Context, to string) error {
	if !db.IsSQLite() {
		return errors.New("backup copies the embedded SQLite database; for PostgreSQL use pg_dump (README, \"Migrations, upgrades and backups\")")
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("backup: %s exists; a backup is written to a new file", to)
	}
	tmp, err := emptyPrivateFile(to + ".partial")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := db.SQL.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Restore copies the backup file from into the SQLite database at url,
// which must be empty: no file, or an empty one, and no -wal or -shm file
// (those mean a database in use, or one not closed cleanly). The backup is
// checked first (SQLite's quick_check; migration revisions this binary
// knows). Pending migrations are applied when linli next opens it.
func Restore(ctx context.Context, from, url string) (*migrations.Status, error) {
	if IsPostgres(url) {
		return nil, errors.New("restore writes the embedded SQLite database; for PostgreSQL use pg_restore (README, \"Migrations, upgrades and backups\")")
	}
	to := SQLitePath(url)
	if err := emptyTarget(to); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(from); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	} else if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil, fmt.Errorf("restore: %s is not a backup file", from)
	}
	src, err := sql.Open("sqlite", "file:"+from+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var check string
	if err := src.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return nil, fmt.Errorf("restore: %s is not a SQLite database: %w", from, err)
	}
	if check != "ok" {
		return nil, fmt.Errorf("restore: %s is damaged: %s", from, check)
	}
	st, err := migrations.ReadStatus(ctx, src, "sqlite3")
	if err != nil {
		return nil, fmt.Errorf("restore: %s: %w", from, err)
	}
	if len(st.Applied) == 0 && !st.Adoptable {
		return nil, fmt.Errorf("restore: %s is not a linli database", from)
	}
	if err := st.Check(); err != nil {
		return nil, fmt.Errorf("restore: %s: %w", from, err)
	}
	tmp, err := emptyPrivateFile(to + ".partial")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("restore: %w", err)
	}
	// Checked again just before the rename: a server started meanwhile.
	if err := emptyTarget(to); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("restore: %w", err)
	}
	return st, nil
}

// emptyTarget refuses a path that holds a database or is in use.
func emptyTarget(to string) error {
	for _, p := range []string{to + "-wal", to + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%w: %s exists, so the database %s is in use or was not closed cleanly; stop linli and move the database aside, or restore to another path", ErrNotEmpty, p, to)
		}
	}
	fi, err := os.Stat(to)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("restore: %w", err)
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a directory", ErrNotEmpty, to)
	case fi.Size() > 0:
		return fmt.Errorf("%w: %s already holds a database (%d bytes); restore writes only into an empty place: move it aside, or restore to another path", ErrNotEmpty, to, fi.Size())
	}
	return nil
}

// emptyPrivateFile creates path empty with mode 0600 (replacing a
// leftover from an interrupted run) and returns it.
func emptyPrivateFile(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	f.Close()
	return path, os.Chmod(path, 0o600)
}
