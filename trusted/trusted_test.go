package trusted_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/linlitest"
	"linli/trusted"
	"linli/viewer"
)

// The documents a deployment ships, and a look-alike it does not.
const (
	titlesQuery    = `query Titles { activities(first: 5) { edges { node { title } } } }`
	countsSub      = `subscription Counts($id: ID!) { activityCounts(activityID: $id) { activityID } }`
	untrustedQuery = `query Titles { activities(first: 5) { edges { node { title description } } } }`
	untrustedSub   = `subscription Counts($id: ID!) { activityCounts(activityID: $id) { activityID version } }`
)

// request is one GraphQL operation: its text, its hash in
// extensions.persistedQuery, or both.
type request struct {
	query string
	hash  string
	vars  map[string]any
}

func (r request) params() map[string]any {
	p := map[string]any{"variables": r.vars}
	if r.query != "" {
		p["query"] = r.query
	}
	if r.hash != "" {
		p["extensions"] = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": r.hash}}
	}
	return p
}

// answer is the first response to a request: its data, or the code of its
// first error.
type answer struct {
	data json.RawMessage
	code string
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r response) answer() answer {
	a := answer{data: r.Data}
	if len(r.Errors) > 0 {
		a.code, _ = r.Errors[0].Extensions["code"].(string)
		a.data = nil
	}
	return a
}

// A transport sends a request to e as token and returns the first answer.
type transport struct {
	name string
	// subscriptions: whether it carries the subscription documents
	// (SSE, websocket) or the query documents (POST, GET).
	subscriptions bool
	send          func(t *testing.T, e *linlitest.Env, token string, r request) answer
}

var transports = []transport{
	{"POST", false, func(t *testing.T, e *linlitest.Env, token string, r request) answer {
		resp := do(t, e, http.MethodPost, "/graphql", token, r.params(), nil)
		defer resp.Body.Close()
		var res response
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatalf("POST: status %d: %v", resp.StatusCode, err)
		}
		return res.answer()
	}},
	{"GET", false, func(t *testing.T, e *linlitest.Env, token string, r request) answer {
		q := url.Values{}
		for k, v := range r.params() {
			if s, ok := v.(string); ok {
				q.Set(k, s)
			} else {
				b, _ := json.Marshal(v)
				q.Set(k, string(b))
			}
		}
		resp := do(t, e, http.MethodGet, "/graphql?"+q.Encode(), token, nil, nil)
		defer resp.Body.Close()
		var res response
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatalf("GET: status %d: %v", resp.StatusCode, err)
		}
		return res.answer()
	}},
	{"SSE", true, func(t *testing.T, e *linlitest.Env, token string, r request) answer {
		resp := do(t, e, http.MethodPost, "/graphql", token, r.params(), http.Header{"Accept": {"text/event-stream"}})
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var res response
				if err := json.Unmarshal([]byte(d), &res); err != nil {
					t.Fatalf("SSE event %q: %v", d, err)
				}
				return res.answer()
			}
		}
		t.Fatalf("SSE: status %d, stream ended without an event (%v)", resp.StatusCode, sc.Err())
		return answer{}
	}},
	{"websocket", true, overWebsocket("graphql-transport-ws")},
	{"legacy websocket", true, overWebsocket("graphql-ws")},
}

// overWebsocket sends requests as subscriptions over a websocket speaking
// protocol: graphql-transport-ws, or the legacy graphql-ws.
func overWebsocket(protocol string) func(t *testing.T, e *linlitest.Env, token string, r request) answer {
	legacy := protocol == "graphql-ws"
	return func(t *testing.T, e *linlitest.Env, token string, r request) answer {
		d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}
		c, _, err := d.Dial("ws"+strings.TrimPrefix(e.Server.URL, "http")+"/graphql", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		type msg struct {
			ID      string          `json:"id,omitempty"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload,omitempty"`
		}
		init, _ := json.Marshal(map[string]string{"authToken": token})
		payload, _ := json.Marshal(r.params())
		subscribe := "subscribe"
		if legacy {
			subscribe = "start"
		}
		for _, m := range []msg{{Type: "connection_init", Payload: init}, {ID: "1", Type: subscribe, Payload: payload}} {
			if err := c.WriteJSON(m); err != nil {
				t.Fatal(err)
			}
		}
		for {
			var m msg
			if err := c.ReadJSON(&m); err != nil {
				t.Fatalf("websocket: %v", err)
			}
			switch m.Type {
			case "next", "data":
				var res response
				if err := json.Unmarshal(m.Payload, &res); err != nil {
					t.Fatalf("websocket next %s: %v", m.Payload, err)
				}
				return res.answer()
			case "error":
				var res response
				if err := json.Unmarshal(m.Payload, &res.Errors); err != nil {
					t.Fatalf("websocket error %s: %v", m.Payload, err)
				}
				return res.answer()
			}
		}
	}
}

