package app_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"linli/linlitest"
	"linli/viewer"
)

// get sends a request to e's server and returns the response with its body read.
func get(t *testing.T, e *linlitest.Env, method, path, token, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.Server.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// Every response, on every route and whatever its status, forbids framing
// and sniffing and sends no Referer; everything but GraphiQL loads and runs
// nothing; GraphiQL may load exactly its CDN assets and its own inline
// script, and talk only to this server.
func TestSecurityHeaders(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		signUp := fmt.Sprintf(`{"query":"mutation { signUp(input: {slotID: \"%s\", seats: 1, idempotencyKey: \"k1\"}) { registration { id } } }"}`, e.ID(slots[0].ID))
		resp, body := get(t, e, http.MethodPost, "/graphql", token, signUp)
		var regID string
		if _, rest, ok := strings.Cut(body, `"id":"`); ok {
			regID, _, _ = strings.Cut(rest, `"`)
		}
		if resp.StatusCode != http.StatusOK || regID == "" {
			t.Fatalf("signUp: %d %s", resp.StatusCode, body)
		}

		strict := "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
			header                          []string
		}{
			{name: "query", method: http.MethodPost, path: "/graphql", body: `{"query":"{ __typename }"}`, status: 200},
			{name: "GET query", method: http.MethodGet, path: "/graphql?query=%7B__typename%7D", status: 200},
			{name: "bad token", method: http.MethodPost, path: "/graphql", token: "nope", body: `{"query":"{ __typename }"}`, status: 401},
			{name: "SSE refusal", method: http.MethodPost, path: "/graphql", body: `{"query":"subscription { nope }"}`, status: 200, header: []string{"Accept", "text/event-stream"}},
			{name: "preflight", method: http.MethodOptions, path: "/graphql", status: 204, header: []string{"Origin", "http://allowed.example"}},
			{name: "healthz", method: http.MethodGet, path: "/healthz", status: 200},
			{name: "readyz", method: http.MethodGet, path: "/readyz", status: 200},
			{name: "qr", method: http.MethodGet, path: "/qr/" + regID, token: token, status: 200},
			{name: "qr anonymous", method: http.MethodGet, path: "/qr/" + regID, status: 401},
			{name: "unknown path", method: http.MethodGet, path: "/nope", status: 404},
		} {
			resp, body := get(t, e, tc.method, tc.path, tc.token, tc.body, tc.header...)
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d (%.200s)", tc.name, resp.StatusCode, tc.status, body)
			}
			wantHardened(t, tc.name, resp.Header)
			if got := resp.Header.Get("Content-Security-Policy"); got != strict {
				t.Errorf("%s: Content-Security-Policy %q, want %q", tc.name, got, strict)
			}
		}

		resp, page := get(t, e, http.MethodGet, "/", "", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "graphiql") {
			t.Fatalf("GET /: %d %.100s", resp.StatusCode, page)
		}
		wantHardened(t, "GraphiQL", resp.Header)
		csp := directives(resp.Header.Get("Content-Security-Policy"))
		for name, want := range map[string]string{
			"default-src":     "'none'",
			"frame-ancestors": "'none'",
			"connect-src":     "'self'",
			"base-uri":        "'none'",
			"form-action":     "'none'",
		} {
			if csp[name] != want {
				t.Errorf("GraphiQL: %s is %q, want %q", name, csp[name], want)
			}
		}
		// The scripts the page loads are admitted by their exact URL, its
		// inline script by hash, and nothing else (no 'unsafe-inline', no eval).
		scripts := strings.Fields(csp["script-src"])
		var hashes int
		for _, s := range scripts {
			switch {
			case strings.HasPrefix(s, "'sha256-"):
				hashes++
			case strings.HasPrefix(s, "https://") && strings.Contains(page, `src="`+s+`"`):
			default:
				t.Errorf("GraphiQL: script-src admits %s", s)
			}
		}
		if hashes != 1 || len(scripts) < 3 {
			t.Errorf("GraphiQL: script-src %q, want the page's script URLs and one inline hash", csp["script-src"])
		}
		for _, s := range strings.Fields(csp["style-src"]) {
			if s != "'unsafe-inline'" && !strings.Contains(page, `href="`+s+`"`) {
				t.Errorf("GraphiQL: style-src admits %s", s)
			}
		}
	})
}

func wantHardened(t *testing.T, name string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s is %q, want %q", name, k, got, want)
		}
	}
}

// directives splits a Content-Security-Policy into its directives.
func directives(policy string) map[string]string {
	m := map[string]string{}
	for _, d := range strings.Split(policy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		m[name] = value
	}
	return m
}
