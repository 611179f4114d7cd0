package wsgorilla

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

const gqlgenTransport = "github.com/99designs/gqlgen/graphql/handler/transport"

// gqlgenMessageTypes runs a subscription over each websocket protocol
// through gqlgen's own transport and test server with this adapter, and
// returns the types gqlgen handed WriteJSON (what layoutOf has seen) that
// come from gqlgen's transport package.
func gqlgenMessageTypes(t testing.TB) []reflect.Type {
	srv := testserver.New()
	srv.AddTransport(transport.Websocket{Implementation: New(Options{CheckOrigin: func(*http.Request) bool { return true }})})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	for _, proto := range []struct{ name, subscribe, next string }{
		{"graphql-transport-ws", "subscribe", "next"},
		{"graphql-ws", "start", "data"},
	} {
		d := websocket.Dialer{Subprotocols: []string{proto.name}}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("%s: dial: %v", proto.name, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		read := func(want string) map[string]any {
			for {
				var m map[string]any
				if err := c.ReadJSON(&m); err != nil {
					t.Fatalf("%s: waiting for %s: %v", proto.name, want, err)
				}
				if m["type"] == want {
					return m
				}
			}
		}
		_ = c.WriteJSON(map[string]any{"type": "connection_init"})
		read("connection_ack")
		_ = c.WriteJSON(map[string]any{"type": proto.subscribe, "id": "s1", "payload": map[string]any{"query": "subscription { name }"}})
		srv.SendNextSubscriptionMessage()
		if m := read(proto.next); m["id"] != "s1" || m["payload"] == nil {
			t.Fatalf("%s: got %v", proto.name, m)
		}
		c.Close()
	}
	var found []reflect.Type
	layouts.Range(func(k, _ any) bool {
		if typ := k.(reflect.Type); typ.PkgPath() == gqlgenTransport {
			found = append(found, typ)
		}
		return true
	})
	slices.SortFunc(found, func(a, b reflect.Type) int { return strings.Compare(a.Name(), b.Name()) })
	return found
}

// gqlgen's real protocol messages, not a look-alike, must take the direct
// encoding and come out as encoding/json writes them. This fails when a
// gqlgen upgrade changes the message (a field added, renamed or retagged):
// appendMessage would then silently hand every message to encoding/json,
// or, worse, drop what it does not know.
func TestGqlgenMessagesTakeTheDirectEncoding(t *testing.T) {
	types := gqlgenMessageTypes(t)
	if len(types) != 2 {
		t.Fatalf("gqlgen handed WriteJSON %d message types of its transport package (%v), want 2 (one per protocol): gqlgen's websocket messages changed; revisit wsgorilla/encode.go", len(types), types)
	}
	for _, typ := range types {
		if layoutOf(typ) == nil {
			var fields []string
			for i := range typ.NumField() {
				f := typ.Field(i)
				fields = append(fields, f.Name+" "+f.Type.String()+" `"+string(f.Tag)+"`")
			}
			t.Fatalf("gqlgen's %s is no longer {Payload json.RawMessage; ID string; Type string} with the tags encode.go expects; it has %v: revisit wsgorilla/encode.go", typ, fields)
		}
		for _, m := range []struct {
			payload  string
			id, kind string
		}{
			{`{"data":{"activityCounts":{"version":3,"slots":[{"taken":1}]}}}`, "1", "next"},
			{``, "abc-9", "complete"},
			{``, "", "connection_ack"},
			{`[{"message":"x","extensions":{"code":"FORBIDDEN"}}]`, "7", "error"},
		} {
			v := reflect.New(typ)
			v.Elem().FieldByName("Payload").SetBytes([]byte(m.payload))
			v.Elem().FieldByName("ID").SetString(m.id)
			v.Elem().FieldByName("Type").SetString(m.kind)
			got, ok := appendMessage(nil, v.Interface())
			if !ok {
				t.Fatalf("%s %+v not encoded directly", typ, m)
			}
			want, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: direct %s, encoding/json %s", typ, got, want)
			}
		}
	}
}

// BenchmarkEncodeMessage compares the direct encoding with encoding/json,
// which gqlgen's stock path uses, on gqlgen's own message type carrying an
// activityCounts update of 3 slots.
func BenchmarkEncodeMessage(b *testing.B) {
	types := gqlgenMessageTypes(b)
	if len(types) == 0 {
		b.Fatal("no gqlgen message type seen")
	}
	v := reflect.New(types[0])
	v.Elem().FieldByName("Payload").SetBytes([]byte(`{"data":{"activityCounts":{"activityID":"AEBAGBAF","version":1234,"slots":[{"slotID":"AEBAGBAG","capacity":100,"taken":57,"waitlisted":0,"checkedIn":12},{"slotID":"AEBAGBAH","capacity":20,"taken":20,"waitlisted":4,"checkedIn":3},{"slotID":"AEBAGBAI","capacity":8,"taken":1,"waitlisted":0,"checkedIn":0}]}}}`))
	v.Elem().FieldByName("ID").SetString("1")
	v.Elem().FieldByName("Type").SetString("next")
	msg := v.Interface()
	b.Run("direct", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf, _ = appendMessage(buf[:0], msg)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(msg)
		}
	})
}
