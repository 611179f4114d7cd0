package live_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
)

const regUpdates = `subscription { myRegistrationUpdates { change } }`

// One socket runs at most MaxSubscriptionsPerSocket subscriptions: one more
// is refused with RATE_LIMITED and costs nothing; finishing one makes room.
// Queries still run on a full socket.
func TestSubscriptionsPerSocketBounded(t *testing.T) {
	five := func(c *app.Config) { c.Live.MaxSubscriptionsPerSocket = 5 }
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		ws := connect(t, e.Server.URL, token)
		for i := range 5 {
			ws.subscribe(fmt.Sprint(i), regUpdates, nil)
		}
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 5 }, "five subscribed")
		for i := 5; i < 55; i++ {
			if code := errorCode(ws.op(fmt.Sprint(i), regUpdates, nil)); code != "RATE_LIMITED" {
				t.Fatalf("subscription %d on one socket: want RATE_LIMITED, got %s", i+1, code)
			}
		}
		if n := e.App.Live.Stats().RegistrationSubscribers; n != 5 {
			t.Fatalf("%d subscribers after 50 refusals, want 5", n)
		}
		var v struct{ Viewer struct{ DisplayName string } }
		ws.data(ws.op("q", `{ viewer { displayName } }`, nil), &v)
		if v.Viewer.DisplayName != "居民" {
			t.Fatalf("a query on a full socket: %+v", v)
		}
		ws.complete("0")
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 4 }, "one completed")
		ws.subscribe("again", regUpdates, nil)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 5 }, "room for one more")
		// Another socket of the same person has its own bound.
		other := connect(t, e.Server.URL, token)
		other.subscribe("1", regUpdates, nil)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 6 }, "another socket's subscription")
	}, five)
}

// One person holds at most MaxConnectionsPerPerson live connections
// (websockets and SSE streams together) on a replica: one more socket is
// closed with 4429, one more stream answered 429 RATE_LIMITED; other tokens
// are unaffected; closing one makes room; refused attempts leave nothing
// behind.
func TestConnectionsPerPersonBounded(t *testing.T) {
	three := func(c *app.Config) { c.Live.MaxConnectionsPerPerson = 3 }
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		resident, token := e.Person(t, c.ID, "居民")
		_, other := e.Person(t, c.ID, "邻居")
		a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		time.Sleep(100 * time.Millisecond)
		baseline := runtime.NumGoroutine()

		first := connect(t, e.Server.URL, token)
		second := connect(t, e.Server.URL, token)
		stream := openSSE(t, e.Server.URL, token, countsQuery, map[string]any{"id": id(a.ID)})
		firstCounts(t, stream, a.ID)
		for range 30 {
			ws, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			ws.init(token)
			if code := ws.closeCode(5 * time.Second); code != 4429 {
				t.Fatalf("a fourth connection of one token: want close 4429, got %d", code)
			}
			ws.c.Close()
			s := openSSE(t, e.Server.URL, token, countsQuery, map[string]any{"id": id(a.ID)})
			var refusal linlitest.Result
			if s.status != http.StatusTooManyRequests || json.Unmarshal(s.body, &refusal) != nil || refusal.Code() != "RATE_LIMITED" {
				t.Fatalf("a fourth connection of one token over SSE: %d %s", s.status, s.body)
			}
		}
		// A new session of the same person (another login) shares the
		// person's bound: logging in again does not buy more sockets.
		again, err := e.App.Auth.IssueToken(e.Sys(), resident.ID)
		if err != nil {
			t.Fatal(err)
		}
		ws, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		ws.init(again.Token)
		if code := ws.closeCode(5 * time.Second); code != 4429 {
			t.Fatalf("a fourth connection of one person on a new session: want close 4429, got %d", code)
		}
		ws.c.Close()
		if n := e.App.LiveConnections(); n != 3 {
			t.Fatalf("%d live connections after 61 refusals, want 3", n)
		}
		// Another person's token has its own bound.
		neighbour := connect(t, e.Server.URL, other)
		// Closing one makes room for one.
		first.c.Close()
		waitFor(t, 3*time.Second, func() bool { return e.App.LiveConnections() == 3 }, "the closed socket released")
		last := connect(t, e.Server.URL, token)
		last.c.Close()

		second.c.Close()
		neighbour.c.Close()
		stream.close()
		http.DefaultClient.CloseIdleConnections()
		waitFor(t, 5*time.Second, func() bool { return e.App.LiveConnections() == 0 }, "every connection released")
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > baseline+2 {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutines: %d before, %d after\n%s", baseline, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}, three)
}
