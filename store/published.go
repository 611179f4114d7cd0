package store

import (
	"context"
	"database/sql"
	"fmt"

	"entgo.io/ent/dialect"
)

// needsPublishedAtBackfill reports whether the activities table predates the
// published_at column (it exists without it). A fresh database has no
// table yet and needs no backfill.
func needsPublishedAtBackfill(ctx context.Context, db *sql.DB, dia string) (needsBackfill bool, err error) {
	var tables, cols int
	switch dia {
	case dialect.Postgres:
		err = db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'activities'),
			(SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'activities' AND column_name = 'published_at')`).
			Scan(&tables, &cols)
	default:
		err = db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'activities'),
			(SELECT count(*) FROM pragma_table_info('activities') WHERE name = 'published_at')`).
			Scan(&tables, &cols)
	}
	if err != nil {
		return false, fmt.Errorf("store: inspect activities: %w", err)
	}
	return tables == 1 && cols == 0, nil
}

// backfillPublishedAt stamps published_at on the activities of a database
// migrated from before the column existed, once, right after the column is
// added. PUBLISHED and COMPLETED activities were published; a CANCELLED one
// was if anybody signed up for it (sign-up needs a published activity). A
// CANCELLED activity without any registration may have been a draft, so it
// stays unpublished: staff and its team's leaders still see it, residents
// no longer do. The creation time stands in for the unknown publish time.
func backfillPublishedAt(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `UPDATE activities SET published_at = created_at
		WHERE published_at IS NULL AND (status IN ('PUBLISHED', 'COMPLETED')
		   OR (status = 'CANCELLED' AND EXISTS (SELECT 1 FROM registrations r WHERE r.activity_id = activities.id)))`)
	if err != nil {
		return fmt.Errorf("store: backfill published_at: %w", err)
	}
	return nil
}
