package live_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
	"linli/trusted"
	"linli/viewer"
)

// sseClient speaks graphql-sse's single-connection mode by hand.
type sseClient struct {
	t      *testing.T
	url    string
	bearer string
	token  string // the reservation's
}

func (c *sseClient) do(method, path string, header http.Header, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.url+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.token != "" {
		req.Header.Set("X-GraphQL-Event-Stream-Token", c.token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// reserve PUTs a reservation as bearer.
func reserve(t *testing.T, serverURL, bearer string) *sseClient {
	t.Helper()
	c := &sseClient{t: t, url: serverURL, bearer: bearer}
	status, body := c.do(http.MethodPut, "/graphql", nil, nil)
	if status != http.StatusCreated || len(body) < 32 {
		t.Fatalf("PUT reservation: %d %s", status, body)
	}
	c.token = string(body)
	return c
}

// streamEvent is one event of a single-connection stream.
type streamEvent struct {
	Event string
	ID    string `json:"id"`
	// Payload is the execution result of a next event.
	Payload *linlitest.Result `json:"payload"`
}

type openStream struct {
	events <-chan streamEvent
	close  func()
}

// open opens the reservation's stream (GET, with the token in the header).
func (c *sseClient) open() *openStream {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+"/graphql", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.bearer)
	req.Header.Set("X-GraphQL-Event-Stream-Token", c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("open stream: %d %s", resp.StatusCode, b)
	}
	return &openStream{events: readStream(resp.Body), close: func() { resp.Body.Close() }}
}

func readStream(r io.Reader) <-chan streamEvent {
	out := make(chan streamEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "event: "); ok {
				name = n
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				ev := streamEvent{Event: name}
				_ = json.Unmarshal([]byte(d), &ev)
				out <- ev
			}
		}
	}()
	return out
}

func (s *openStream) next(t *testing.T, what string) streamEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("%s: the stream ended", what)
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no event", what)
	}
	return streamEvent{}
}

func (s *openStream) ends(t *testing.T, d time.Duration, what string) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			t.Fatalf("%s: the stream delivered %+v", what, ev)
		case <-timeout:
			t.Fatalf("%s: the stream is still open after %v", what, d)
		}
	}
}

// post sends an operation with operationId and returns the status and body.
func (c *sseClient) post(opID, query string, vars map[string]any) (int, []byte) {
	c.t.Helper()
	body := map[string]any{"query": query, "variables": vars}
	if opID != "" {
		body["extensions"] = map[string]any{"operationId": opID}
	}
	return c.do(http.MethodPost, "/graphql", nil, body)
}

func (c *sseClient) accept(opID, query string, vars map[string]any) {
	c.t.Helper()
	if status, body := c.post(opID, query, vars); status != http.StatusAccepted {
		c.t.Fatalf("POST %s: %d %s", opID, status, body)
	}
}

func refusedWith(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var r linlitest.Result
	if status != wantStatus || json.Unmarshal(body, &r) != nil || r.Code() != wantCode {
		t.Fatalf("%s: %d %s, want %d %s", what, status, body, wantStatus, wantCode)
	}
}

