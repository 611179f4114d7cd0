package live_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/linlitest"
)

// upgradeSpelling rewrites the Upgrade header of a websocket handshake on
// its way out: gorilla's client always writes "websocket", but servers must
// take any header that lists it among other tokens, as gorilla's server does.
type upgradeSpelling struct {
	net.Conn
	spelt []byte
	done  bool
}

func (c *upgradeSpelling) Write(b []byte) (int, error) {
	if !c.done {
		if i := bytes.Index(b, []byte("Upgrade: websocket\r\n")); i >= 0 {
			c.done = true
			out := append(append(append([]byte{}, b[:i]...), c.spelt...), b[i+len("Upgrade: websocket\r\n"):]...)
			if _, err := c.Conn.Write(out); err != nil {
				return 0, err
			}
			return len(b), nil
		}
	}
	return c.Conn.Write(b)
}

// A socket is watched however its Upgrade header is spelt: one opened with
// "Upgrade: foo, websocket" counts toward the live connections and closes at
// its session's logout like any other (it used to bypass the watch, the caps
// and the session's end: issue 9's attacker review).
func TestEverySpellingOfUpgradeIsWatched(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		for _, spelt := range []string{"foo, websocket", "websocket, h2c", "WebSocket"} {
			_, token := e.Person(t, c.ID, "居民")
			d := websocket.Dialer{
				Subprotocols:     []string{"graphql-transport-ws"},
				HandshakeTimeout: 5 * time.Second,
				NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return &upgradeSpelling{Conn: conn, spelt: []byte("Upgrade: " + spelt + "\r\n")}, nil
				},
			}
			conn, _, err := d.Dial(wsURL(e.Server.URL), nil)
			if err != nil {
				t.Fatalf("Upgrade: %s: %v", spelt, err)
			}
			ws := &wsClient{t: t, c: conn}
			t.Cleanup(func() { conn.Close() })
			ws.init(token)
			if m := ws.next(5 * time.Second); m.Type != "connection_ack" {
				t.Fatalf("Upgrade: %s: want connection_ack, got %+v", spelt, m)
			}
			if n := e.App.LiveConnections(); n != 1 {
				t.Fatalf("Upgrade: %s: %d watched live connections, want 1", spelt, n)
			}
			e.Do(t, token, `mutation { logout }`, nil)
			if code := ws.closeCode(3 * time.Second); code != 4403 {
				t.Fatalf("Upgrade: %s: after logout the socket closed with %d, want 4403", spelt, code)
			}
			waitFor(t, 3*time.Second, func() bool { return e.App.LiveConnections() == 0 }, "the socket released")
		}
	})
}
