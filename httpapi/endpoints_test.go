package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"linli/app"
	"linli/linlitest"
)

// The server's plain HTTP endpoints: GraphiQL in development only, health,
// readiness and Prometheus metrics (in development only, unless configured).
func TestEndpoints(t *testing.T) {
	get := func(t *testing.T, e *linlitest.Env, path string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return roundTrip(t, e, req)
	}
	for _, production := range []bool{false, true} {
		e := linlitest.New(t, "sqlite", func(c *app.Config) { c.Production = production })
		status, media, body := get(t, e, "/")
		graphiql := strings.Contains(strings.ToLower(body), "graphiql")
		if status != http.StatusOK || graphiql == production {
			t.Errorf("production %v: GET / is %d %s, GraphiQL %v", production, status, media, graphiql)
		}
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ok", "/metrics": "linli_http_requests_total"} {
			if status, _, body := get(t, e, path); status != http.StatusOK || !strings.Contains(body, want) {
				if path == "/metrics" && production && status == http.StatusNotFound {
					continue // production serves them only with a token or on their own listener (app's TestMetricsAccess)
				}
				t.Errorf("production %v: GET %s is %d %.80q", production, path, status, body)
			}
		}
		if status, _, _ := get(t, e, "/nope"); status != http.StatusNotFound {
			t.Errorf("production %v: GET /nope is %d", production, status)
		}
	}
}
