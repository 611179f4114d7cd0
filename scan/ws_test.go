package scan_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// subscription reads one graphql-transport-ws subscription in the
// background and keeps every payload it receives.
type subscription struct {
	t    *testing.T
	conn *websocket.Conn
	mu   sync.Mutex
	msgs []json.RawMessage
	errs []string
	more chan struct{}
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe opens a socket as token and starts query.
func (s *site) subscribe(t *testing.T, token, query string, vars map[string]any) *subscription {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(s.e.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	init, _ := json.Marshal(map[string]string{"authToken": token})
	sub, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := c.WriteJSON(wsMsg{Type: "connection_init", Payload: init}); err != nil {
		t.Fatal(err)
	}
	var ack wsMsg
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", ack, err)
	}
	_ = c.SetReadDeadline(time.Time{})
	if err := c.WriteJSON(wsMsg{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
		t.Fatal(err)
	}
	sn := &subscription{t: t, conn: c, more: make(chan struct{}, 1)}
	go sn.read()
	return sn
}

func (sn *subscription) read() {
	for {
		var m wsMsg
		if err := sn.conn.ReadJSON(&m); err != nil {
			return
		}
		sn.mu.Lock()
		switch m.Type {
		case "next":
			var p struct {
				Data   json.RawMessage
				Errors []struct{ Message string }
			}
			_ = json.Unmarshal(m.Payload, &p)
			for _, e := range p.Errors {
				sn.errs = append(sn.errs, e.Message)
			}
			if p.Data != nil && string(p.Data) != "null" {
				sn.msgs = append(sn.msgs, p.Data)
			}
		case "error":
			sn.errs = append(sn.errs, string(m.Payload))
		case "ping":
			_ = sn.conn.WriteJSON(wsMsg{Type: "pong"})
		}
		sn.mu.Unlock()
		select {
		case sn.more <- struct{}{}:
		default:
		}
	}
}

// waitFor waits until ok holds for the messages received so far.
func (sn *subscription) waitFor(what string, ok func(msgs []json.RawMessage) bool) {
	sn.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		sn.mu.Lock()
		msgs, errs := append([]json.RawMessage(nil), sn.msgs...), sn.errs
		sn.mu.Unlock()
		if len(errs) > 0 {
			sn.t.Fatalf("subscription errors: %v", errs)
		}
		if ok(msgs) {
			return
		}
		select {
		case <-sn.more:
		case <-deadline:
			last := "none"
			if len(msgs) > 0 {
				last = string(msgs[len(msgs)-1])
			}
			sn.t.Fatalf("timed out waiting for %s; %d messages, last %s", what, len(msgs), last)
		}
	}
}

// waitErr waits for the subscription to fail and returns the error text.
func (sn *subscription) waitErr() string {
	sn.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		sn.mu.Lock()
		errs := sn.errs
		sn.mu.Unlock()
		if len(errs) > 0 {
			return strings.Join(errs, "; ")
		}
		select {
		case <-sn.more:
		case <-deadline:
			sn.t.Fatal("timed out waiting for a subscription error")
		}
	}
}
