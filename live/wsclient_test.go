package live_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is a small graphql-transport-ws (or legacy graphql-ws) client for
// tests; it speaks the protocol on the wire, with no library in between.
type wsClient struct {
	t      testing.TB
	c      *websocket.Conn
	legacy bool
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func wsURL(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") + "/graphql" }

// dialWS opens a socket; protocol is "graphql-transport-ws" or "graphql-ws".
func dialWS(t testing.TB, serverURL, protocol string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(wsURL(serverURL), header)
	if err != nil {
		return nil, resp, err
	}
	cl := &wsClient{t: t, c: c, legacy: protocol == "graphql-ws"}
	t.Cleanup(func() { c.Close() })
	return cl, resp, nil
}

// connect dials and completes connection_init with token.
func connect(t testing.TB, serverURL, token string) *wsClient {
	t.Helper()
	c, _, err := dialWS(t, serverURL, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.init(token)
	if m := c.next(5 * time.Second); m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	return c
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	if err := c.c.WriteJSON(m); err != nil {
		c.t.Fatalf("write %s: %v", m.Type, err)
	}
}

func (c *wsClient) init(token string) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]string{"authToken": token})
	c.send(wsMsg{Type: "connection_init", Payload: p})
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	typ := "subscribe"
	if c.legacy {
		typ = "start"
	}
	c.send(wsMsg{ID: id, Type: typ, Payload: p})
}

func (c *wsClient) complete(id string) {
	c.t.Helper()
	typ := "complete"
	if c.legacy {
		typ = "stop"
	}
	c.send(wsMsg{ID: id, Type: typ})
}

// read returns the next message other than keep-alives, or the error.
func (c *wsClient) read(timeout time.Duration) (wsMsg, error) {
	deadline := time.Now().Add(timeout)
	for {
		_ = c.c.SetReadDeadline(deadline)
		var m wsMsg
		if err := c.c.ReadJSON(&m); err != nil {
			return m, err
		}
		if m.Type == "ka" || m.Type == "ping" || m.Type == "pong" {
			if m.Type == "ping" {
				c.send(wsMsg{Type: "pong"})
			}
			continue
		}
		return m, nil
	}
}

func (c *wsClient) next(timeout time.Duration) wsMsg {
	c.t.Helper()
	m, err := c.read(timeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// nextFor returns the next message of subscription id, skipping others.
func (c *wsClient) nextFor(id string, timeout time.Duration) wsMsg {
	c.t.Helper()
	for {
		m := c.next(timeout)
		if m.ID == id {
			return m
		}
	}
}

// closeCode waits for the server to close the socket and returns its code.
func (c *wsClient) closeCode(timeout time.Duration) int {
	c.t.Helper()
	for {
		_, err := c.read(timeout)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		c.t.Fatalf("want a close frame, got %v", err)
	}
}

type countsMsg struct {
	ActivityCounts struct {
		ActivityID string `json:"activityID"`
		Version    int    `json:"version"`
		Slots      []struct {
			SlotID     string `json:"slotID"`
			Capacity   int    `json:"capacity"`
			Taken      int    `json:"taken"`
			Waitlisted int    `json:"waitlisted"`
			CheckedIn  int    `json:"checkedIn"`
		} `json:"slots"`
	} `json:"activityCounts"`
}

const countsQuery = `subscription($id: ID!) { activityCounts(activityID: $id) { activityID version slots { slotID capacity taken waitlisted checkedIn } } }`

// data decodes a next/data message's payload.data into v, failing on errors.
func (c *wsClient) data(m wsMsg, v any) {
	c.t.Helper()
	want := "next"
	if c.legacy {
		want = "data"
	}
	if m.Type != want {
		c.t.Fatalf("want %s, got %s %s", want, m.Type, m.Payload)
	}
	var p struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.t.Fatalf("decode %s: %v", m.Payload, err)
	}
	if len(p.Errors) > 0 {
		c.t.Fatalf("unexpected errors: %s", m.Payload)
	}
	if err := json.Unmarshal(p.Data, v); err != nil {
		c.t.Fatalf("decode data %s: %v", p.Data, err)
	}
}

// errorCode returns the extensions.code of an error delivered for a
// subscription (as a next with errors, or an error message).
func errorCode(m wsMsg) string {
	var p struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	var list []struct {
		Extensions map[string]any `json:"extensions"`
	}
	if json.Unmarshal(m.Payload, &p) == nil && len(p.Errors) > 0 {
		list = p.Errors
	} else {
		_ = json.Unmarshal(m.Payload, &list)
	}
	if len(list) == 0 {
		return fmt.Sprintf("no error in %s %s", m.Type, m.Payload)
	}
	code, _ := list[0].Extensions["code"].(string)
	return code
}