// graphql-sse's single-connection mode end to end: a reservation belongs to
// the credential that made it, a query, a mutation and a subscription run
// on it with their ids, the subscription sees the mutation's change, DELETE
// stops it, and refusals are coded.
func TestSSESingleConnection(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		_, other := e.Person(t, c.ID, "邻居")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})

		anon := &sseClient{t: t, url: e.Server.URL}
		status, body := anon.do(http.MethodPut, "/graphql", nil, nil)
		refusedWith(t, "anonymous PUT", status, body, http.StatusUnauthorized, "UNAUTHENTICATED")

		mine := reserve(t, e.Server.URL, token)
		// Another credential cannot use the token in any way.
		thief := &sseClient{t: t, url: e.Server.URL, bearer: other, token: mine.token}
		status, body = thief.do(http.MethodGet, "/graphql", http.Header{"Accept": {"text/event-stream"}}, nil)
		refusedWith(t, "another token opening the stream", status, body, http.StatusNotFound, "NOT_FOUND")
		status, body = thief.post("x", `{ viewer { displayName } }`, nil)
		refusedWith(t, "another token posting to the stream", status, body, http.StatusNotFound, "NOT_FOUND")
		status, body = thief.do(http.MethodDelete, "/graphql?operationId=x", nil, nil)
		refusedWith(t, "another token deleting on the stream", status, body, http.StatusNotFound, "NOT_FOUND")

		// Nor can a request without one, but for an EventSource opening the
		// stream with the token in the URL.
		nobody := &sseClient{t: t, url: e.Server.URL, token: mine.token}
		status, body = nobody.do(http.MethodGet, "/graphql", http.Header{"Accept": {"text/event-stream"}}, nil)
		refusedWith(t, "no token opening the stream by header", status, body, http.StatusNotFound, "NOT_FOUND")
		status, body = nobody.post("x", `{ viewer { displayName } }`, nil)
		refusedWith(t, "no token posting to the stream", status, body, http.StatusNotFound, "NOT_FOUND")
		status, body = nobody.do(http.MethodDelete, "/graphql?operationId=x", nil, nil)
		refusedWith(t, "no token deleting on the stream", status, body, http.StatusNotFound, "NOT_FOUND")

		stream := mine.open()
		status, body = mine.do(http.MethodGet, "/graphql", http.Header{"Accept": {"text/event-stream"}}, nil)
		refusedWith(t, "a second stream on one reservation", status, body, http.StatusConflict, "CONFLICT")

		mine.accept("q1", `{ viewer { displayName } }`, nil)
		ev := stream.next(t, "query")
		if ev.Event != "next" || ev.ID != "q1" || ev.Payload == nil || !strings.Contains(string(ev.Payload.Data), "居民") {
			t.Fatalf("query result %+v", ev)
		}
		if ev := stream.next(t, "query complete"); ev.Event != "complete" || ev.ID != "q1" {
			t.Fatalf("after the query %+v", ev)
		}

		mine.accept("s1", countsQuery, map[string]any{"id": id(a.ID)})
		ev = stream.next(t, "subscription snapshot")
		var counts countsMsg
		if ev.Event != "next" || ev.ID != "s1" || json.Unmarshal(ev.Payload.Data, &counts) != nil || counts.ActivityCounts.Slots[0].Taken != 0 {
			t.Fatalf("first counts %+v", ev)
		}
		mine.accept("m1", signUpMutation, map[string]any{"slot": id(slots[0].ID)})
		got := map[string]bool{}
		for len(got) < 3 {
			ev := stream.next(t, "mutation and change")
			switch {
			case ev.Event == "next" && ev.ID == "m1" && strings.Contains(string(ev.Payload.Data), "CONFIRMED"):
				got["mutation"] = true
			case ev.Event == "complete" && ev.ID == "m1":
				got["complete"] = true
			case ev.Event == "next" && ev.ID == "s1" && json.Unmarshal(ev.Payload.Data, &counts) == nil && counts.ActivityCounts.Slots[0].Taken == 1:
				got["change"] = true
			default:
				t.Fatalf("unexpected %+v (have %v)", ev, got)
			}
		}

		status, body = mine.post("", `{ viewer { id } }`, nil)
		refusedWith(t, "no operationId", status, body, http.StatusBadRequest, "VALIDATION_FAILED")
		status, body = mine.post("bad", `{ nope }`, nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), "nope") {
			t.Fatalf("invalid query: %d %s", status, body)
		}
		status, body = mine.post("s1", countsQuery, map[string]any{"id": id(a.ID)})
		refusedWith(t, "a running operationId again", status, body, http.StatusConflict, "CONFLICT")

		if status, body := mine.do(http.MethodDelete, "/graphql?operationId=s1", nil, nil); status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", status, body)
		}
		waitFor(t, 3*time.Second, func() bool {
			s := e.App.Live.Stats()
			return s.CountsSubscribers+s.FastCountsSubscribers == 0
		}, "the subscription stopped")
		newResidents(t, e, c.ID, 1).signUp(t, slots[0].ID)
		mine.accept("q2", `{ viewer { displayName } }`, nil)
		if ev := stream.next(t, "after DELETE"); ev.ID != "q2" {
			t.Fatalf("after DELETE the stream delivered %+v before the next query", ev)
		}

		// The client leaving ends the reservation and releases the credential.
		stream.close()
		waitFor(t, 3*time.Second, func() bool { return e.App.LiveConnections() == 0 }, "the reservation released")
		status, body = mine.post("q3", `{ viewer { id } }`, nil)
		refusedWith(t, "a closed stream's token", status, body, http.StatusNotFound, "NOT_FOUND")
	})
}

