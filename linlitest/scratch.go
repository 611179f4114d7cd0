package linlitest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
)

// ScratchDatabase creates an empty PostgreSQL database named
// prefix_<random> on the server of adminURL, for tests and benchmarks. It
// returns the new database's URL and a function that drops it (forcing
// out connections still open).
func ScratchDatabase(ctx context.Context, adminURL, prefix string) (dbURL string, drop func() error, err error) {
	return ScratchDatabaseFrom(ctx, adminURL, prefix, "")
}

// ScratchDatabaseFrom is ScratchDatabase as a copy of the database
// template (empty: PostgreSQL's default, an empty database).
func ScratchDatabaseFrom(ctx context.Context, adminURL, prefix, template string) (dbURL string, drop func() error, err error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("scratch database: admin URL: %w", err)
	}
	db, err := sql.Open("postgres", adminURL)
	if err != nil {
		return "", nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := db.ExecContext(ctx, create); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("scratch database: create: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() error {
		defer db.Close()
		_, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		return err
	}, nil
}