func do(t *testing.T, e *linlitest.Env, method, path, token string, body any, h http.Header) *http.Response {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func withTrusted(m trusted.Manifest) linlitest.Option {
	return func(c *app.Config) { c.GraphQL.TrustedDocuments = m }
}

// With trusted documents on, every transport runs a listed document sent
// by hash or in full, answers an unknown hash PERSISTED_QUERY_NOT_FOUND and
// refuses any other document, before it is parsed, with
// OPERATION_NOT_TRUSTED; a hash that is not the query's is
// VALIDATION_FAILED. With them off (the default) the same unlisted
// documents run.
func TestTrustedDocuments(t *testing.T) {
	manifest := trusted.Manifest{}
	for _, d := range []string{titlesQuery, countsSub} {
		manifest[trusted.Hash(d)] = d
	}
	for _, on := range []bool{true, false} {
		var opts []linlitest.Option
		if on {
			opts = append(opts, withTrusted(manifest))
		}
		t.Run(fmt.Sprintf("trusted=%v", on), func(t *testing.T) {
			linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
				c := e.Community(t, "前进社区")
				_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
				a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "道德讲堂"})
				vars := map[string]any{"id": linlitest.ID(a.ID)}
				for _, tr := range transports {
					listed, unlisted, want := titlesQuery, untrustedQuery, "道德讲堂"
					if tr.subscriptions {
						listed, unlisted, want = countsSub, untrustedSub, fmt.Sprintf(`"activityID":"%s"`, linlitest.ID(a.ID))
					}
					type check struct {
						name string
						r    request
						code string // "" for data
					}
					checks := []check{
						{"listed, in full", request{query: listed, vars: vars}, ""},
						{"listed, in full with its hash", request{query: listed, hash: trusted.Hash(listed), vars: vars}, ""},
						{"unlisted, in full", request{query: unlisted, vars: vars}, "OPERATION_NOT_TRUSTED"},
						{"unlisted, in full with its hash", request{query: unlisted, hash: trusted.Hash(unlisted), vars: vars}, "OPERATION_NOT_TRUSTED"},
						{"unlisted, with a listed hash", request{query: unlisted, hash: trusted.Hash(listed), vars: vars}, "VALIDATION_FAILED"},
						{"listed, by hash", request{hash: trusted.Hash(listed), vars: vars}, ""},
						{"unknown hash", request{hash: trusted.Hash(unlisted), vars: vars}, "PERSISTED_QUERY_NOT_FOUND"},
						{"bad hash", request{hash: "ABC", vars: vars}, "VALIDATION_FAILED"},
						{"nothing", request{vars: vars}, "OPERATION_NOT_TRUSTED"},
						// Refused before the parser and the limits see it.
						{"not even GraphQL", request{query: "{{{ " + strings.Repeat("a ", 5000), vars: vars}, "OPERATION_NOT_TRUSTED"},
					}
					if !on {
						checks = []check{
							{"listed, in full", request{query: listed, vars: vars}, ""},
							{"unlisted, in full", request{query: unlisted, vars: vars}, ""},
						}
					}
					for _, ck := range checks {
						got := tr.send(t, e, token, ck.r)
						switch {
						case got.code != ck.code:
							t.Errorf("%s, %s: code %q, want %q", tr.name, ck.name, got.code, ck.code)
						case ck.code == "" && !strings.Contains(string(got.data), want):
							t.Errorf("%s, %s: data %s, want %s", tr.name, ck.name, got.data, want)
						}
					}
				}
			}, opts...)
		})
	}
}