// A reservation is a live connection of its credential: it counts towards
// the per-credential bound, expires unopened, its stream holds the socket's
// subscription cap, and logout and demotion end it at once.
func TestSSESingleConnectionFollowsCredential(t *testing.T) {
	opts := func(c *app.Config) {
		c.Live.MaxConnectionsPerPerson = 2
		c.Live.MaxSubscriptionsPerSocket = 2
		c.Live.StreamReservationTimeout = 300 * time.Millisecond
		c.Live.SessionCheckInterval = time.Hour
	}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, boss := e.Person(t, c.ID, "站长", viewer.Coordinator)
		coord, token := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "居民")
		a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})

		// Unopened reservations expire and give their place back.
		first, second := reserve(t, e.Server.URL, token), reserve(t, e.Server.URL, token)
		status, body := (&sseClient{t: t, url: e.Server.URL, bearer: token}).do(http.MethodPut, "/graphql", nil, nil)
		refusedWith(t, "a third reservation", status, body, http.StatusTooManyRequests, "RATE_LIMITED")
		waitFor(t, 3*time.Second, func() bool { return e.App.LiveConnections() == 0 }, "unopened reservations expired")
		status, body = first.do(http.MethodGet, "/graphql", http.Header{"Accept": {"text/event-stream"}}, nil)
		refusedWith(t, "an expired reservation", status, body, http.StatusNotFound, "NOT_FOUND")
		_ = second

		// The socket's subscription cap holds on a stream.
		mine := reserve(t, e.Server.URL, token)
		stream := mine.open()
		for _, op := range []string{"a", "b"} {
			mine.accept(op, countsQuery, map[string]any{"id": id(a.ID)})
			if ev := stream.next(t, "snapshot "+op); ev.ID != op || len(ev.Payload.Errors) != 0 {
				t.Fatalf("subscription %s: %+v", op, ev)
			}
		}
		mine.accept("c", countsQuery, map[string]any{"id": id(a.ID)})
		if ev := stream.next(t, "third subscription"); ev.ID != "c" || ev.Payload.Code() != "RATE_LIMITED" {
			t.Fatalf("a third subscription on one stream: %+v", ev)
		}
		if ev := stream.next(t, "refusal complete"); ev.Event != "complete" || ev.ID != "c" {
			t.Fatalf("after the refusal: %+v", ev)
		}

		// Demotion ends the stream at once (the re-check is an hour away).
		e.Do(t, boss, setRoles, map[string]any{"p": id(coord.ID), "r": []string{"RESIDENT"}}).Decode(t, &struct{}{})
		stream.ends(t, 2*time.Second, "after the demotion")
		waitFor(t, 3*time.Second, func() bool { return e.App.LiveConnections() == 0 }, "the demoted stream released")

		// Logout ends the stream.
		theirs := reserve(t, e.Server.URL, resident)
		s2 := theirs.open()
		e.Do(t, resident, `mutation { logout }`, nil).Decode(t, &struct{}{})
		s2.ends(t, 2*time.Second, "after logout")
	}, opts)
}

