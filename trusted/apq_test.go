package trusted_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/app"
	"linli/ent/persistedquery"
	"linli/linlitest"
	"linli/trusted"
	"linli/viewer"
)

// Automatic persisted queries (trusted documents off, the default), on
// every transport: a hash the server does not know is
// PERSISTED_QUERY_NOT_FOUND (Apollo's PersistedQueryLink then sends the
// document with its hash), a hash that is not the document's is
// VALIDATION_FAILED and registers nothing, the document with its hash runs
// and registers it, and from then on the hash alone runs it. A document
// that does not validate is not registered.
func TestPersistedQueries(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "道德讲堂"})
		vars := map[string]any{"id": linlitest.ID(a.ID)}
		for _, tr := range transports {
			// A document of its own per transport (a comment changes the
			// hash), so that each one registers.
			doc, want := titlesQuery+" # "+tr.name, "道德讲堂"
			invalid := `query Titles { activities(first: 5) { edges { node { nosuchfield } } } } # ` + tr.name
			if tr.subscriptions {
				doc, want = countsSub+" # "+tr.name, fmt.Sprintf(`"activityID":"%s"`, linlitest.ID(a.ID))
				invalid = `subscription Counts($id: ID!) { activityCounts(activityID: $id) { nosuchfield } } # ` + tr.name
			}
			h := trusted.Hash(doc)
			for _, ck := range []struct {
				name string
				r    request
				code string // "" for data
			}{
				{"unknown hash", request{hash: h, vars: vars}, "PERSISTED_QUERY_NOT_FOUND"},
				{"document with another hash", request{query: doc, hash: trusted.Hash(invalid), vars: vars}, "VALIDATION_FAILED"},
				{"still unknown", request{hash: h, vars: vars}, "PERSISTED_QUERY_NOT_FOUND"},
				{"document with its hash", request{query: doc, hash: h, vars: vars}, ""},
				{"hash alone, registered", request{hash: h, vars: vars}, ""},
				{"hash alone, again", request{hash: h, vars: vars}, ""},
				{"bad hash", request{hash: "ABC", vars: vars}, "VALIDATION_FAILED"},
				{"invalid document with its hash", request{query: invalid, hash: trusted.Hash(invalid), vars: vars}, "VALIDATION_FAILED"},
				{"invalid document, not registered", request{hash: trusted.Hash(invalid), vars: vars}, "PERSISTED_QUERY_NOT_FOUND"},
				{"document alone still runs", request{query: doc, vars: vars}, ""},
			} {
				got := tr.send(t, e, token, ck.r)
				switch {
				case got.code != ck.code:
					t.Errorf("%s, %s: code %q, want %q", tr.name, ck.name, got.code, ck.code)
				case ck.code == "" && !strings.Contains(string(got.data), want):
					t.Errorf("%s, %s: data %s, want %s", tr.name, ck.name, got.data, want)
				}
			}
		}
		if n := e.Client.PersistedQuery.Query().CountX(e.Sys()); n != len(transports) {
			t.Errorf("%d documents stored, want %d (one per transport)", n, len(transports))
		}

		// A document the caller may not run is not stored on their behalf:
		// the resident's refused mutation leaves no row.
		stored := e.Client.PersistedQuery.Query().CountX(e.Sys())
		mutation := `mutation Rename($id: ID!) { updateActivity(id: $id, input: {title: "道德讲堂（新）"}) { id } }`
		tr := transports[0]
		if got := tr.send(t, e, token, request{query: mutation, hash: trusted.Hash(mutation), vars: vars}); got.code != "FORBIDDEN" {
			t.Fatalf("a resident renamed an activity: %q", got.code)
		}
		if n := e.Client.PersistedQuery.Query().CountX(e.Sys()); n != stored {
			t.Errorf("a refused mutation was stored: %d documents, want %d", n, stored)
		}
		if got := tr.send(t, e, token, request{hash: trusted.Hash(mutation), vars: vars}); got.code != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("the refused mutation's hash: %q, want PERSISTED_QUERY_NOT_FOUND", got.code)
		}
		// GET runs queries only, also when a hash names the document: a
		// registered mutation (the coordinator's, which ran) is refused,
		// coded, before it runs.
		if got := tr.send(t, e, coord, request{query: mutation, hash: trusted.Hash(mutation), vars: vars}); got.code != "" {
			t.Fatalf("the coordinator's rename: %q", got.code)
		}
		resp, res := get(t, e, token, request{hash: trusted.Hash(mutation), vars: vars})
		if resp.StatusCode != http.StatusMethodNotAllowed || res.answer().code != "VALIDATION_FAILED" || resp.Header.Get("Allow") != "POST" {
			t.Errorf("mutation by hash over GET: %d %+v allow %q", resp.StatusCode, res.answer(), resp.Header.Get("Allow"))
		}
	})
}

