package notify_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/ent"
	"linli/ent/notification"
	"linli/linlitest"
	"linli/notify"
	"linli/store"
)

// wsSub is one myNotifications subscription over a websocket, speaking
// graphql-transport-ws or the legacy subscriptions-transport-ws protocol
// (subprotocol graphql-ws) on the wire.
type wsSub struct {
	t      *testing.T
	c      *websocket.Conn
	legacy bool
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func subscribeWS(t *testing.T, e *linlitest.Env, protocol, token, query string) *wsSub {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.Subprotocol() != protocol {
		t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), protocol)
	}
	s := &wsSub{t: t, c: c, legacy: protocol == "graphql-ws"}
	init, _ := json.Marshal(map[string]string{"authToken": token})
	s.send(wsMsg{Type: "connection_init", Payload: init})
	if m, err := s.read(5 * time.Second); err != nil || m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v %v", m, err)
	}
	p, _ := json.Marshal(map[string]any{"query": query})
	typ := "subscribe"
	if s.legacy {
		typ = "start"
	}
	s.send(wsMsg{ID: "n", Type: typ, Payload: p})
	return s
}

func (s *wsSub) send(m wsMsg) {
	s.t.Helper()
	if err := s.c.WriteJSON(m); err != nil {
		s.t.Fatal(err)
	}
}

// read is the next message but keep-alives.
func (s *wsSub) read(timeout time.Duration) (wsMsg, error) {
	_ = s.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		var m wsMsg
		if err := s.c.ReadJSON(&m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			s.send(wsMsg{Type: "pong"})
			continue
		}
		return m, nil
	}
}

// next is the next notification pushed, failing on anything else.
func (s *wsSub) next(timeout time.Duration) (kind, body string) {
	s.t.Helper()
	m, err := s.read(timeout)
	if err != nil {
		s.t.Fatalf("nothing pushed: %v", err)
	}
	want := "next"
	if s.legacy {
		want = "data"
	}
	var p struct {
		Data struct {
			MyNotifications struct{ Kind, Body string }
		}
		Errors json.RawMessage
	}
	if m.Type != want || m.ID != "n" || json.Unmarshal(m.Payload, &p) != nil || len(p.Errors) > 0 {
		s.t.Fatalf("want %s of n, got %s %s %s", want, m.Type, m.ID, m.Payload)
	}
	return p.Data.MyNotifications.Kind, p.Data.MyNotifications.Body
}

// Over each websocket protocol, a resident's myNotifications subscription
// pushes the promotion made for them (through the API: the seat holder
// cancels), and not a notification made for someone else; that other
// person's own subscription gets theirs, and not the promotion.
func TestMyNotificationsOverWebsockets(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
			t.Run(protocol, func(t *testing.T) {
				a, slots := e.Activity(t, com.ID, linlitest.ActivitySpec{Title: "义诊", Slots: []linlitest.SlotSpec{{Name: "号源", Capacity: 1}}})
				ps := people(t, e, com.ID, 3, "居民")
				holder, waiting, other := ps[0], ps[1], ps[2]
				_, reg := signUp(t, e, holder.token, slots[0].ID)
				if st, _ := signUp(t, e, waiting.token, slots[0].ID); st != "WAITLISTED" {
					t.Fatal(st)
				}
				const q = `subscription { myNotifications { kind body } }`
				mine := subscribeWS(t, e, protocol, waiting.token, q)
				theirs := subscribeWS(t, e, protocol, other.token, q)
				time.Sleep(300 * time.Millisecond) // subscribed
				cancel(t, e, holder.token, reg)
				if kind, body := mine.next(3 * time.Second); kind != "WAITLIST_PROMOTED" || !strings.Contains(body, "义诊") {
					t.Errorf("pushed %s %q", kind, body)
				}
				// A notification for the other person only.
				ctx := e.Sys()
				err := store.InTx(ctx, e.Client, store.TxOptions{Lock: e.DB.Writers()}, func(tx *ent.Tx) error {
					return notify.Emit(ctx, tx, notify.Event{Kind: notification.KindACTIVITY_CHANGED, CommunityID: com.ID,
						ActivityID: a.ID, PersonIDs: []int{other.p.ID}})
				})
				if err != nil {
					t.Fatal(err)
				}
				// Theirs comes first on their socket: the promotion never did.
				if kind, _ := theirs.next(3 * time.Second); kind != "ACTIVITY_CHANGED" {
					t.Errorf("the other person was pushed %s", kind)
				}
				if m, err := mine.read(500 * time.Millisecond); err == nil {
					t.Errorf("someone else's notification was pushed: %s %s", m.Type, m.Payload)
				}
			})
		}
	}, fast)
}
