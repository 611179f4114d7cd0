package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// apiPolicy is the Content-Security-Policy of every response but the
// GraphiQL page: JSON, PNG and plain text load nothing, run nothing and may
// not be framed, so a response opened as a document (a sniffed upload, a
// JSON error shown by a browser) can do nothing.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets the browser hardening headers on every response of
// every route, before any handler runs: no framing (clickjacking of
// GraphiQL or of a signed-in page), no MIME sniffing, no Referer (URLs may
// carry registration ids), and the strict policy above. The one page that
// needs more, GraphiQL, widens the policy for itself (graphiQL).
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

// graphiQL serves page (gqlgen's GraphiQL) under a policy that admits what
// the page loads today and nothing else: its scripts and stylesheets by
// their exact CDN URLs (each also pinned by its integrity hash in the page),
// its inline script by hash, requests to this server only, and still no
// framing. Inline styles stay allowed because GraphiQL's components set
// style attributes, which no hash can cover.
//
// The policy is read off the rendered page once, at start, so an upgrade of
// gqlgen that changes the page changes the policy with it.
func graphiQL(page http.Handler) http.Handler {
	policy := graphiQLPolicy(page)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		page.ServeHTTP(w, r)
	})
}

var (
	scriptTag  = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
	stylesheet = regexp.MustCompile(`(?s)<link[^>]*rel="stylesheet"[^>]*>`)
	srcAttr    = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
)

func graphiQLPolicy(page http.Handler) string {
	rec := &pageRecorder{header: http.Header{}}
	page.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Header: http.Header{}})
	html := rec.body.String()
	var scripts []string
	for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
		if src := srcAttr.FindStringSubmatch(m[1]); src != nil {
			scripts = append(scripts, src[1])
		} else {
			scripts = append(scripts, hashSource(m[2]))
		}
	}
	// Inline <style> blocks and style attributes.
	styles := []string{"'unsafe-inline'"}
	// Fonts a stylesheet names load from its origin.
	fonts := []string{"data:"}
	for _, m := range stylesheet.FindAllString(html, -1) {
		if href := srcAttr.FindStringSubmatch(m); href != nil {
			styles = append(styles, href[1])
			if u, err := url.Parse(href[1]); err == nil && u.Host != "" {
				fonts = append(fonts, u.Scheme+"://"+u.Host)
			}
		}
	}
	slices.Sort(fonts)
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join(slices.Compact(scripts), " "),
		"style-src " + strings.Join(slices.Compact(styles), " "),
		// 'self' covers the ws: and wss: URLs of this host too (CSP level 3).
		"connect-src 'self'",
		"img-src 'self' data:",
		"font-src " + strings.Join(slices.Compact(fonts), " "),
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}

// hashSource is the CSP source expression admitting one inline script.
func hashSource(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// pageRecorder captures the page graphiQLPolicy reads.
type pageRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *pageRecorder) Header() http.Header         { return r.header }
func (r *pageRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *pageRecorder) WriteHeader(int)             {}
