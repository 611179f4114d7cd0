package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"linli/ent/secret"
	"linli/gid"
	"linli/store"
	"linli/viewer"
)

// idKeySecret names the generated ID key in the secrets table.
const idKeySecret = "api-id-key"

// idCodec returns the codec of the API's IDs: under the configured key, or
// else under the key kept in the database, generated on first start. Two
// replicas starting at once on an empty database both insert; the unique
// name keeps the first, and both read that one.
func idCodec(ctx context.Context, db *store.DB, configured string) (*gid.Codec, error) {
	if configured != "" {
		c, err := gid.New([]byte(configured))
		if err != nil {
			return nil, fmt.Errorf("id key: %w", err)
		}
		return c, nil
	}
	ctx = viewer.System(ctx)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	err := db.Client.Secret.Create().SetName(idKeySecret).SetValue(key).
		OnConflictColumns(secret.FieldName).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		// DoNothing on a conflict inserts no row, which some drivers
		// report as "no rows"; the read below settles it.
		return nil, fmt.Errorf("store the id key: %w", err)
	}
	s, err := db.Client.Secret.Query().Where(secret.Name(idKeySecret)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the id key: %w", err)
	}
	return gid.New(s.Value)
}
