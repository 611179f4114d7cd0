package wsgorilla

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A socket served detached outlives the request's handler: the handler
// returns once the connection is hijacked, the socket keeps working, and
// the request's context ends only when the socket's handler returns.
func TestServeDetached(t *testing.T) {
	outerDone := make(chan struct{}, 1)
	innerCtx := make(chan context.Context, 1)
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeDetached(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") == "" {
				w.Header().Set("X-Inner", "yes")
				w.WriteHeader(http.StatusTeapot)
				_, _ = io.WriteString(w, "not a socket")
				return
			}
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			innerCtx <- r.Context()
			defer c.Close()
			for {
				mt, b, err := c.ReadMessage()
				if err != nil {
					return
				}
				// Writes after the hijack do not reach the old writer.
				if _, err := w.Write([]byte("x")); err != http.ErrHijacked {
					t.Errorf("write after hijack: %v", err)
				}
				_ = c.WriteMessage(mt, append([]byte("echo "), b...))
			}
		}))
		outerDone <- struct{}{}
	}))
	defer hs.Close()

	// A request that does not upgrade is answered as usual.
	resp, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Inner") != "yes" || string(body) != "not a socket" {
		t.Fatalf("plain request: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	<-outerDone

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-outerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the request's handler did not return after the upgrade")
	}
	ctx := <-innerCtx
	for _, msg := range []string{"one", "two"} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, b, err := c.ReadMessage(); err != nil || string(b) != "echo "+msg {
			t.Fatalf("after the handler returned: %q, %v", b, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the socket's context ended with the request's handler")
	}
	c.Close()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the socket's context did not end when its handler returned")
	}
}
