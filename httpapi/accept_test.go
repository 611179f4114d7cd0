package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"linli/linlitest"
)

// urql 6's default client asks every operation for JSON and an event stream
// alike, JSON first. A query over GET with an Int variable, and a mutation
// over POST, are answered as JSON; a subscription as an event stream; a
// client that names only the stream gets one, for a query too, with the
// variables decoded as on every other transport.
func TestJSONWinsUnlessTheStreamIsPreferred(t *testing.T) {
	const urqlAccept = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	const activities = `query U($first: Int!) { activities(first: $first) { totalCount } }`
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		send := func(method, accept, query string, vars map[string]any) (*http.Response, string) {
			t.Helper()
			v, _ := json.Marshal(vars)
			var req *http.Request
			if method == http.MethodGet {
				req, _ = http.NewRequest(method, e.Server.URL+"/graphql?"+url.Values{"query": {query}, "variables": {string(v)}}.Encode(), nil)
			} else {
				body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
				req, _ = http.NewRequest(method, e.Server.URL+"/graphql", strings.NewReader(string(body)))
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Accept", accept)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := e.Server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				// The first next event is enough.
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
						return resp, data
					}
				}
				return resp, ""
			}
			var b strings.Builder
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				b.WriteString(sc.Text())
			}
			return resp, b.String()
		}
		want := func(what string, resp *http.Response, body, media, contains string) {
			t.Helper()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), media) || !strings.Contains(body, contains) {
				t.Fatalf("%s: %d %s %s; want 200 %s with %s", what, resp.StatusCode, resp.Header.Get("Content-Type"), body, media, contains)
			}
		}
		vars := map[string]any{"first": 20}
		resp, body := send(http.MethodGet, urqlAccept, activities, vars)
		want("urql's GET query", resp, body, "application/graphql-response+json", `{"data":{"activities":{"totalCount":1}}}`)
		resp, body = send(http.MethodPost, urqlAccept, activities, vars)
		want("urql's POST query", resp, body, "application/graphql-response+json", `{"data":{"activities":{"totalCount":1}}}`)
		resp, body = send(http.MethodPost, urqlAccept, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`, map[string]any{"s": e.ID(slots[0].ID)})
		want("urql's mutation", resp, body, "application/graphql-response+json", `"outcome":"CONFIRMED"`)
		counts := `subscription($id: ID!) { activityCounts(activityID: $id) { slots { taken } } }`
		resp, body = send(http.MethodPost, urqlAccept, counts, map[string]any{"id": e.ID(a.ID)})
		want("urql's subscription", resp, body, "text/event-stream", `"taken":1`)
		// A client that prefers the stream gets one, its Int decoded alike.
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			resp, body = send(method, "text/event-stream", activities, vars)
			want(method+" query preferring the stream", resp, body, "text/event-stream", `{"data":{"activities":{"totalCount":1}}}`)
		}
		// A request error for a client that prefers JSON is JSON too.
		resp, body = send(http.MethodGet, urqlAccept, `query { nope }`, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/graphql-response+json") {
			t.Fatalf("urql's invalid query: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
}