// get sends r as GET with token ("" for none) and returns the response
// (its body read) and the GraphQL answer.
func get(t *testing.T, e *linlitest.Env, token string, r request) (*http.Response, response) {
	t.Helper()
	q := url.Values{}
	for k, v := range r.params() {
		if s, ok := v.(string); ok {
			q.Set(k, s)
		} else if v != nil {
			b, _ := json.Marshal(v)
			q.Set(k, string(b))
		}
	}
	req, err := http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res response
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("GET: status %d: %v", resp.StatusCode, err)
	}
	return resp, res
}

// A document registered through one replica runs by its hash alone on
// another sharing the PostgreSQL database (whose own cache never saw it),
// over POST and GET.
func TestPersistedQueriesAcrossReplicas(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	one := linlitest.NewAt(t, "postgres", dbURL)
	two := linlitest.NewAt(t, "postgres", dbURL)
	c := one.Community(t, "前进社区")
	_, token := one.Person(t, c.ID, "章桂兰", viewer.Resident)
	one.Activity(t, c.ID, linlitest.ActivitySpec{Title: "道德讲堂"})
	post, getT := transports[0], transports[1]
	h := trusted.Hash(titlesQuery)

	if got := post.send(t, two, token, request{hash: h}); got.code != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("replica two before registration: %+v", got)
	}
	if got := post.send(t, one, token, request{query: titlesQuery, hash: h}); got.code != "" {
		t.Fatalf("register on replica one: %+v", got)
	}
	for _, tr := range []transport{post, getT} {
		if got := tr.send(t, two, token, request{hash: h}); got.code != "" || !strings.Contains(string(got.data), "道德讲堂") {
			t.Errorf("%s by hash on replica two: %+v", tr.name, got)
		}
	}

	// Replica two read the document from the database once; from then on
	// its own cache answers: an anonymous query by hash costs no statement.
	anon := `query Anonymous { __typename }`
	if got := post.send(t, one, token, request{query: anon, hash: trusted.Hash(anon)}); got.code != "" {
		t.Fatalf("register on replica one: %+v", got)
	}
	for i, want := range []string{"some", "none"} {
		before := two.Statements.Load()
		if _, res := get(t, two, "", request{hash: trusted.Hash(anon)}); res.answer().code != "" {
			t.Fatalf("anonymous GET by hash on replica two: %+v", res.answer())
		}
		n := two.Statements.Load() - before
		if (want == "none") != (n == 0) {
			t.Errorf("anonymous GET by hash on replica two, request %d: %d SQL statements, want %s", i+1, n, want)
		}
	}
}

// The store stays bounded: past MaxDocuments the least recently used
// documents are evicted (a document in use survives a flood of new ones),
// a document larger than MaxDocumentBytes runs but is not kept, and the
// evicted hash is PERSISTED_QUERY_NOT_FOUND again, which Apollo's link
// answers by registering it anew.
func TestPersistedQueryStoreIsBounded(t *testing.T) {
	const max = 10
	bounds := func(c *app.Config) {
		c.PersistedQueries.MaxDocuments = max
		c.PersistedQueries.MaxDocumentBytes = 200
		c.PersistedQueries.TouchEvery = time.Nanosecond // every hit counts as a use
	}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		post := transports[0]
		stored := func() int { return e.Client.PersistedQuery.Query().CountX(e.Sys()) }

		hot := `query Hot { viewer { displayName } }`
		first := `query First { viewer { displayName } }`
		for _, d := range []string{first, hot} {
			if got := post.send(t, e, token, request{query: d, hash: trusted.Hash(d)}); got.code != "" {
				t.Fatalf("register %s: %+v", d, got)
			}
		}
		for i := range 5 * max {
			d := fmt.Sprintf(`query Flood%d { viewer { displayName } }`, i)
			if got := post.send(t, e, token, request{query: d, hash: trusted.Hash(d)}); got.code != "" {
				t.Fatalf("register %s: %+v", d, got)
			}
			if n := stored(); n > max {
				t.Fatalf("%d documents stored after %d registrations, cap %d", n, i+3, max)
			}
			if got := post.send(t, e, token, request{hash: trusted.Hash(hot)}); got.code != "" {
				t.Fatalf("hot document by hash after %d registrations: %+v", i+3, got)
			}
		}
		kept := func(d string) bool {
			return e.Client.PersistedQuery.Query().Where(persistedquery.Hash(trusted.Hash(d))).ExistX(e.Sys())
		}
		if !kept(hot) || kept(first) {
			t.Errorf("after the flood: the document in use kept %v, the least recently used kept %v", kept(hot), kept(first))
		}
		if e.Backend == "postgres" {
			// This replica's own cache still knows the evicted document;
			// another replica asks the database.
			other := linlitest.NewAt(t, "postgres", e.App.Config.DatabaseURL, bounds)
			if got := post.send(t, other, token, request{hash: trusted.Hash(first)}); got.code != "PERSISTED_QUERY_NOT_FOUND" {
				t.Errorf("the least recently used document, on another replica: %+v", got)
			}
			if got := post.send(t, other, token, request{hash: trusted.Hash(hot)}); got.code != "" {
				t.Errorf("the document in use, on another replica: %+v", got)
			}
		}

		before := stored()
		large := `query Large { viewer { displayName } } # ` + strings.Repeat("x", 200)
		if got := post.send(t, e, token, request{query: large, hash: trusted.Hash(large)}); got.code != "" {
			t.Fatalf("a large document does not run: %+v", got)
		}
		if got := post.send(t, e, token, request{hash: trusted.Hash(large)}); got.code != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("a document over MaxDocumentBytes was kept: %+v", got)
		}
		if n := stored(); n != before {
			t.Errorf("%d documents stored, %d before the large one", n, before)
		}
	}, bounds)
}

