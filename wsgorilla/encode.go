package wsgorilla

import (
	"encoding/json"
	"reflect"
	"sync"
)

// gqlgen hands WriteJSON its protocol messages: structs of Payload
// (json.RawMessage, already encoded by gqlgen), ID and Type. Encoding them
// with encoding/json re-validates the payload byte by byte and walks the
// struct by reflection, for every message to every subscriber; appendMessage
// writes the same JSON directly (40 to 80 times faster on a counts update:
// BenchmarkEncodeMessage). Anything else goes to encoding/json.
//
// The layout is recognised, not assumed: a struct with exactly those three
// exported fields and tags. TestGqlgenMessagesTakeTheDirectEncoding runs
// both websocket protocols through gqlgen's own transport and fails if
// gqlgen's message types stop matching, so an upgrade that changes them is
// noticed instead of silently falling back to encoding/json.

type messageLayout struct{ payload, id, typ int }

var (
	layouts    sync.Map // reflect.Type → *messageLayout (nil: not a message)
	rawMessage = reflect.TypeFor[json.RawMessage]()
	bufs       = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
)

func layoutOf(t reflect.Type) *messageLayout {
	if l, ok := layouts.Load(t); ok {
		return l.(*messageLayout)
	}
	var l *messageLayout
	if t.Kind() == reflect.Struct {
		found := messageLayout{-1, -1, -1}
		exported := 0
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			exported++
			switch {
			case f.Name == "Payload" && f.Type == rawMessage && f.Tag.Get("json") == "payload,omitempty":
				found.payload = i
			case f.Name == "ID" && f.Type.Kind() == reflect.String && f.Tag.Get("json") == "id,omitempty":
				found.id = i
			case f.Name == "Type" && f.Type.Kind() == reflect.String && f.Tag.Get("json") == "type":
				found.typ = i
			}
		}
		if exported == 3 && found.payload >= 0 && found.id >= 0 && found.typ >= 0 {
			l = &found
		}
	}
	layouts.Store(t, l)
	return l
}

// plain reports whether s needs no escaping inside a JSON string.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendMessage appends v encoded as JSON when it is a gqlgen protocol
// message with plain id and type; ok is false otherwise.
func appendMessage(dst []byte, v any) (out []byte, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return dst, false
		}
		rv = rv.Elem()
	}
	l := layoutOf(rv.Type())
	if l == nil {
		return dst, false
	}
	payload := rv.Field(l.payload).Bytes()
	id, typ := rv.Field(l.id).String(), rv.Field(l.typ).String()
	if !plain(id) || !plain(typ) {
		return dst, false
	}
	dst = append(dst, '{')
	if len(payload) > 0 {
		dst = append(dst, `"payload":`...)
		dst = append(dst, payload...)
		dst = append(dst, ',')
	}
	if id != "" {
		dst = append(dst, `"id":"`...)
		dst = append(dst, id...)
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `"}`...)
	return dst, true
}