// GET in the distinct-connections mode, so a browser's EventSource can
// subscribe: the operation in the query string, errors as next events, no
// mutations; authenticated by the Authorization header (fetch-based
// clients) or, for EventSource, by a reservation used as a one-time ticket.
func TestSSEGetDistinct(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		vars, _ := json.Marshal(map[string]any{"id": id(a.ID)})
		get := func(query, vars, bearer, ticket string) (*http.Response, <-chan string) {
			t.Helper()
			q := url.Values{"query": {query}}
			if vars != "" {
				q.Set("variables", vars)
			}
			if ticket != "" {
				q.Set("token", ticket)
			}
			req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?"+q.Encode(), nil)
			req.Header.Set("Accept", "text/event-stream")
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp, sseEvents(resp.Body)
		}
		first := func(events <-chan string, what string) linlitest.Result {
			t.Helper()
			select {
			case ev := <-events:
				var r linlitest.Result
				if err := json.Unmarshal([]byte(ev), &r); err != nil {
					t.Fatalf("%s: %q", what, ev)
				}
				return r
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: no event", what)
			}
			return linlitest.Result{}
		}

		resp, events := get(countsQuery, string(vars), token, "")
		if resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("GET subscription: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var counts countsMsg
		if r := first(events, "with the bearer header"); json.Unmarshal(r.Data, &counts) != nil || counts.ActivityCounts.ActivityID != id(a.ID) {
			t.Fatalf("GET subscription: %+v", r)
		}
		newResidents(t, e, c.ID, 1).signUp(t, slots[0].ID)
		if r := first(events, "after a sign-up"); json.Unmarshal(r.Data, &counts) != nil || counts.ActivityCounts.Slots[0].Taken != 1 {
			t.Fatalf("GET subscription after a sign-up: %+v", r)
		}

		// An EventSource sends no header: anonymous, it may read nothing here.
		_, events = get(countsQuery, string(vars), "", "")
		if r := first(events, "anonymous"); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("anonymous GET subscription: %+v", r)
		}
		// With a reservation as its ticket it runs as the reservation's credential, once.
		ticket := reserve(t, e.Server.URL, token).token
		_, events = get(countsQuery, string(vars), "", ticket)
		if r := first(events, "with a ticket"); json.Unmarshal(r.Data, &counts) != nil || counts.ActivityCounts.Slots[0].Taken != 1 {
			t.Fatalf("GET subscription with a ticket: %+v", r)
		}
		if e.App.LiveConnections() != 2 {
			t.Fatalf("%d live connections, want the header's stream and the ticket's", e.App.LiveConnections())
		}
		resp, _ = get(countsQuery, string(vars), "", ticket)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a ticket used twice: %d", resp.StatusCode)
		}

		// An EventSource may also open a single-connection stream with the
		// reservation in the URL; the operations are its page's, POSTed with
		// the bearer token.
		owner := reserve(t, e.Server.URL, token)
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?token="+owner.token, nil)
		req.Header.Set("Accept", "text/event-stream")
		esResp, err := http.DefaultClient.Do(req)
		if err != nil || esResp.StatusCode != http.StatusOK {
			t.Fatalf("EventSource opening a single-connection stream: %v %v", esResp, err)
		}
		t.Cleanup(func() { esResp.Body.Close() })
		es := &openStream{events: readStream(esResp.Body)}
		owner.accept("q", `{ viewer { displayName } }`, nil)
		if ev := es.next(t, "query on the EventSource's stream"); ev.ID != "q" || !strings.Contains(string(ev.Payload.Data), "居民") {
			t.Fatalf("the EventSource's stream: %+v", ev)
		}

		// complete carries an empty data line, so an EventSource dispatches it.
		resp, _ = get(`{ viewer { displayName } }`, "", token, "")
		raw, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(raw), "event: next\ndata: {\"data\":{\"viewer\"") || !strings.HasSuffix(string(raw), "event: complete\ndata:\n\n") {
			t.Fatalf("a query over GET SSE: %q", raw)
		}

		_, events = get(signUpMutation, `{"slot":"`+id(slots[0].ID)+`"}`, token, "")
		if r := first(events, "a mutation"); r.Code() != "VALIDATION_FAILED" {
			t.Fatalf("mutation over GET SSE: %+v", r)
		}
		_, events = get(`subscription { nope }`, "", token, "")
		if r := first(events, "invalid"); len(r.Errors) == 0 {
			t.Fatalf("invalid GET subscription: %+v", r)
		}
	})
}

// The server's rules hold on the single-connection path as on every other:
// the body limit, trusted documents, and the operation timeout for queries
// and mutations while subscriptions live on.
func TestSSESingleConnectionHoldsServerRules(t *testing.T) {
	const viewerQ = `{ viewer { displayName } }`
	rules := func(c *app.Config) {
		c.GraphQL.TrustedDocuments = trusted.Manifest{trusted.Hash(countsQuery): countsQuery, trusted.Hash(viewerQ): viewerQ}
		// Every query and mutation runs past its deadline.
		c.GraphQL.Timeout = time.Nanosecond
	}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		mine := reserve(t, e.Server.URL, token)
		stream := mine.open()

		status, body := mine.post("big", `{ viewer { id } }`, map[string]any{"pad": strings.Repeat("x", 300<<10)})
		refusedWith(t, "a body over the limit", status, body, http.StatusRequestEntityTooLarge, "VALIDATION_FAILED")
		status, body = mine.post("untrusted", `{ viewer { id } }`, nil)
		refusedWith(t, "an unlisted document", status, body, http.StatusBadRequest, "OPERATION_NOT_TRUSTED")

		mine.accept("s", countsQuery, map[string]any{"id": id(a.ID)})
		if ev := stream.next(t, "subscription"); ev.ID != "s" || len(ev.Payload.Errors) != 0 {
			t.Fatalf("a listed subscription past the operation timeout: %+v", ev)
		}
		mine.accept("q", viewerQ, nil)
		if ev := stream.next(t, "query"); ev.ID != "q" || ev.Payload.Code() != "TIMEOUT" {
			t.Fatalf("a query past its deadline: %+v", ev)
		}
	}, rules)
}