// With trusted documents on, the manifest is the only source: a document
// sent with its hash is not registered (an unlisted one is
// OPERATION_NOT_TRUSTED and its hash stays unknown) and nothing is
// written to the store.
func TestTrustedDocumentsRefuseRegistration(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		for _, tr := range transports[:2] {
			for _, ck := range []struct {
				name string
				r    request
				code string
			}{
				{"unlisted with its hash", request{query: untrustedQuery, hash: trusted.Hash(untrustedQuery)}, "OPERATION_NOT_TRUSTED"},
				{"unlisted hash alone", request{hash: trusted.Hash(untrustedQuery)}, "PERSISTED_QUERY_NOT_FOUND"},
				{"listed with its hash", request{query: titlesQuery, hash: trusted.Hash(titlesQuery)}, ""},
				{"listed hash alone", request{hash: trusted.Hash(titlesQuery)}, ""},
			} {
				if got := tr.send(t, e, token, ck.r); got.code != ck.code {
					t.Errorf("%s, %s: code %q, want %q", tr.name, ck.name, got.code, ck.code)
				}
			}
		}
		if n := e.Client.PersistedQuery.Query().CountX(e.Sys()); n != 0 {
			t.Errorf("%d documents stored with trusted documents on", n)
		}
	}, withTrusted(trusted.Manifest{trusted.Hash(titlesQuery): titlesQuery}))
}

// With persisted queries switched off, a hash alone is
// PERSISTED_QUERY_NOT_SUPPORTED (Apollo's link then stops sending hashes)
// and a document with its hash runs, registering nothing.
func TestPersistedQueriesOff(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		post := transports[0]
		h := trusted.Hash(titlesQuery)
		if got := post.send(t, e, token, request{query: titlesQuery, hash: h}); got.code != "" {
			t.Errorf("document with its hash: %+v", got)
		}
		if got := post.send(t, e, token, request{hash: h}); got.code != "PERSISTED_QUERY_NOT_SUPPORTED" {
			t.Errorf("hash alone: %+v", got)
		}
		if n := e.Client.PersistedQuery.Query().CountX(e.Sys()); n != 0 {
			t.Errorf("%d documents stored with persisted queries off", n)
		}
	}, func(c *app.Config) { c.NoPersistedQueries = true })
}

// GET answers say how they may be cached: by default no-store; with a max
// age, a successful anonymous answer is public and an authenticated one
// private (no shared cache may hand it to someone else), both varying on
// Authorization and Accept; an answer with errors is never stored.
func TestGetCaching(t *testing.T) {
	anon := `query Anonymous { __typename }`
	for _, maxAge := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprint(maxAge), func(t *testing.T) {
			linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
				c := e.Community(t, "前进社区")
				_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
				if got := transports[0].send(t, e, token, request{query: anon, hash: trusted.Hash(anon)}); got.code != "" {
					t.Fatalf("register: %+v", got)
				}
				public, private := "public, max-age=60", "private, max-age=60"
				if maxAge == 0 {
					public, private = "no-store", "no-store"
				}
				for _, ck := range []struct {
					name, token string
					r           request
					want        string
				}{
					{"anonymous, by hash", "", request{hash: trusted.Hash(anon)}, public},
					{"anonymous, in full", "", request{query: anon}, public},
					{"authenticated, by hash", token, request{hash: trusted.Hash(anon)}, private},
					{"unknown hash", "", request{hash: trusted.Hash("query Other { __typename }")}, "no-store"},
					{"an error", token, request{query: `query { activities(first: 500) { totalCount } }`}, "no-store"},
				} {
					resp, res := get(t, e, ck.token, ck.r)
					if cc := resp.Header.Get("Cache-Control"); cc != ck.want {
						t.Errorf("%s: Cache-Control %q, want %q (answer %+v)", ck.name, cc, ck.want, res.answer())
					}
					vary := strings.Join(resp.Header.Values("Vary"), ", ")
					if !strings.Contains(vary, "Authorization") || !strings.Contains(vary, "Accept") {
						t.Errorf("%s: Vary %q", ck.name, vary)
					}
				}
			}, func(c *app.Config) { c.GraphQL.GetMaxAge = maxAge })
		})
	}
}
