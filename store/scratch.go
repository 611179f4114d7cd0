package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
)

// CreateScratchDatabase creates an empty PostgreSQL database named
// prefix_<random> on the server of adminURL, for tests and benchmarks. It
// returns the new database's URL and a function that drops it (forcing
// out connections still open).
func CreateScratchDatabase(ctx context.Context, adminURL, prefix string) (dbURL string, drop func() error, err error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("store: admin URL: %w", err)
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
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("store: create database: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() error {
		defer db.Close()
		_, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		return err
	}, nil
}

// Median returns the median of xs (0 for none); benchmarks report it.
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	switch {
	case len(s) == 0:
		return 0
	case len(s)%2 == 1:
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
