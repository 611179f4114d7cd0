package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
	"linli/viewer"
)

// stallBound only catches stalls: every refusal below takes milliseconds,
// but the race detector and a shared machine make tighter bounds flaky.
const stallBound = 2 * time.Second

// raw is one HTTP exchange with /graphql outside the JSON client, for bodies
// and methods the client cannot produce.
type raw struct {
	Method      string
	ContentType string
	Body        io.Reader
	// Chunked hides the length, so the server learns the size only by reading.
	Chunked  bool
	RawQuery string
	Token    string
}

func (r raw) do(t *testing.T, e *linlitest.Env) (*linlitest.Result, time.Duration) {
	t.Helper()
	u := e.Server.URL + "/graphql"
	if r.RawQuery != "" {
		u += "?" + r.RawQuery
	}
	body := r.Body
	if r.Chunked && body != nil {
		body = io.MultiReader(body) // hides the length from NewRequest
	}
	req, err := http.NewRequest(r.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	start := time.Now()
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s /graphql: %v", r.Method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	res := &linlitest.Result{Status: resp.StatusCode}
	if err := json.Unmarshal(b, res); err != nil {
		t.Fatalf("response is not JSON (status %d): %.300s", resp.StatusCode, b)
	}
	return res, took
}

func postJSON(query string, vars map[string]any) raw {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return raw{Method: http.MethodPost, ContentType: "application/json", Body: bytes.NewReader(b)}
}

func (r raw) with(param, value string) raw {
	v, _ := url.ParseQuery(r.RawQuery)
	v.Set(param, value)
	r.RawQuery = v.Encode()
	return r
}

func getQuery(query string, vars string) raw {
	v := url.Values{"query": {query}}
	if vars != "" {
		v.Set("variables", vars)
	}
	return raw{Method: http.MethodGet, RawQuery: v.Encode()}
}

// pathological is one hostile request and how it must be refused.
type pathological struct {
	name   string
	req    raw
	code   string
	status int // 0: any
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// fanOut builds fragments F1..Fn on Activity where each spreads the one below
// ten times under distinct aliases: 10^n fields once expanded, from a few
// hundred tokens.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{ node(id: \"" + linlitest.ID(1) + "\") { ... on Activity { ...F" + fmt.Sprint(n) + " } } }\nfragment F0 on Activity { id title }\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "fragment F%d on Activity {", k)
		for i := range 10 {
			fmt.Fprintf(&b, " a%d: slots { activity { ...F%d } }", i, k-1)
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

// nestedWhere is an ActivityWhereInput nested depth times through and:[…].
func nestedWhere(depth int) map[string]any {
	w := map[string]any{"titleContains": "义诊"}
	for range depth {
		w = map[string]any{"and": []any{w}}
	}
	return w
}

func nestedWhereLiteral(depth int) string {
	return repeat("{and: [", depth) + `{titleContains: "x"}` + repeat("]}", depth)
}

func nestedActivities(depth int) string {
	return "{ activities(first: 1) { edges { node { " +
		repeat("team { activities(first: 1) { edges { node { ", depth) + "id" +
		repeat(" } } } }", depth) + " } } } }"
}

func hostileRequests() []pathological {
	tooBig := `{"query": "{ __typename }", "variables": {"pad": "` + repeat("x", 1<<20) + `"}}`
	ids := make([]any, 5000)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	wide := make([]any, 600)
	for i := range wide {
		wide[i] = map[string]any{"titleContains": fmt.Sprint(i)}
	}
	const ok, tooComplex = "VALIDATION_FAILED", "QUERY_TOO_COMPLEX"
	return []pathological{
		{name: "5000 repeated __typename", req: postJSON("{"+repeat(" __typename", 5000)+" }", nil), code: tooComplex},
		{name: "1990 repeated __typename (inside the token limit)", req: postJSON("{"+repeat(" __typename", 1990)+" }", nil), code: tooComplex},
		{name: "1990 repeated fields and an unknown one", req: postJSON("{ activities(first: 1) { edges { node {"+repeat(" id", 1990)+" nope } } } }", nil), code: tooComplex},
		{name: "200000 directives on one field (POST)", req: postJSON("{ __typename"+repeat(" @a", 200000)+" }", nil), code: ok, status: http.StatusRequestEntityTooLarge},
		{name: "20000 directives on one field (GET)", req: getQuery("{ __typename"+repeat(" @a", 20000)+" }", ""), code: ok, status: http.StatusRequestURITooLong},
		{name: "2000 directives on one field", req: postJSON("{ __typename"+repeat(" @include(if: true)", 2000)+" }", nil), code: tooComplex},
		{name: "self-spreading fragment", req: postJSON("{ ...A } fragment A on Query { __typename ...A }", nil), code: ok},
		{name: "self-spreading fragment in a field", req: postJSON("{ activities(first: 1) { edges { node { ...A } } } } fragment A on Activity { id slots { activity { ...A } } }", nil), code: ok},
		{name: "mutually recursive fragments", req: postJSON("{ ...A } fragment A on Query { __typename ...B } fragment B on Query { communities { id } ...A }", nil), code: ok},
		{name: "three-fragment cycle", req: postJSON("{ node(id: 1) { ...A } } fragment A on Activity { id ...B } fragment B on Activity { title ...C } fragment C on Activity { slots { activity { ...A } } }", nil), code: ok},
		{name: "exponential fragment fan-out", req: postJSON(fanOut(5), nil), code: tooComplex},
		{name: "nesting 50 deep", req: postJSON(nestedActivities(50), nil), code: tooComplex},
		{name: "100 aliased activities(first: 100)", req: postJSON("{"+aliasedConnections(100)+" }", nil), code: tooComplex},
		{name: "connection without first or last", req: postJSON("{ activities { edges { node { id } } } }", nil), code: ok},
		{name: "nested connection without first", req: postJSON("{ activities(first: 5) { edges { node { team { activities { totalCount } } } } } }", nil), code: ok},
		{name: "first: 0", req: postJSON("{ activities(first: 0) { totalCount } }", nil), code: ok},
		{name: "first: 101", req: postJSON("{ activities(first: 101) { totalCount } }", nil), code: ok},
		{name: "last: 101", req: postJSON("{ activities(last: 101) { totalCount } }", nil), code: ok},
		{name: "first: -1 through a variable", req: postJSON("query($n: Int) { activities(first: $n) { totalCount } }", map[string]any{"n": -1}), code: ok},
		{name: "1 MB body", req: raw{Method: http.MethodPost, ContentType: "application/json", Body: strings.NewReader(tooBig)}, code: ok, status: http.StatusRequestEntityTooLarge},
		{name: "1 MB chunked body", req: raw{Method: http.MethodPost, ContentType: "application/json", Body: strings.NewReader(tooBig), Chunked: true}, code: ok, status: http.StatusRequestEntityTooLarge},
		{name: "malformed JSON", req: raw{Method: http.MethodPost, ContentType: "application/json", Body: strings.NewReader(`{"query": "{ __typename }"`)}, code: ok, status: http.StatusBadRequest},
		{name: "JSON that is not an object", req: raw{Method: http.MethodPost, ContentType: "application/json", Body: strings.NewReader(`["{ __typename }"]`)}, code: ok, status: http.StatusBadRequest},
		{name: "empty body", req: raw{Method: http.MethodPost, ContentType: "application/json", Body: strings.NewReader(``)}, code: ok},
		{name: "no query", req: postJSON("", nil), code: ok},
		{name: "not JSON content type", req: raw{Method: http.MethodPost, ContentType: "text/plain", Body: strings.NewReader(`{"query": "{ __typename }"}`)}, code: ok, status: http.StatusUnsupportedMediaType},
		{name: "syntax error", req: postJSON("{ activities(first: 1) { edges { node { id } }", nil), code: ok},
		{name: "unknown field", req: postJSON("{ activities(first: 1) { edges { node { id secretField } } } }", nil), code: ok},
		{name: "unknown operation name", req: raw{Method: http.MethodPost, ContentType: "application/json", Body: strings.NewReader(`{"query": "query A { __typename }", "operationName": "B"}`)}, code: ok},
		{name: "wrong variable type", req: postJSON("query($n: Int) { activities(first: $n) { totalCount } }", map[string]any{"n": "ten"}), code: ok},
		{name: "wrong variable input object", req: postJSON("query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }", map[string]any{"w": map[string]any{"category": "NOPE"}}), code: ok},
		{name: "input nested 300 deep (literal)", req: postJSON("{ activities(first: 1, where: "+nestedWhereLiteral(300)+") { totalCount } }", nil), code: ok},
		{name: "input nested 3000 deep (variables)", req: postJSON("query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }", map[string]any{"w": nestedWhere(3000)}), code: ok},
		{name: "input nested 300 deep in a variable default", req: postJSON("query($w: ActivityWhereInput = "+nestedWhereLiteral(300)+") { activities(first: 1, where: $w) { totalCount } }", nil), code: ok},
		{name: "input nested 5000 deep (variables)", req: postJSON("query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }", map[string]any{"w": nestedWhere(5000)}), code: ok},
		{name: "input nested 20 deep (variables)", req: postJSON("query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }", map[string]any{"w": nestedWhere(20)}), code: ok},
		{name: "5000 ids in one list", req: postJSON("query($ids: [ID!]) { activities(first: 1, where: {idIn: $ids}) { totalCount } }", map[string]any{"ids": ids}), code: ok},
		{name: "2000 predicates in short lists", req: postJSON("query($w: [ActivityWhereInput!]) { activities(first: 1, where: {or: $w}) { totalCount } }", map[string]any{"w": manyPredicates(100, 20)}), code: ok},
		{name: "a single object for a list, nested 20 deep", req: postJSON("query($w: [ActivityWhereInput!]) { activities(first: 1, where: {or: $w}) { totalCount } }", map[string]any{"w": nestedWhere(20)}), code: ok},
		{name: "600 alternatives in one or", req: postJSON("query($w: [ActivityWhereInput!]) { activities(first: 1, where: {or: $w}) { totalCount } }", map[string]any{"w": wide}), code: ok},
		{name: "mutation over GET", req: getQuery("mutation { logout }", ""), code: ok, status: http.StatusMethodNotAllowed},
		{name: "named mutation over GET", req: getQuery("query Q { __typename } mutation M { logout }", "").with("operationName", "M"), code: ok, status: http.StatusMethodNotAllowed},
		{name: "GET with malformed variables", req: getQuery("query($n: Int) { activities(first: $n) { totalCount } }", `{"n": `), code: ok, status: http.StatusBadRequest},
		{name: "GET with bad query string", req: raw{Method: http.MethodGet, RawQuery: "query=%zz"}, code: ok, status: http.StatusBadRequest},
	}
}

// manyPredicates is n alternatives of m alternatives each.
func manyPredicates(n, m int) []any {
	out := make([]any, n)
	for i := range out {
		inner := make([]any, m)
		for j := range inner {
			inner[j] = map[string]any{"titleContains": fmt.Sprint(i, j)}
		}
		out[i] = map[string]any{"or": inner}
	}
	return out
}

func aliasedConnections(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d: activities(first: 100) { edges { node { id } } }", i)
	}
	return b.String()
}

func TestPathologicalQueriesAreRefused(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Coordinator)
		e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊"})

		for _, p := range hostileRequests() {
			t.Run(p.name, func(t *testing.T) {
				// Anonymous, so that any SQL statement at all would come
				// from the query itself, not from authentication.
				before := e.Statements.Load()
				res, took := p.req.do(t, e)
				t.Logf("refused in %v: %d %s %.120q", took, res.Status, res.Code(), firstMessage(res))
				if took > stallBound {
					t.Errorf("took %v", took)
				}
				res.WantCode(t, p.code)
				if p.status != 0 && res.Status != p.status {
					t.Errorf("status %d, want %d", res.Status, p.status)
				}
				if len(res.Data) > 0 && string(res.Data) != "null" {
					t.Errorf("refused request returned data %.200s", res.Data)
				}
				if n := e.Statements.Load() - before; n != 0 {
					t.Errorf("a refused request ran %d SQL statements", n)
				}
			})
		}

		// The barrage leaves the server answering normal queries.
		res := e.Do(t, tok, `{ activities(first: 10) { edges { node { title slots { name } } } } }`, nil)
		var got struct {
			Activities struct {
				Edges []struct{ Node struct{ Title string } }
			}
		}
		res.Decode(t, &got)
		if len(got.Activities.Edges) != 1 || got.Activities.Edges[0].Node.Title != "义诊" {
			t.Fatalf("after the barrage: %s", res.Data)
		}
	})
}

