package app

import "net/http"

// apiPolicy is the Content-Security-Policy of every response but the
// embedded pages (package web sets theirs): JSON, PNG and plain text load nothing, run nothing and may
// not be framed, so a response opened as a document (a sniffed upload, a
// JSON error shown by a browser) can do nothing.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets the browser hardening headers on every response of
// every route, before any handler runs: no framing (clickjacking of
// GraphiQL or of a signed-in page), no MIME sniffing, no Referer (URLs may
// carry registration ids), and the strict policy above. The pages of
// package web (GraphiQL, /kiosk, /board) widen it for themselves, to their
// own embedded scripts and this server.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
