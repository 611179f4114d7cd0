package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/linlitest"
	"linli/store"
)

// post sends a GraphQL query and returns the status and body.
func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLimitsReachTheServer: limits set by flag and by environment are the
// running server's: a depth, a body size and the websocket init timeout.
func TestLimitsReachTheServer(t *testing.T) {
	addr := freePort(t)
	t.Setenv("LINLI_MAX_DEPTH", "3")
	t.Setenv("LINLI_WS_INIT_TIMEOUT", "200ms")
	startServer(t, "http://"+addr+"/readyz", "-addr", addr, "-max-body-bytes", "2000")
	url := "http://" + addr + "/graphql"

	if status, body := post(t, url, `{"query":"{ communities { id name } }"}`); status != http.StatusOK || strings.Contains(body, "errors") {
		t.Fatalf("depth 2: %d %s", status, body)
	}
	if _, body := post(t, url, `{"query":"{ activities(first: 1) { edges { node { id } } } }"}`); !strings.Contains(body, "QUERY_TOO_COMPLEX") {
		t.Errorf("depth 4 under LINLI_MAX_DEPTH=3: %s", body)
	}
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 2500) + `"}}`
	if status, body := post(t, url, big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("2.5 KB body under -max-body-bytes 2000: %d %.200s", status, body)
	}

	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	ws, _, err := d.Dial("ws://"+addr+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// Well before the default 10 s: the 200 ms of the variable.
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = ws.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4408 {
		t.Errorf("socket without connection_init under LINLI_WS_INIT_TIMEOUT=200ms: %v, want close 4408", err)
	}
}

// TestDataDir: with -data-dir (or LINLI_DATA_DIR) and no database URL the
// embedded database is linli.db in that directory, created if missing.
func TestDataDir(t *testing.T) {
	for _, viaEnv := range []bool{false, true} {
		t.Run(fmt.Sprintf("env=%v", viaEnv), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "var", "linli")
			addr := freePort(t)
			args := []string{"-addr", addr}
			t.Setenv("LINLI_DATA_DIR", "")
			if viaEnv {
				t.Setenv("LINLI_DATA_DIR", dir)
			} else {
				args = append(args, "-data-dir", dir)
			}
			startServer(t, "http://"+addr+"/readyz", args...)
			if _, err := os.Stat(filepath.Join(dir, store.DefaultSQLitePath)); err != nil {
				t.Fatalf("no database in the data directory: %v", err)
			}
		})
	}
}

// TestPoolSize: -db-max-conns and LINLI_DB_MAX_CONNS size the app's
// PostgreSQL pool (32 by default).
func TestPoolSize(t *testing.T) {
	url := linlitest.DatabaseURL(t, "postgres")
	for _, tc := range []struct {
		args []string
		env  string
		want int
	}{{nil, "", store.DefaultPostgresConns}, {[]string{"-db-max-conns", "5"}, "", 5}, {nil, "3", 3}, {[]string{"-db-max-conns", "4"}, "6", 4}} {
		t.Setenv("LINLI_DB_MAX_CONNS", tc.env)
		a, err := app.Start(context.Background(), append([]string{"-database-url", url, "-demo=false", "-log-level", "error"}, tc.args...))
		if err != nil {
			t.Fatal(err)
		}
		got := a.DB.SQL.Stats().MaxOpenConnections
		a.Close()
		if got != tc.want {
			t.Errorf("%v %s=%q: pool of %d, want %d", tc.args, "LINLI_DB_MAX_CONNS", tc.env, got, tc.want)
		}
	}
}