// Just inside every limit is still answered, and fast: the limits refuse
// hostile shapes, not ordinary large queries.
func TestLargeButAllowedQueries(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Coordinator)
		e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊"})
		wide := make([]any, 99)
		for i := range wide {
			wide[i] = map[string]any{"or": []any{
				map[string]any{"titleContains": fmt.Sprint(i)},
				map[string]any{"titleContains": "义诊"},
			}}
		}
		cases := []struct {
			name, query string
			vars        map[string]any
		}{
			{"500 repeated __typename", "{" + repeat(" __typename", 500) + " }", nil},
			{"input nested 5 deep", "query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }", map[string]any{"w": nestedWhere(5)}},
			{"or of 99 alternatives", "query($w: [ActivityWhereInput!]) { activities(first: 100, where: {or: $w}) { totalCount edges { node { title } } } }", map[string]any{"w": wide}},
			{"the README's browsing query", `{ activities(first: 50, where: {openForSignup: true}, orderBy: {field: STARTS_AT, direction: ASC}) {
				totalCount edges { node { id title category serviceType startsAt venue { name } team { name }
				slots { id name kind capacity taken available } } } pageInfo { hasNextPage endCursor } } }`, nil},
			{"a coordinator's team roster", "{ teams { name memberships { role person { displayName phone } } } }", nil},
			{"first: 100 with nested slots", "{ activities(first: 100) { edges { node { id title slots { id name capacity taken } team { name } venue { name } } } } }", nil},
			// Two levels (10 × slots × 10 × slots fields) cost too much
			// once slots count as a list: one level is the legitimate case.
			{"one level of fan-out", fanOut(1), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				start := time.Now()
				res := e.Do(t, tok, tc.query, tc.vars)
				took := time.Since(start)
				t.Logf("answered in %v", took)
				if len(res.Errors) > 0 {
					t.Fatalf("refused: %+v", res.Errors)
				}
				if took > stallBound {
					t.Errorf("took %v", took)
				}
			})
		}
	})
}

