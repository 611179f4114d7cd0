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
	key, err := storedSecret(ctx, db, idKeySecret)
	if err != nil {
		return nil, fmt.Errorf("id key: %w", err)
	}
	return gid.New(key)
}

// selfCheckInSecret names the key self check-in codes are made under
// (scan/selfcheckin.go).
const selfCheckInSecret = "self-checkin-key"

// storedSecret is the random 32-byte secret kept in the database under
// name, generated on first use. Two replicas starting at once on an empty
// database both insert; the unique name keeps the first, and both read
// that one.
func storedSecret(ctx context.Context, db *store.DB, name string) ([]byte, error) {
	ctx = viewer.System(ctx)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	err := db.Client.Secret.Create().SetName(name).SetValue(key).
		OnConflictColumns(secret.FieldName).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		// DoNothing on a conflict inserts no row, which some drivers
		// report as "no rows"; the read below settles it.
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	s, err := db.Client.Secret.Query().Where(secret.Name(name)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return s.Value, nil
}
