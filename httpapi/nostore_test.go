package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
)

// Every answer on a path that can carry a stream token (a reservation, an
// EventSource's ?token=, the stream itself) is Cache-Control: no-store,
// private: no cache, shared or the browser's, may keep a credential or a
// person's events, even when GET answers are otherwise cacheable.
func TestTokenPathsAreNotCached(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		do := func(method, rawQuery, accept, bearer string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(method, e.Server.URL+"/graphql?"+rawQuery, nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			resp, err := e.Server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(resp.Header.Get("Content-Type"), "text/event-stream") {
				resp.Body.Close() // a stream: its headers are enough
				return resp, ""
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		want := func(what string, resp *http.Response, status int) {
			t.Helper()
			if resp.StatusCode != status || resp.Header.Get("Cache-Control") != "no-store, private" {
				t.Fatalf("%s: %d, Cache-Control %q; want %d, no-store, private", what, resp.StatusCode, resp.Header.Get("Cache-Control"), status)
			}
		}
		resp, reservation := do(http.MethodPut, "", "", token)
		want("the reservation", resp, http.StatusCreated)
		sub := url.Values{"query": {`subscription { myRegistrationUpdates { registration { id } } }`}, "token": {reservation}}
		resp, _ = do(http.MethodGet, sub.Encode(), "text/event-stream", "")
		want("an EventSource's stream opened with the reservation in the URL", resp, http.StatusOK)
		resp, _ = do(http.MethodGet, url.Values{"token": {"no-such-reservation"}, "query": {"{ __typename }"}}.Encode(), "text/event-stream", "")
		want("an unknown reservation in the URL", resp, http.StatusNotFound)
		resp, reservation = do(http.MethodPut, "", "", token)
		resp, _ = do(http.MethodGet, url.Values{"token": {reservation}}.Encode(), "text/event-stream", "")
		want("the single-connection stream opened by URL", resp, http.StatusOK)
		// A plain GET query with a token in its URL is never cacheable
		// either; without one it is (the control).
		resp, _ = do(http.MethodGet, url.Values{"query": {"{ __typename }"}, "token": {"x"}}.Encode(), "", "")
		want("a GET query with a token in its URL", resp, http.StatusOK)
		if resp, _ = do(http.MethodGet, url.Values{"query": {"{ __typename }"}}.Encode(), "", ""); resp.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("a GET query without a token: Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	}, func(c *app.Config) { c.GraphQL.GetMaxAge = time.Minute })
}
