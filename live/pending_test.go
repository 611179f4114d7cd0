package live_test

import (
	"net/http"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
)

// One address holds at most MaxPendingPerAddress websockets that have not
// sent connection_init (anonymous sockets each held for the init timeout
// once took 7,649 sockets and +280 MB from one client): one more upgrade is
// 429 RATE_LIMITED; a socket that signs in frees its place, and so does one
// that closes.
func TestPendingSocketsPerAddressBounded(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		var waiting []*wsClient
		for range 3 {
			ws, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			waiting = append(waiting, ws)
		}
		for range 20 {
			_, resp, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
			if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("a fourth socket waiting for connection_init: %v, %+v", err, resp)
			}
		}
		// Signing in frees the place.
		waiting[0].init(token)
		if m := waiting[0].next(5 * time.Second); m.Type != "connection_ack" {
			t.Fatalf("want connection_ack, got %+v", m)
		}
		ws, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatalf("after one signed in: %v", err)
		}
		// So does closing.
		ws.c.Close()
		waiting[1].c.Close()
		waitFor(t, 3*time.Second, func() bool {
			c, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
			if err != nil {
				return false
			}
			c.c.Close()
			return true
		}, "a closed waiting socket frees its place")
	}, func(c *app.Config) { c.Live.MaxPendingPerAddress = 3 })
}
