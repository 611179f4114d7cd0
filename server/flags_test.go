package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"linli/gid"
	"linli/trusted"
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
	if !slices.Contains(args, "-data-dir") && os.Getenv("LINLI_DATA_DIR") == "" {
		args = append(args, "-database-url", filepath.Join(t.TempDir(), "linli.db"))
	}
	args = append(args, "-demo=false", "-log-level", "error")
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

// -trusted-documents switches the allow-list on; a manifest that cannot be
// read stops the server from starting.
func TestTrustedDocumentsFlag(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"0000": "query { __typename }"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := serve(context.Background(), []string{"-trusted-documents", bad}); err == nil || !strings.Contains(err.Error(), "trusted documents") {
		t.Fatalf("a bad manifest was accepted: %v", err)
	}
	listed := `query Listed { __typename }`
	manifest := filepath.Join(dir, "manifest.json")
	data, _ := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{{"id": trusted.Hash(listed), "name": "Listed", "type": "query", "body": listed}}})
	if err := os.WriteFile(manifest, data, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	t.Setenv("LINLI_TRUSTED_DOCUMENTS", manifest)
	startServer(t, "http://"+addr+"/readyz", "-addr", addr)
	for query, want := range map[string]string{listed: `"data":{"__typename":"Query"}`, `{ __typename }`: `"OPERATION_NOT_TRUSTED"`} {
		body, _ := json.Marshal(map[string]string{"query": query})
		resp, err := http.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: %s, want %s", query, b, want)
		}
	}
}

// -require-phone-verification (and LINLI_REQUIRE_PHONE_VERIFICATION) reach
// the running server: register then asks for a code.
func TestRequirePhoneVerificationFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want bool
	}{
		{"default", nil, "", false},
		{"flag", []string{"-require-phone-verification"}, "", true},
		{"environment", nil, "1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LINLI_REQUIRE_PHONE_VERIFICATION", tc.env)
			addr := freePort(t)
			startServer(t, "http://"+addr+"/readyz", append([]string{"-addr", addr}, tc.args...)...)
			resp, err := http.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ phoneVerificationRequired }"}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				Data struct{ PhoneVerificationRequired bool }
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Data.PhoneVerificationRequired != tc.want {
				t.Errorf("phoneVerificationRequired %v, want %v", got.Data.PhoneVerificationRequired, tc.want)
			}
		})
	}
}

// -trusted-proxies reads addresses and CIDR ranges; anything else stops the
// server from starting.
func TestTrustedProxiesFlag(t *testing.T) {
	// (How the addresses parse: app's TestParsePrefixes.)
	if err := serve(context.Background(), []string{"-trusted-proxies", "10.0.0.0/8,proxy.example"}); err == nil || !strings.Contains(err.Error(), "trusted proxies") {
		t.Errorf("a host name was accepted: %v", err)
	}
}

// -persisted-queries 0 (LINLI_PERSISTED_QUERIES) turns automatic persisted
// queries off, and -get-max-age (LINLI_GET_MAX_AGE) reaches GET answers.
func TestPersistedQueryFlags(t *testing.T) {
	q := `query Anon { __typename }`
	ext := url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"` + trusted.Hash(q) + `"}}`)
	for _, tc := range []struct {
		name        string
		args        []string
		env         string
		code, cache string
	}{
		{"default", nil, "", "PERSISTED_QUERY_NOT_FOUND", "no-store"},
		{"off by flag", []string{"-persisted-queries", "0", "-get-max-age", "30s"}, "", "PERSISTED_QUERY_NOT_SUPPORTED", "no-store"},
		{"off by environment", nil, "0", "PERSISTED_QUERY_NOT_SUPPORTED", "no-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LINLI_PERSISTED_QUERIES", tc.env)
			addr := freePort(t)
			startServer(t, "http://"+addr+"/readyz", append([]string{"-addr", addr, "-get-max-age", "30s"}, tc.args...)...)
			base := "http://" + addr + "/graphql?extensions=" + ext
			resp, err := http.Get(base)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), `"`+tc.code+`"`) || resp.Header.Get("Cache-Control") != tc.cache {
				t.Errorf("hash alone: %s, Cache-Control %q; want %s, %q", b, resp.Header.Get("Cache-Control"), tc.code, tc.cache)
			}
			resp, err = http.Get(base + "&query=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), `"__typename":"Query"`) || resp.Header.Get("Cache-Control") != "public, max-age=30" {
				t.Errorf("with the document: %s, Cache-Control %q", b, resp.Header.Get("Cache-Control"))
			}
		})
	}
}

// -id-key (or LINLI_ID_KEY) is the key the API's IDs are read under: an ID
// made with it decodes, one made with
// another key is refused; a short key stops the server from starting.
// (Anonymous, so the ID that decodes is UNAUTHENTICATED, not NOT_FOUND.)
func TestIDKeyFlag(t *testing.T) {
	if err := serve(context.Background(), []string{"-id-key", "short"}); err == nil || !strings.Contains(err.Error(), "id key") {
		t.Fatalf("a short ID key was accepted: %v", err)
	}
	const key = "the deployment's ID key, 16+"
	addr := freePort(t)
	t.Setenv("LINLI_ID_KEY", key)
	startServer(t, "http://"+addr+"/readyz", "-addr", addr)
	mine, _ := gid.New([]byte(key))
	theirs, _ := gid.New([]byte("some other deployment's key"))
	for _, tc := range []struct {
		id, code string
	}{{mine.Encode(17179869184 + 1), "UNAUTHENTICATED"}, {theirs.Encode(17179869184 + 1), "VALIDATION_FAILED"}} {
		q := url.QueryEscape(`{ node(id: "` + tc.id + `") { id } }`)
		_, body := fetch(t, "http://"+addr+"/graphql?query="+q, "")
		if !strings.Contains(body, `"`+tc.code+`"`) {
			t.Errorf("node(id: %q): %.300s, want %s", tc.id, body, tc.code)
		}
	}
}
