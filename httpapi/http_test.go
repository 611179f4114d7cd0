package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/linlitest"
	"linli/viewer"
)

// httpCall is one GraphQL-over-HTTP request, sent as POST or GET.
type httpCall struct {
	method, accept, token string
	body                  string // POST: the raw body
	query                 url.Values
}

type httpAnswer struct {
	status int
	media  string
	raw    string
	body   map[string]json.RawMessage
	code   string
	msg    string
}

func (c httpCall) send(t *testing.T, e *linlitest.Env) httpAnswer {
	t.Helper()
	var req *http.Request
	var err error
	if c.method == http.MethodGet {
		req, err = http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?"+c.query.Encode(), nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		t.Fatal(err)
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	status, media, raw := roundTrip(t, e, req)
	a := httpAnswer{status: status, media: media, raw: raw}
	if err := json.Unmarshal([]byte(raw), &a.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %s", c.method, c.accept, err, raw)
	}
	var errs []struct {
		Message    string
		Extensions struct{ Code string }
	}
	if b, ok := a.body["errors"]; ok {
		_ = json.Unmarshal(b, &errs)
	}
	if len(errs) > 0 {
		a.code, a.msg = errs[0].Extensions.Code, errs[0].Message
	}
	return a
}

// both is the request as a POST and as a GET.
func both(query string, vars map[string]any) []httpCall {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	q := url.Values{"query": {query}}
	if vars != nil {
		v, _ := json.Marshal(vars)
		q.Set("variables", string(v))
	}
	return []httpCall{{method: http.MethodPost, body: string(body)}, {method: http.MethodGet, query: q}}
}

// The response is in the media type the Accept header prefers by q-value,
// over POST and GET alike; an Accept header that takes neither is 406.
func TestAcceptNegotiation(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		const json, gql = "application/json", "application/graphql-response+json"
		for accept, want := range map[string]string{
			"":                                json,
			"*/*":                             json,
			"application/*":                   json,
			json:                              json,
			"APPLICATION/JSON; charset=utf-8": json,
			gql:                               gql,
			"application/json;q=0.1, " + gql:  gql,
			gql + ", application/json;q=0.9":  gql, // Apollo Client 4
			"application/json, " + gql:        json,
			gql + ", application/json":        gql,
			"*/*;q=0.8, " + gql + ";q=0.5":    json,
			"application/json;q=0, */*":       gql,
			"text/html, " + gql + ";q=0.9":    gql,
			"text/html,application/xhtml+xml,*/*;q=0.8": json, // a browser
			"text/html":                             "",
			"application/json;q=0":                  "",
			"application/json;q=0, " + gql + ";q=0": "",
		} {
			for _, c := range both("{ __typename }", nil) {
				c.accept = accept
				a := c.send(t, e)
				if want == "" {
					if a.status != http.StatusNotAcceptable || a.code != "VALIDATION_FAILED" || a.body["data"] != nil {
						t.Errorf("%s Accept %q: %d %s, want 406 VALIDATION_FAILED without data", c.method, accept, a.status, a.raw)
					}
					continue
				}
				if a.status != http.StatusOK || a.media != want || string(a.body["data"]) != `{"__typename":"Query"}` {
					t.Errorf("%s Accept %q: %d %s %s, want 200 %s", c.method, accept, a.status, a.media, a.raw, want)
				}
			}
		}
	})
}

