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
// and sniffing and sends no Referer; everything but the embedded pages
// loads and runs nothing; GraphiQL, /kiosk and /board load their embedded
// assets from this server only and talk only to it.
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
		// GraphiQL's scripts and stylesheets are embedded: the page loads
		// nothing from another origin, and its policy admits this server's
		// scripts only (no inline script, no eval, no CDN).
		if csp["script-src"] != "'self'" {
			t.Errorf("GraphiQL: script-src %q, want 'self'", csp["script-src"])
		}
		if strings.Contains(page, "https://") || strings.Contains(page, "http://") {
			t.Errorf("GraphiQL: the page names another origin: %.300s", page)
		}
		for _, s := range strings.Fields(csp["style-src"]) {
			if s != "'self'" && s != "'unsafe-inline'" {
				t.Errorf("GraphiQL: style-src admits %s", s)
			}
		}
		for _, path := range []string{"/kiosk", "/board"} {
			resp, page := get(t, e, http.MethodGet, path, "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, "/assets/") {
				t.Fatalf("GET %s: %d %.100s", path, resp.StatusCode, page)
			}
			wantHardened(t, path, resp.Header)
			csp := directives(resp.Header.Get("Content-Security-Policy"))
			for name, want := range map[string]string{
				"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
				"frame-ancestors": "'none'", "base-uri": "'none'", "form-action": "'none'",
			} {
				if csp[name] != want {
					t.Errorf("%s: %s is %q, want %q", path, name, csp[name], want)
				}
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
