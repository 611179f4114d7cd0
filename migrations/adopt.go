package migrations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
)

// adopt checks that the schema of a database made by auto-migration is
// the baseline's, so that it can be recorded as migrated to it. The
// baseline is replayed into an empty place (a fresh in-memory SQLite
// database; a schema created and rolled back in one PostgreSQL
// transaction) and both are inspected and compared.
func adopt(ctx context.Context, conn *sql.Conn, dia string, baseline migrate.File) error {
	stmts, err := baseline.Stmts()
	if err != nil {
		return err
	}
	var live, base *atlas.Schema
	var drv migrate.Driver
	switch dia {
	case dialect.SQLite:
		if drv, err = sqlite.Open(conn); err != nil {
			return err
		}
		if live, err = drv.InspectSchema(ctx, "", &atlas.InspectOptions{Exclude: []string{RevisionsTable}}); err != nil {
			return err
		}
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		mem, err := sql.Open("sqlite", "file:linli_adopt_"+hex.EncodeToString(b)+"?mode=memory")
		if err != nil {
			return err
		}
		defer mem.Close()
		mem.SetMaxOpenConns(1)
		for _, s := range stmts {
			if _, err := mem.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("migrations: replay baseline: %w", err)
			}
		}
		mdrv, err := sqlite.Open(mem)
		if err != nil {
			return err
		}
		if base, err = mdrv.InspectSchema(ctx, "", nil); err != nil {
			return err
		}
	case dialect.Postgres:
		if drv, err = postgres.Open(conn); err != nil {
			return err
		}
		if live, err = drv.InspectSchema(ctx, "", &atlas.InspectOptions{Exclude: []string{RevisionsTable}}); err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA linli_baseline_check; SET LOCAL search_path TO linli_baseline_check"); err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("migrations: replay baseline: %w", err)
			}
		}
		tdrv, err := postgres.Open(tx)
		if err != nil {
			return err
		}
		if base, err = tdrv.InspectSchema(ctx, "linli_baseline_check", nil); err != nil {
			return err
		}
	default:
		return fmt.Errorf("migrations: unknown database %q", dia)
	}
	base.Name = live.Name
	changes, err := drv.SchemaDiff(live, base)
	if err != nil {
		return fmt.Errorf("migrations: compare with the baseline: %w", err)
	}
	changes = withoutPredicateSpelling(changes)
	if len(changes) == 0 {
		return nil
	}
	var what []string
	if plan, err := drv.PlanChanges(ctx, "adopt", changes); err == nil {
		for i, c := range plan.Changes {
			if i == 10 {
				what = append(what, fmt.Sprintf("… and %d more", len(plan.Changes)-10))
				break
			}
			what = append(what, c.Cmd)
		}
	}
	return fmt.Errorf("%w (%s): it has linli's tables but no migration revisions, and %d changes would make it the baseline:\n  %s\n"+
		"start the last auto-migrating release (26a09e2) on it once, then this one",
		ErrNotBaseline, baseline.Name(), len(changes), strings.Join(what, "\n  "))
}
