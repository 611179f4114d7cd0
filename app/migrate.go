package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"linli/migrations"
	"linli/store"
)

// Migrate is `server migrate status|up [flags]`: it opens the database the
// flags and environment name (without migrating it) and prints which
// migrations are applied and pending, or applies the pending ones. The
// server applies them at start anyway (store.Open); `up` is for doing it
// ahead of a rollout.
func Migrate(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "up") {
		return errors.New("usage: server migrate status|up [flags]")
	}
	cmd := args[0]
	cfg, _, err := configure(args[1:])
	if err != nil {
		return err
	}
	o := cfg.Store
	o.NoMigrate = true
	db, err := store.Open(ctx, cfg.DatabaseURL, o)
	if err != nil {
		return err
	}
	defer db.Close()
	if cmd == "up" {
		done, err := migrations.Up(ctx, db.SQL, db.Dialect, migrations.Options{})
		for _, v := range done {
			fmt.Fprintf(out, "applied %s\n", v)
		}
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintln(out, "nothing to apply")
		}
	}
	st, err := migrations.ReadStatus(ctx, db.SQL, db.Dialect)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "database: %s\n", db.Dialect)
	for _, r := range st.Applied {
		fmt.Fprintf(out, "applied  %s %s (%s)\n", r.Version, r.Description, r.AppliedAt.Format("2006-01-02 15:04:05Z"))
	}
	if st.Adoptable {
		fmt.Fprintln(out, "no revisions: made by auto-migration; `migrate up` (or starting linli) adopts it at the baseline after checking its schema")
	}
	for _, f := range st.Pending {
		fmt.Fprintf(out, "pending  %s %s\n", f.Version(), f.Desc())
	}
	if len(st.Newer) > 0 {
		fmt.Fprintf(out, "unknown  %s (newer than this linli)\n", strings.Join(st.Newer, ", "))
		return st.Check()
	}
	fmt.Fprintf(out, "latest known: %s\n", st.Latest)
	return nil
}

// Backup is `server backup FILE [flags]`: a consistent copy of the
// embedded SQLite database into the new file FILE, safe while the server
// runs (store.DB.Backup).
func Backup(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: server backup FILE [flags]")
	}
	cfg, _, err := configure(args[1:])
	if err != nil {
		return err
	}
	if store.IsPostgres(cfg.DatabaseURL) {
		return (&store.DB{Dialect: "postgres"}).Backup(ctx, args[0])
	}
	if fi, err := os.Stat(store.SQLitePath(cfg.DatabaseURL)); err != nil || fi.Size() == 0 {
		return fmt.Errorf("backup: no database at %s", store.SQLitePath(cfg.DatabaseURL))
	}
	o := cfg.Store
	o.NoMigrate = true
	db, err := store.Open(ctx, cfg.DatabaseURL, o)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, args[0]); err != nil {
		return err
	}
	fmt.Fprintf(out, "backed up %s to %s\n", store.SQLitePath(cfg.DatabaseURL), args[0])
	return nil
}

// Restore is `server restore FILE [flags]`: it copies the backup FILE into
// the configured SQLite database, which must not exist yet or be empty
// (store.Restore says why not otherwise).
func Restore(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: server restore FILE [flags]")
	}
	cfg, _, err := configure(args[1:])
	if err != nil {
		return err
	}
	st, err := store.Restore(ctx, args[0], cfg.DatabaseURL)
	if err != nil {
		return err
	}
	at := "auto-migrated, no revisions"
	if n := len(st.Applied); n > 0 {
		at = "migration " + st.Applied[n-1].Version
	}
	fmt.Fprintf(out, "restored %s into %s (%s); pending migrations are applied when linli starts\n", args[0], store.SQLitePath(cfg.DatabaseURL), at)
	return nil
}
