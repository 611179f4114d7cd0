package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// metricsRoute is /metrics on the main handler. The metrics tell an
// attacker how busy the server is, which paths fail and how many people are
// connected, so the public listener serves them only
//
//   - with the metrics bearer token (Config.MetricsToken), or
//   - when neither a token nor a listener of their own is configured and
//     linli is not in production: `go run ./server` on a laptop shows them
//     without ceremony, as it shows GraphiQL.
//
// Otherwise the route does not exist (404, like any unknown path).
func (a *App) metricsRoute() (http.Handler, bool) {
	c := a.Config
	switch {
	case c.MetricsToken != "":
		return requireToken(c.MetricsToken, metricsHandler()), true
	case c.Production || c.GraphQL.Production || c.MetricsListener:
		return nil, false
	}
	return metricsHandler(), true
}

// MetricsHandler serves /metrics alone and without a token, for a listener
// of its own (server's -metrics-addr: a loopback or private address a
// Prometheus sidecar scrapes).
func (a *App) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler())
	return securityHeaders(mux)
}

// requireToken admits requests that carry "Authorization: Bearer token".
// Both sides are hashed first so the comparison takes the same time
// whatever the length of the guess.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeGraphQLError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "metrics need the metrics bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}
