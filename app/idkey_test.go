package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"linli/app"
	"linli/ent/secret"
	"linli/linlitest"
	"linli/viewer"
)

// start runs linli on dbURL with a generated ID key, as a replica would.
func start(t *testing.T, dbURL string) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.Store.MaxOpenConns = 4
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGeneratedIDKeySharedAndKept: without a configured key, linli
// generates one on first start and keeps it in the database: two replicas
// on one database give a row the same ID, and so does a restart; a second
// database gets a key of its own.
func TestGeneratedIDKeySharedAndKept(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			dbURL := linlitest.DatabaseURL(t, backend)
			one, two := start(t, dbURL), start(t, dbURL)
			defer two.Close()
			const row = 17179869184 + 42
			id := one.IDs.Encode(row)
			if got := two.IDs.Encode(row); got != id {
				t.Fatalf("replicas disagree: %q and %q", id, got)
			}
			if n, err := two.IDs.Decode(id); err != nil || n != row {
				t.Fatalf("the other replica decodes %q as %d, %v", id, n, err)
			}
			if n := one.DB.Client.Secret.Query().Where(secret.Name("api-id-key")).CountX(viewer.System(context.Background())); n != 1 {
				t.Fatalf("%d stored ID keys, want 1", n)
			}
			one.Close()
			again := start(t, dbURL)
			defer again.Close()
			if got := again.IDs.Encode(row); got != id {
				t.Fatalf("after a restart the row's ID is %q, was %q", got, id)
			}
			elsewhere := start(t, linlitest.DatabaseURL(t, backend))
			defer elsewhere.Close()
			if elsewhere.IDs.Encode(row) == id {
				t.Fatal("two databases generated the same ID key")
			}
			// The secret is the system's alone.
			if _, err := again.DB.Client.Secret.Query().All(viewer.NewContext(context.Background(), &viewer.Viewer{PersonID: 1, Roles: []viewer.Role{viewer.Admin}})); err == nil {
				t.Fatal("a platform admin read the secrets")
			}
		})
	}
}

// TestConfiguredIDKey: -id-key decides the IDs, whatever the database holds.
func TestConfiguredIDKey(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	if e.ID(5) != linlitest.ID(5) {
		t.Fatal("the Env's IDs are not under TestIDKey")
	}
	g := linlitest.New(t, "sqlite", linlitest.GeneratedIDKey)
	if g.ID(5) == linlitest.ID(5) {
		t.Fatal("a generated key encodes like TestIDKey")
	}
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = linlitest.DatabaseURL(t, "sqlite")
	cfg.IDKey = "short"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if a, err := app.New(context.Background(), cfg); err == nil {
		a.Close()
		t.Fatal("a 5-byte ID key was accepted")
	}
}
