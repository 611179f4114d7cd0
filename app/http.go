package app

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"linli/apperr"
	"linli/viewer"
)

func withViewer(ctx context.Context, v *viewer.Viewer) context.Context {
	return viewer.NewContext(ctx, v)
}

// writeGraphQLError answers one coded error through the one error writer.
func writeGraphQLError(w http.ResponseWriter, status int, code, msg string) {
	apperr.WriteHTTP(w, status, &apperr.Error{Code: apperr.Code(code), Message: msg})
}

// OriginAllowed reports whether a browser origin may call the API.
func (a *App) OriginAllowed(origin string) bool {
	if origin == "" {
		return true
	}
	return slices.Contains(a.Config.AllowedOrigins, "*") || slices.Contains(a.Config.AllowedOrigins, strings.TrimRight(origin, "/"))
}

func (a *App) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && a.OriginAllowed(origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Max-Age", "600")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
