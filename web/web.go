// Package web serves the pages linli ships with: the kiosk page a tablet
// at the door runs (/kiosk), the live board for a hall's screen (/board),
// staff's page to register, pair and revoke tablets (/kiosks) and GraphiQL
// (/), with every script, stylesheet and font embedded in the
// binary (no CDN, no Node.js at run time), plus staff's downloads page
// (/downloads) and the page a resident's phone opens from the kiosk's
// rotating QR code (/checkin/self), and /me, where a signed-in person sees,
// corrects and downloads what linli holds about them, withdraws consents
// and deletes their account (package rights' API). The assets in static/ are built
// from src/ by `npm run build` there and committed like generated code
// (TestBundleIsCurrent checks them).
//
// Each page has a strict Content-Security-Policy: scripts from this server
// only (no inline script, no eval), requests and websockets to this server
// only, no framing.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Static is the embedded static/ directory.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// PagePolicy is the Content-Security-Policy of /kiosk and /board: their
// own scripts and stylesheets, images from here (and the camera frames
// they draw), requests and websockets to this server ('self' covers ws:
// and wss: of this host in CSP level 3), nothing else, no framing.
const PagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// GraphiQLPolicy is PagePolicy for GraphiQL, whose components set style
// attributes (which no hash can cover) and whose stylesheet inlines its
// fonts and icons as data: URLs.
const GraphiQLPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Routes registers the pages on mux: /kiosk, /board, staff's /kiosks and
// /downloads, the self check-in page /checkin/self, a person's own /me and
// their assets always, GraphiQL at / when graphiQL is set (outside production, where
// introspection is on).
func Routes(mux *http.ServeMux, graphiQL bool) {
	mux.Handle("GET /kiosk", page("kiosk.html", PagePolicy))
	mux.Handle("GET /board", page("board.html", PagePolicy))
	mux.Handle("GET /kiosks", page("kiosks.html", PagePolicy))
	mux.Handle("GET /downloads", page("downloads.html", PagePolicy))
	mux.Handle("GET /checkin/self", page("selfcheckin.html", PagePolicy))
	mux.Handle("GET /me", page("me.html", PagePolicy))
	mux.Handle("GET /assets/", assets())
	// The kiosk's service worker keeps the pages and assets for a reload
	// without network; served from / so that its scope covers /kiosk.
	mux.Handle("GET /kiosk-sw.js", asset("kiosk-sw.js"))
	if graphiQL {
		mux.Handle("GET /{$}", page("graphiql.html", GraphiQLPolicy))
	}
}

// page serves one embedded HTML page under policy. Pages are not cached
// (a new release's page names its new assets).
func page(name, policy string) http.Handler {
	body, err := static.ReadFile("static/" + name)
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

// assets serves static/assets under /assets/. They are small and served
// with revalidation (ETag from the build), so a tablet that cached them
// works offline and picks up a new release on its next online load.
func assets() http.Handler {
	files := http.FileServerFS(Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(r.URL.Path)
		if !strings.HasPrefix(name, "/assets/") || strings.HasSuffix(name, "/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", PagePolicy)
		h.Set("Cache-Control", "no-cache")
		if etag, ok := etags[strings.TrimPrefix(name, "/assets/")]; ok {
			h.Set("ETag", etag)
		}
		files.ServeHTTP(w, r)
	})
}

// asset serves one file of static/assets at another path.
func asset(name string) http.Handler {
	body, err := static.ReadFile("static/assets/" + name)
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", PagePolicy)
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

// etags are the assets' content hashes.
var etags = func() map[string]string {
	m := map[string]string{}
	entries, err := static.ReadDir("static/assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := static.ReadFile("static/assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		m[e.Name()] = `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	return m
}()
