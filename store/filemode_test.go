package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"linli/store"
	"linli/viewer"
)

// The embedded database and its -wal and -shm files are the owner's only
// (0600), whatever the umask: created so, and an older file narrowed on
// open. (PostgreSQL keeps its own files.)
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	ctx, cancel := context.WithTimeout(viewer.System(context.Background()), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	check := func(path, dsn string) {
		t.Helper()
		db, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Client.Community.Create().SetName("前进社区").Save(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if mode := st.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: mode %o, want 600", filepath.Base(p), mode)
			}
		}
		db.Close()
	}
	fresh := filepath.Join(dir, "linli.db")
	check(fresh, fresh)
	older := filepath.Join(dir, "older.db")
	if err := os.WriteFile(older, nil, 0o664); err != nil {
		t.Fatal(err)
	}
	check(older, "sqlite:"+older)
}
