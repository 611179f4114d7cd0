package linlitest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"linli/ent/migrate"
	"linli/migrations"
	"linli/store"
)

// A test's PostgreSQL database is a copy of a template database migrated
// once (CREATE DATABASE … TEMPLATE) by the migration files, instead of an
// empty database that store.Open migrates: creating ~25 tables with their
// indexes and foreign keys costs each test far more than the copy.
//
// The template's name carries a hash of the Ent schema, so a branch or a
// change with another schema builds its own, and test processes running at
// once (packages in parallel, other checkouts on the same server) share it:
// the first to need it builds it under an advisory lock, the others wait
// and reuse it. store.Open still checks the copy's revisions (nothing
// pending), so a template can never serve a schema other than the code's.
var template struct {
	once sync.Once
	name string
	err  error
}

// templateLock is the advisory lock key under which templates are built.
const templateLock = 0x6c696e6c69 // "linli"

// migratedTemplate returns the name of the template database for the
// current schema on the server of adminURL, building it if needed.
func migratedTemplate(adminURL string) (string, error) {
	template.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		template.name, template.err = buildTemplate(ctx, adminURL, "linli_tmpl_"+schemaHash())
	})
	return template.name, template.err
}

func buildTemplate(ctx context.Context, adminURL, name string) (string, error) {
	db, err := sql.Open("postgres", adminURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("template database: lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Built under another name and renamed when complete, so a process
	// that died halfway leaves nothing anyone would copy.
	building := name + "_building"
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("template database: create: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + building
	s, err := store.Open(ctx, u.String(), store.Options{MaxOpenConns: 2})
	if err != nil {
		return "", fmt.Errorf("template database: migrate: %w", err)
	}
	s.Close()
	// The migration's connections may take a moment to leave.
	for try := 0; ; try++ {
		_, err = conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
		if err == nil || try == 50 || !strings.Contains(err.Error(), "other users") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("template database: rename: %w", err)
	}
	return name, nil
}

// schemaHash is a short hash of the migration files and of the Ent
// schema's tables: columns, indexes, foreign keys.
func schemaHash() string {
	type fk struct {
		Symbol, RefTable    string
		Columns, RefColumns []string
		OnUpdate, OnDelete  string
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	// The template is built by the migration files: their checksum names them.
	if dir, err := migrations.Dir(dialect.Postgres); err == nil {
		if sum, err := dir.Checksum(); err == nil {
			_ = enc.Encode(sum.Sum())
		}
	}
	for _, t := range migrate.Tables {
		_ = enc.Encode(t.Name)
		_ = enc.Encode(t.Columns)
		for _, ix := range t.Indexes {
			_ = enc.Encode(ix)
		}
		for _, f := range t.ForeignKeys {
			k := fk{Symbol: f.Symbol, RefTable: f.RefTable.Name, OnUpdate: string(f.OnUpdate), OnDelete: string(f.OnDelete)}
			for _, c := range f.Columns {
				k.Columns = append(k.Columns, c.Name)
			}
			for _, c := range f.RefColumns {
				k.RefColumns = append(k.RefColumns, c.Name)
			}
			_ = enc.Encode(k)
		}
		if t.Annotation != nil {
			_ = enc.Encode(t.Annotation)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
