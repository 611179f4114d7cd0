package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"linli/linlitest"
	"linli/viewer"
)

// The POST transport writes successful responses itself: a client gets the
// media type it asked for and a body any JSON parser reads (request errors:
// TestRequestErrors).
func TestPostResponses(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊 \"周六\"\n<早场>"})

		post := func(accept, query string) (int, string, []byte) {
			t.Helper()
			body, _ := json.Marshal(map[string]any{"query": query})
			req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			status, media, b := roundTrip(t, e, req)
			return status, media, []byte(b)
		}

		const ok = `{ activities(first: 5) { edges { node { title slots { name available } } } } }`
		for _, accept := range []string{"", "*/*", "application/json", "application/graphql-response+json", "text/html, application/graphql-response+json;q=0.9"} {
			status, media, body := post(accept, ok)
			want := "application/json"
			if strings.Contains(accept, "graphql-response") {
				want = "application/graphql-response+json"
			}
			if status != http.StatusOK || media != want {
				t.Errorf("Accept %q: %d %s, want 200 %s", accept, status, media, want)
			}
			var got struct {
				Data struct {
					Activities struct {
						Edges []struct{ Node struct{ Title string } }
					}
				}
				Errors []any
			}
			if err := json.Unmarshal(body, &got); err != nil || len(got.Errors) > 0 {
				t.Fatalf("Accept %q: body %s: %v", accept, body, err)
			}
			if e := got.Data.Activities.Edges; len(e) != 1 || e[0].Node.Title != "义诊 \"周六\"\n<早场>" {
				t.Fatalf("Accept %q: data %s", accept, body)
			}
		}
	})
}

// roundTrip sends req to e's server and returns the status, the content
// type and the body.
func roundTrip(t *testing.T, e *linlitest.Env, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// @defer below the root is answered inline (graph/codegen resolves object
// fields in their parent's goroutine, and the incremental-delivery proposal
// lets a server ignore @defer): the deferred fields arrive in the one
// response.
func TestDeferAnsweredInline(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "周末课业辅导"})
		var got struct {
			Activities struct {
				Edges []struct {
					Node struct {
						ID, Title string
						Slots     []struct{ Name string }
					}
				}
			}
		}
		e.Do(t, tok, `{ activities(first: 5) { edges { node { id ... @defer(label: "more") { title slots { name } } } } } }`, nil).Decode(t, &got)
		if len(got.Activities.Edges) != 1 || got.Activities.Edges[0].Node.Title != "周末课业辅导" || len(got.Activities.Edges[0].Node.Slots) == 0 {
			t.Fatalf("deferred fields not in the response: %+v", got)
		}
	})
}
