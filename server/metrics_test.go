package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fetch GETs url with an optional bearer token and returns status and body.
func fetch(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startServer runs the server with args until the test ends and waits until
// url answers 200.
func startServer(t *testing.T, url string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args = append(args, "-database-url", filepath.Join(t.TempDir(), "linli.db"), "-demo=false", "-log-level", "error")
	go func() { done <- serve(ctx, args) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exited with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready", url)
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// In production /metrics is not on the public listener; -metrics-addr serves
// it on a listener of its own, which serves nothing else; -metrics-token
// opens the public /metrics to its bearer only.
func TestMetricsListener(t *testing.T) {
	addr, metrics := freePort(t), freePort(t)
	startServer(t, "http://"+addr+"/readyz", "-addr", addr, "-production", "-metrics-addr", metrics)
	if status, body := fetch(t, "http://"+addr+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("public /metrics in production: %d %.80q", status, body)
	}
	if status, body := fetch(t, "http://"+metrics+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, "linli_live_connections") {
		t.Errorf("/metrics on -metrics-addr: %d %.80q", status, body)
	}
	for _, path := range []string{"/graphql", "/healthz", "/"} {
		if status, _ := fetch(t, "http://"+metrics+path, ""); status != http.StatusNotFound {
			t.Errorf("-metrics-addr serves %s: %d", path, status)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	if err := serve(context.Background(), []string{"-metrics-token", "short"}); err == nil || !strings.Contains(err.Error(), "metrics token") {
		t.Fatalf("a short metrics token was accepted: %v", err)
	}
	token := "s3cret-metrics-token-0123456789"
	addr := freePort(t)
	t.Setenv("LINLI_METRICS_TOKEN", token)
	startServer(t, "http://"+addr+"/readyz", "-addr", addr, "-production")
	for _, tc := range []struct {
		token  string
		status int
	}{{"", http.StatusUnauthorized}, {"wrong-" + token, http.StatusUnauthorized}, {token, http.StatusOK}} {
		status, body := fetch(t, "http://"+addr+"/metrics", tc.token)
		if status != tc.status {
			t.Errorf("token %q: %d %.80q, want %d", tc.token, status, body, tc.status)
		}
		if status == http.StatusUnauthorized && !strings.Contains(body, `"UNAUTHENTICATED"`) {
			t.Errorf("token %q: refusal without a code: %.200q", tc.token, body)
		}
	}
}