// A request error (the document does not parse or validate, the variables
// do not coerce, a limit refuses the query before it runs) is answered
// without a data entry: 200 under application/json, 400 under
// application/graphql-response+json. A request that is not a GraphQL
// request at all (no query) is 400 under both.
func TestRequestErrors(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		cases := []struct {
			name, query string
			vars        map[string]any
			code        string
		}{
			{"parse failure", "{ activities(first: 1) {", nil, "VALIDATION_FAILED"},
			{"validation failure", "{ nope }", nil, "VALIDATION_FAILED"},
			{"variable coercion failure", "query($id: ID!) { node(id: $id) { id } }", map[string]any{"id": nil}, "VALIDATION_FAILED"},
			{"wrong variable type", "query($n: Int) { activities(first: $n) { totalCount } }", map[string]any{"n": "ten"}, "VALIDATION_FAILED"},
			{"too deep", nestedActivities(20), nil, "QUERY_TOO_COMPLEX"},
		}
		for _, tc := range cases {
			for _, c := range both(tc.query, tc.vars) {
				for accept, status := range map[string]int{"": http.StatusOK, "application/json": http.StatusOK, "application/graphql-response+json": http.StatusBadRequest} {
					c.accept = accept
					a := c.send(t, e)
					if _, hasData := a.body["data"]; hasData || a.status != status || a.code != tc.code {
						t.Errorf("%s over %s, Accept %q: %d %s, want %d %s without data", tc.name, c.method, accept, a.status, a.raw, status, tc.code)
					}
				}
			}
		}
		for _, c := range []httpCall{
			{method: http.MethodPost, body: `{"qeury": "{ __typename }"}`},
			{method: http.MethodPost, body: `{"query": ""}`},
			{method: http.MethodGet, query: url.Values{"operationName": {"A"}}},
		} {
			for _, accept := range []string{"", "application/graphql-response+json"} {
				c.accept = accept
				if a := c.send(t, e); a.status != http.StatusBadRequest || a.code != "VALIDATION_FAILED" || a.body["data"] != nil {
					t.Errorf("no query over %s, Accept %q: %d %s, want 400 VALIDATION_FAILED", c.method, accept, a.status, a.raw)
				}
			}
		}
	})
}

// A subscription over plain HTTP (POST without Accept: text/event-stream,
// or GET) is refused with a coded 406 before it subscribes, instead of
// being answered with its first event as if it were a query; with
// text/event-stream it streams.
func TestSubscriptionNeedsStream(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		sub := `subscription($a: ID!) { activityCounts(activityID: $a) { activityID version } }`
		vars := map[string]any{"a": id(a.ID)}
		before := e.App.Live.Stats()
		for _, call := range both(sub, vars) {
			for _, accept := range []string{"", "application/json", "application/graphql-response+json"} {
				call.accept, call.token = accept, tok
				ans := call.send(t, e)
				if ans.status != http.StatusNotAcceptable || ans.code != "VALIDATION_FAILED" || !strings.Contains(ans.msg, "text/event-stream") || ans.body["data"] != nil {
					t.Errorf("subscription over %s, Accept %q: %d %s, want 406 VALIDATION_FAILED naming text/event-stream", call.method, accept, ans.status, ans.raw)
				}
			}
		}
		if after := e.App.Live.Stats(); after != before {
			t.Errorf("refused subscriptions reached the broker: %+v, then %+v", before, after)
		}

		// The stream still works.
		body, _ := json.Marshal(map[string]any{"query": sub, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		client := *e.Server.Client()
		client.Timeout = 10 * time.Second
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		var got strings.Builder
		for !strings.Contains(got.String(), id(a.ID)) {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				t.Fatalf("SSE stream ended before the first event: %v: %s", err, got.String())
			}
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("SSE: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}

// A JSON array (Apollo's BatchHttpLink) is refused whole with a coded 400
// saying batching is not supported, and none of its operations runs.
func TestBatchRefused(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		for _, accept := range []string{"", "application/graphql-response+json", "text/event-stream"} {
			call := httpCall{method: http.MethodPost, accept: accept, token: tok,
				body: ` [{"query": "{ viewer { id } }"}, {"query": "mutation { logout }"}]`}
			a := call.send(t, e)
			if a.status != http.StatusBadRequest || a.code != "VALIDATION_FAILED" || !strings.Contains(a.msg, "batching is not supported") || a.body["data"] != nil {
				t.Errorf("batch, Accept %q: %d %s, want 400 VALIDATION_FAILED saying batching is not supported", accept, a.status, a.raw)
			}
		}
		// logout did not run: the token still works.
		var got struct{ Viewer *struct{ ID string } }
		e.Do(t, tok, `{ viewer { id } }`, nil).Decode(t, &got)
		if got.Viewer == nil {
			t.Fatal("a refused batch logged the token out")
		}
	})
}
