package wsgorilla

import (
	"encoding/json"
	"testing"
)

// The direct encoding must produce what encoding/json produces, for the
// shapes gqlgen sends, and refuse everything else.
func TestAppendMessageMatchesEncodingJSON(t *testing.T) {
	type msgType string
	type message struct {
		Payload json.RawMessage `json:"payload,omitempty"`
		ID      string          `json:"id,omitempty"`
		Type    msgType         `json:"type"`
		noOp    bool
	}
	for _, m := range []message{
		{Payload: json.RawMessage(`{"data":{"activityCounts":{"version":3}}}`), ID: "1", Type: "next"},
		{ID: "abc-9", Type: "complete"},
		{Type: "connection_ack"},
		{Payload: json.RawMessage(`[{"message":"x"}]`), ID: "7", Type: "error"},
	} {
		got, ok := appendMessage(nil, &m)
		if !ok {
			t.Fatalf("%+v not encoded directly", m)
		}
		want, _ := json.Marshal(&m)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("invalid JSON %s", got)
		}
		_ = json.Unmarshal(want, &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Fatalf("got %s, encoding/json %s", got, want)
		}
	}
	for _, v := range []any{
		&message{ID: `quote"d`, Type: "next"},
		&message{ID: "ünïcode", Type: "next"},
		map[string]string{"type": "x"},
		&struct{ Type string }{"x"},
	} {
		if _, ok := appendMessage(nil, v); ok {
			t.Fatalf("%#v should go to encoding/json", v)
		}
	}
}
