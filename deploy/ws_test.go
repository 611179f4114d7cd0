package deploy_test

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// wsMsg is a graphql-transport-ws message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsSubscribe dials ws://addr/graphql (from the client address xff, which
// the proxy passes on in X-Forwarded-For), completes connection_init with
// token and subscribes to query.
func wsSubscribe(addr, xff, token, query string, vars map[string]any) (*websocket.Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	h := http.Header{}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	c, resp, err := d.Dial("ws://"+addr+"/graphql", h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	init, _ := json.Marshal(map[string]string{"authToken": token})
	sub, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	for _, m := range []wsMsg{{Type: "connection_init", Payload: init}, {ID: "1", Type: "subscribe", Payload: sub}} {
		if err := c.WriteJSON(m); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// wsNext returns the next message other than keep-alives (answering pings).
func wsNext(c *websocket.Conn, timeout time.Duration) (wsMsg, error) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	for {
		var m wsMsg
		if err := c.ReadJSON(&m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			_ = c.WriteJSON(wsMsg{Type: "pong"})
		case "pong", "ka", "connection_ack":
		default:
			return m, nil
		}
	}
}