func firstMessage(r *linlitest.Result) string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

func production(c *app.Config) {
	c.Production = true
	c.GraphQL.Production = true
}

// suggestionProbes are mistakes that gqlparser answers with "Did you mean …"
// unless suggestions are off.
var suggestionProbes = []struct{ name, query string }{
	{"misspelt field", `{ activities(first: 1) { edges { node { titel } } } }`},
	{"misspelt argument", `{ activities(frist: 1) { totalCount } }`},
	{"misspelt enum value", `{ activities(first: 1, where: {category: SQAURE}) { totalCount } }`},
	{"misspelt input field", `{ activities(first: 1, where: {titleContain: "x"}) { totalCount } }`},
	{"misspelt type", `{ activities(first: 1) { edges { node { ...F } } } } fragment F on Activty { id }`},
}

func TestProductionHidesTheSchema(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		for _, q := range []string{
			`{ __schema { types { name } } }`,
			`{ __type(name: "Activity") { fields { name } } }`,
			`{ activities(first: 1) { edges { node { __type: __typename } } } __schema { queryType { name } } }`,
		} {
			res := e.Do(t, "", q, nil)
			res.WantCode(t, "VALIDATION_FAILED")
			if len(res.Data) > 0 && string(res.Data) != "null" {
				t.Errorf("introspection returned data %s", res.Data)
			}
		}
		var tn struct {
			Typename string `json:"__typename"`
		}
		e.Do(t, "", `{ __typename }`, nil).Decode(t, &tn)
		if tn.Typename != "Query" {
			t.Errorf("__typename = %q", tn.Typename)
		}
		for _, p := range suggestionProbes {
			res := e.Do(t, "", p.query, nil)
			res.WantCode(t, "VALIDATION_FAILED")
			for _, er := range res.Errors {
				if strings.Contains(strings.ToLower(er.Message), "did you mean") {
					t.Errorf("%s: production suggests: %q", p.name, er.Message)
				}
			}
		}
	}, production)
}

// In development the same probes do get suggestions, and GraphiQL's full
// introspection query (deeper than the depth limit) is answered: so the
// production test above fails if suggestions or introspection leak.
func TestDevelopmentHelpsWithTheSchema(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		for _, p := range suggestionProbes {
			res := e.Do(t, "", p.query, nil)
			res.WantCode(t, "VALIDATION_FAILED")
			if !strings.Contains(strings.ToLower(firstMessage(res)), "did you mean") {
				t.Errorf("%s: no suggestion in %q", p.name, firstMessage(res))
			}
		}
		var got struct {
			Schema struct{ Types []struct{ Name string } } `json:"__schema"`
		}
		e.Do(t, "", introspectionQuery, nil).Decode(t, &got)
		if len(got.Schema.Types) < 20 {
			t.Fatalf("introspection returned %d types", len(got.Schema.Types))
		}
	})
}

// introspectionQuery is what GraphiQL sends (graphql-js getIntrospectionQuery
// with descriptions), nine ofType levels deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`
