package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/bench/load"
	"linli/linlitest"
)

var httpClient = linlitest.ConcurrentClient(256)

func newHTTP(a *app.App) *httptest.Server { return httptest.NewServer(a.Handler()) }

func decode(res *linlitest.Result, v any) error { return json.Unmarshal(res.Data, v) }

// wsConn is one graphql-transport-ws subscription to myNotifications.
type wsConn struct{ c *websocket.Conn }

func dial(serverURL, token string) (*wsConn, error) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", http.Header{"Origin": {serverURL}})
	if err != nil {
		return nil, err
	}
	send := func(v any) error { return c.WriteJSON(v) }
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	var ack struct{ Type string }
	if err := c.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("connection_init: %v %q", err, ack.Type)
	}
	if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { myNotifications { kind createdAt } }"}}); err != nil {
		return nil, err
	}
	return &wsConn{c}, nil
}

// next waits for the next notification and returns its creation time and
// when it arrived.
func (w *wsConn) next(done <-chan struct{}) (created, at time.Time, err error) {
	for {
		var msg struct {
			Type    string
			Payload struct {
				Data struct {
					MyNotifications struct{ CreatedAt time.Time }
				}
			}
		}
		if err := w.c.ReadJSON(&msg); err != nil {
			return created, at, err
		}
		switch msg.Type {
		case "next":
			return msg.Payload.Data.MyNotifications.CreatedAt, time.Now(), nil
		case "ping":
			_ = w.c.WriteJSON(map[string]string{"type": "pong"})
		case "error", "complete":
			return created, at, fmt.Errorf("subscription ended: %s", msg.Type)
		}
		select {
		case <-done:
			return created, at, fmt.Errorf("done")
		default:
		}
	}
}

func (w *wsConn) close() { w.c.Close() }

// check reports err on stdout too, then exits through load.Check.
func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
	}
	load.Check(err)
}
