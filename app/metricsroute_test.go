package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"linli/app"
	"linli/linlitest"
)

// Who may read /metrics on the public handler: anyone outside production
// when nothing is configured; nobody in production without a token (404,
// as for any unknown path); only the token's bearer when a token is set;
// nobody when the metrics have a listener of their own, which serves them.
func TestMetricsAccess(t *testing.T) {
	const token = "metrics-token-for-tests-0123"
	type try struct {
		token  string
		status int
	}
	for _, tc := range []struct {
		name  string
		cfg   func(*app.Config)
		tries []try
	}{
		{"development", func(*app.Config) {}, []try{{"", 200}}},
		{"production", func(c *app.Config) { c.Production = true }, []try{{"", 404}, {token, 404}}},
		{"production with token", func(c *app.Config) { c.Production = true; c.MetricsToken = token },
			[]try{{"", 401}, {"Bearer", 401}, {token + "x", 401}, {token[:len(token)-1], 401}, {token, 200}}},
		{"development with token", func(c *app.Config) { c.MetricsToken = token }, []try{{"", 401}, {token, 200}}},
		{"own listener", func(c *app.Config) { c.MetricsListener = true }, []try{{"", 404}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
				for _, try := range tc.tries {
					resp, body := get(t, e, http.MethodGet, "/metrics", try.token, "")
					if resp.StatusCode != try.status {
						t.Errorf("token %q: %d %.80q, want %d", try.token, resp.StatusCode, body, try.status)
					}
					switch resp.StatusCode {
					case 200:
						if !strings.Contains(body, "linli_live_connections") {
							t.Errorf("token %q: no metrics in %.80q", try.token, body)
						}
					case 401:
						if !strings.Contains(body, `"UNAUTHENTICATED"`) || resp.Header.Get("WWW-Authenticate") == "" {
							t.Errorf("token %q: refusal %q without a code or challenge", try.token, body)
						}
					}
				}
				// The listener of their own serves them to anyone who reaches it.
				srv := httptest.NewServer(e.App.MetricsHandler())
				defer srv.Close()
				resp, err := http.Get(srv.URL + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("MetricsHandler: %d", resp.StatusCode)
				}
			}, tc.cfg)
		})
	}
}
