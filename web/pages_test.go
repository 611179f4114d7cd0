package web_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"linli/app"
	"linli/linlitest"
	"linli/web"
)

func fetch(t *testing.T, e *linlitest.Env, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var assetRef = regexp.MustCompile(`(?:src|href)="(/assets/[^"]*)"`)

// Every page the server embeds loads only assets this server has, each
// with its content type and the page policy; assets revalidate by ETag
// (a tablet's cached copy is kept until a release changes it), and the
// asset directory is not listed. In production GraphiQL goes, the kiosk
// and board stay. Every page but GraphiQL has the self-only page policy.
func TestPagesAndAssets(t *testing.T) {
	for _, production := range []bool{false, true} {
		e := linlitest.New(t, "sqlite", func(c *app.Config) { c.Production = production })
		pages := []string{"/kiosk", "/board", "/kiosks", "/downloads", "/checkin/self", "/me"}
		if !production {
			pages = append(pages, "/")
		}
		for _, p := range pages {
			resp, body := fetch(t, e, p)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("GET %s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("Content-Security-Policy") != web.PagePolicy && p != "/" {
				t.Errorf("GET %s: policy %q", p, resp.Header.Get("Content-Security-Policy"))
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
				t.Errorf("GET %s: inline script or style", p)
			}
			refs := assetRef.FindAllStringSubmatch(body, -1)
			if len(refs) < 2 {
				t.Errorf("GET %s: %d assets", p, len(refs))
			}
			for _, m := range refs {
				resp, _ := fetch(t, e, m[1])
				ct := resp.Header.Get("Content-Type")
				if resp.StatusCode != http.StatusOK || !(strings.HasPrefix(ct, "text/css") || strings.HasPrefix(ct, "text/javascript")) {
					t.Errorf("%s: GET %s: %d %s", p, m[1], resp.StatusCode, ct)
				}
				etag := resp.Header.Get("ETag")
				if etag == "" {
					t.Errorf("GET %s: no ETag", m[1])
					continue
				}
				if again, _ := fetch(t, e, m[1], "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
					t.Errorf("GET %s with its ETag: %d, want 304", m[1], again.StatusCode)
				}
			}
		}
		if resp, _ := fetch(t, e, "/kiosk-sw.js"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("GET /kiosk-sw.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, p := range []string{"/assets/", "/assets/nope.js", "/assets/../web.go"} {
			if resp, _ := fetch(t, e, p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
			}
		}
		resp, body := fetch(t, e, "/")
		if production && (resp.StatusCode != http.StatusOK || strings.Contains(body, "graphiql")) {
			t.Errorf("production GET /: %d %.80s, want the plain API note", resp.StatusCode, body)
		}
	}
}
