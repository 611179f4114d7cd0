// Command gen writes a new versioned migration for each database when the
// Ent schema differs from what the committed migration directory replays
// to, and nothing otherwise. `go generate .` runs it after the Ent and
// gqlgen code generators (see generate.go).
//
// The directory is replayed into a dev database and compared with the Ent
// schema: an in-memory SQLite database for migrations/sqlite, and a scratch
// database created on the PostgreSQL server of LINLI_MIGRATE_POSTGRES
// (default: the test server, LINLI_TEST_POSTGRES or 127.0.0.1:5432) for
// migrations/postgres, dropped afterwards. The new file is named
// <UTC time>_<LINLI_MIGRATION_NAME, default "schema">.sql. `go run
// ./migrations/gen hash` rewrites the atlas.sum files after a hand edit.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"entgo.io/ent/dialect"

	"linli/migrations/diff"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if len(os.Args) > 1 && os.Args[1] == "hash" {
		// After a hand edit of a new, uncommitted file: rewrite atlas.sum.
		for _, d := range []string{"sqlite", "postgres"} {
			if err := diff.Rehash("migrations/" + d); err != nil {
				log.Fatalf("migrations (%s): %v", d, err)
			}
		}
		return
	}
	name := os.Getenv("LINLI_MIGRATION_NAME")
	if name == "" {
		name = "schema"
	}
	for _, d := range []struct{ dialect, dir string }{{dialect.SQLite, "sqlite"}, {dialect.Postgres, "postgres"}} {
		dia := d.dir
		wrote, err := diff.Write(ctx, d.dialect, "migrations/"+d.dir, name)
		if err != nil {
			log.Fatalf("migrations (%s): %v", dia, err)
		}
		if wrote != "" {
			fmt.Printf("migrations: wrote migrations/%s/%s\n", dia, wrote)
		}
	}
}
