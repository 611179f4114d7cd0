package scan

import (
	"strings"
	"testing"
	"time"
)

func TestInitials(t *testing.T) {
	for name, want := range map[string]string{"吴小雨": "wxy", "章桂兰": "zgl", "汪晓梅": "wxm", "Anna李": "annal", "": ""} {
		if got := Initials(name); got != want {
			t.Errorf("Initials(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSearchQuery(t *testing.T) {
	cases := []struct {
		query, name, phone string
		want               bool
	}{
		{"王", "王小明", "13800001234", true},
		{"王小", "王小明", "13800001234", true},
		{"小明", "王小明", "13800001234", false}, // a prefix, not any part
		{"1234", "王小明", "13800001234", true},
		{"234", "王小明", "13800001234", true},
		{"4321", "王小明", "13800001234", false},
		{"王1234", "王小明", "13800001234", true},
		{"王 1234", "李小明", "13800001234", false},
		{"wxm", "王小明", "13800001234", true},
		{"WX", "王小明", "13800001234", true},
		{"wxm1234", "王小明", "13800005678", false},
		{"lxm", "王小明", "13800001234", false},
	}
	for _, c := range cases {
		q, err := parseQuery(c.query)
		if err != nil {
			t.Fatalf("%q: %v", c.query, err)
		}
		if got := q.matches(c.name, c.phone); got != c.want {
			t.Errorf("%q matches %s %s = %v, want %v", c.query, c.name, c.phone, got, c.want)
		}
	}
	for _, bad := range []string{"12", "123456", strings.Repeat("王小明", 11)} {
		if _, err := parseQuery(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSelfCodes(t *testing.T) {
	c := newSelfCodes([]byte("0123456789abcdef0123456789abcdef"))
	code := c.make(42, 1000)
	id, w, ok := c.read(code)
	if !ok || id != 42 || w != 1000 {
		t.Fatalf("read %d %d %v", id, w, ok)
	}
	other := newSelfCodes([]byte("another secret of thirty-two byt"))
	if _, _, ok := other.read(code); ok {
		t.Fatal("another key read the code")
	}
	b := []byte(code)
	b[3] ^= 1
	if _, _, ok := c.read(string(b)); ok {
		t.Fatal("a changed code read")
	}
	if c.make(42, 1001) == code || c.make(43, 1000) == code {
		t.Fatal("codes repeat across windows or activities")
	}
}

func TestSelfFresh(t *testing.T) {
	base := time.Unix(3000, 0) // the start of window 100
	for _, c := range []struct {
		window int64
		at     time.Duration
		want   bool
	}{
		{100, 0, true}, {100, 29 * time.Second, true},
		{100, 30 * time.Second, true},  // the next window, inside the grace
		{100, 39 * time.Second, true},  // still inside the grace
		{100, 40 * time.Second, false}, // rotated and past the grace
		{101, 0, false},                // a code from the future
		{99, 0, true},                  // the previous window, just rotated
		{98, 0, false},
	} {
		if got := selfFresh(c.window, base.Add(c.at)); got != c.want {
			t.Errorf("window %d at +%v: %v, want %v", c.window, c.at, got, c.want)
		}
	}
}
