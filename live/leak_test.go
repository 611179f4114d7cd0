package live_test

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/linlitest"
	"linli/live"
)

// A thousand subscribe/unsubscribe cycles, ended every way a client ends
// them (complete message, closing the socket politely, dropping it), leave
// no goroutine, watcher or subscriber behind.
func TestSubscribeCyclesLeaveNoGoroutines(t *testing.T) {
	linlitest.Slow(t)
	e := linlitest.New(t, "sqlite")
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	vars := map[string]any{"id": id(a.ID)}

	// Warm up pools and caches that legitimately stay.
	ws := connect(t, e.Server.URL, token)
	ws.subscribe("w", countsQuery, vars)
	ws.nextFor("w", 5*time.Second)
	ws.complete("w")
	ws.c.Close()
	waitFor(t, 5*time.Second, func() bool { return e.App.Live.Stats() == live.Stats{} }, "warm-up released")
	time.Sleep(100 * time.Millisecond)
	e.Server.Client().CloseIdleConnections()
	baseline := runtime.NumGoroutine()

	const cycles = 1000
	var conn *wsClient
	for i := range cycles {
		if conn == nil {
			conn = connect(t, e.Server.URL, token)
		}
		sid := fmt.Sprint(i)
		if i%3 == 0 {
			conn.subscribe(sid, `subscription { myRegistrationUpdates { change } }`, nil)
		} else {
			conn.subscribe(sid, countsQuery, vars)
			conn.nextFor(sid, 5*time.Second)
		}
		switch i % 10 {
		case 7: // close politely
			_ = conn.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			conn.c.Close()
			conn = nil
		case 9: // vanish
			conn.c.Close()
			conn = nil
		default:
			conn.complete(sid)
		}
	}
	if conn != nil {
		conn.c.Close()
	}
	waitFor(t, 10*time.Second, func() bool {
		s := e.App.Live.Stats()
		return s.Activities == 0 && s.CountsSubscribers == 0 && s.RegistrationSubscribers == 0
	}, "every subscriber released")
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+2 {
			t.Logf("goroutines: baseline %d, after %d cycles %d", baseline, cycles, n)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: baseline %d, after %d cycles still %d\n%s", baseline, cycles, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The same for graphql-sse's single-connection mode: 200 reservations, each
// opened, running a subscription and a query, and ended every way (DELETE
// then leaving, leaving with the subscription running, expiring unopened),
// leave no goroutine, subscriber or live connection behind.
func TestSSEStreamCyclesLeaveNoGoroutines(t *testing.T) {
	linlitest.Slow(t)
	e := linlitest.New(t, "sqlite", func(c *app.Config) { c.Live.StreamReservationTimeout = 50 * time.Millisecond })
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	vars := map[string]any{"id": id(a.ID)}
	cycle := func(i int) {
		s := reserve(t, e.Server.URL, token)
		if i%4 == 3 {
			return // expires unopened
		}
		stream := s.open()
		s.accept("s", countsQuery, vars)
		stream.next(t, "snapshot")
		s.accept("q", `{ viewer { id } }`, nil)
		for ev := stream.next(t, "query"); ev.ID != "q" || ev.Event != "complete"; ev = stream.next(t, "query") {
		}
		if i%2 == 0 {
			if status, body := s.do(http.MethodDelete, "/graphql?operationId=s", nil, nil); status != http.StatusOK {
				t.Fatalf("DELETE: %d %s", status, body)
			}
		}
		stream.close()
	}
	cycle(0)
	waitFor(t, 5*time.Second, func() bool { return e.App.Live.Stats() == live.Stats{} && e.App.LiveConnections() == 0 }, "warm-up released")
	time.Sleep(100 * time.Millisecond)
	http.DefaultClient.CloseIdleConnections()
	baseline := runtime.NumGoroutine()

	const cycles = 200
	for i := range cycles {
		cycle(i)
	}
	waitFor(t, 10*time.Second, func() bool {
		return e.App.Live.Stats() == live.Stats{} && e.App.LiveConnections() == 0
	}, "every subscriber and reservation released")
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline+2 {
			t.Logf("goroutines: baseline %d, after %d cycles %d", baseline, cycles, n)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: baseline %d, after %d cycles still %d\n%s", baseline, cycles, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
