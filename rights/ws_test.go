package rights_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/linlitest"
)

// wsClient is a small graphql-transport-ws client.
type wsClient struct {
	t testing.TB
	c *websocket.Conn
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dial(t testing.TB, e *linlitest.Env, token string) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.Server.URL, "http")+"/graphql", http.Header{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	ws := &wsClient{t: t, c: c}
	p, _ := json.Marshal(map[string]string{"authToken": token})
	ws.send(wsMsg{Type: "connection_init", Payload: p})
	if m, err := ws.read(5 * time.Second); err != nil || m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v %v", m, err)
	}
	return ws
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	if err := c.c.WriteJSON(m); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(wsMsg{ID: id, Type: "subscribe", Payload: p})
}

// read returns the next message other than pings, or an error (a timeout,
// a close).
func (c *wsClient) read(timeout time.Duration) (wsMsg, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		var m wsMsg
		if err := c.c.ReadJSON(&m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			c.send(wsMsg{Type: "pong"})
			continue
		case "pong", "ka":
			continue
		}
		return m, nil
	}
}
