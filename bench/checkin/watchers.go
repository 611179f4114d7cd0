package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// watchers are the live side: one websocket per activity subscribed to its
// counts, as a staff dashboard would, reading every message.
type watchers struct {
	conns    []*websocket.Conn
	received atomic.Int64
	wg       sync.WaitGroup
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func watch(b *bench) (*watchers, error) {
	w := &watchers{}
	url := "ws" + strings.TrimPrefix(b.srv.URL, "http") + "/graphql"
	init, _ := json.Marshal(map[string]string{"authToken": b.staff})
	for _, a := range b.activities {
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			w.close()
			return nil, err
		}
		w.conns = append(w.conns, c)
		sub, _ := json.Marshal(map[string]any{
			"query":     `subscription($a: ID!) { activityCounts(activityID: $a) { version slots { slotID checkedIn } } }`,
			"variables": map[string]any{"a": b.app.IDs.Encode(a)},
		})
		var ack wsMsg
		if err := c.WriteJSON(wsMsg{Type: "connection_init", Payload: init}); err != nil {
			w.close()
			return nil, err
		}
		if err := c.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
			w.close()
			return nil, fmt.Errorf("websocket init: %v %+v", err, ack)
		}
		if err := c.WriteJSON(wsMsg{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
			w.close()
			return nil, err
		}
		w.wg.Add(1)
		go w.read(c)
	}
	return w, nil
}

// read counts the socket's data messages without decoding them: the
// subscribers run in the benchmark's own process, and what they cost is not
// linli's.
func (w *watchers) read(c *websocket.Conn) {
	defer w.wg.Done()
	next := []byte(`"type":"next"`)
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if bytes.Contains(msg, next) {
			w.received.Add(1)
		}
	}
}

func (w *watchers) close() {
	for _, c := range w.conns {
		c.Close()
	}
	w.wg.Wait()
}
