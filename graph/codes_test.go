package graph_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"linli/app"
	"linli/linlitest"
	"linli/viewer"
)

// Bad input is VALIDATION_FAILED naming the field, not INTERNAL, and is
// refused before any SQL.
func TestBadArgumentsAreValidationErrors(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊"})
		e.Do(t, tok, `{ viewer { id } }`, nil) // the token is cached from here on
		long := strings.Repeat("义", 70_000)    // 210 KB
		cases := []struct {
			name, query string
			vars        map[string]any
			field       string
			noSQL       bool
		}{
			{"bad cursor", `{ activities(first: 1, after: "not-a-cursor!") { totalCount } }`, nil, "after", true},
			{"bad cursor in a variable", `query($c: Cursor) { activities(last: 1, before: $c) { totalCount } }`, map[string]any{"c": "%%%"}, "before", true},
			{"bad ID", `{ node(id: "abc") { id } }`, nil, "id", true},
			{"ID out of range", `{ node(id: "99999999999999999999") { id } }`, nil, "id", true},
			{"bad ID in a list", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []any{"1", "x"}}, "ids", true},
			{"bad ID in an input", `mutation($in: SignUpInput!) { signUp(input: $in) { outcome } }`, map[string]any{"in": map[string]any{"slotID": "x"}}, "slotID", true},
			{"200 KB titleContains literal", `{ activities(first: 1, where: {titleContains: "` + long + `"}) { totalCount } }`, nil, "titleContains", true},
			{"200 KB titleContains variable", `query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"or": []any{map[string]any{"titleContains": long}}}}, "titleContains", true},
			{"200 KB string argument", `query($s: String!) { verifyCertificate(code: $s) { code } }`, map[string]any{"s": long}, "code", true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.Statements.Load()
				res := e.Do(t, tok, tc.query, tc.vars)
				res.WantCode(t, "VALIDATION_FAILED")
				if res.Field() != tc.field {
					t.Errorf("field %q, want %q (%s)", res.Field(), tc.field, firstMessage(res))
				}
				if n := e.Statements.Load() - before; tc.noSQL && n != 0 {
					t.Errorf("ran %d SQL statements", n)
				}
			})
		}
		// A string just inside the bound is answered.
		var got struct{ Activities struct{ TotalCount int } }
		e.Do(t, tok, `query($w: ActivityWhereInput) { activities(first: 1, where: $w) { totalCount } }`,
			map[string]any{"w": map[string]any{"titleContains": strings.Repeat("x", 10<<10)}}).Decode(t, &got)
	})
}

// A database that cannot be reached answers UNAVAILABLE (retry later), not
// INTERNAL. PostgreSQL only: the test cuts the network between linli and
// the database with a proxy; an embedded SQLite file has no network to lose.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	proxy := &tcpProxy{}
	e := linlitest.New(t, "postgres", func(c *app.Config) {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = proxy.start(t, u.Host)
		c.DatabaseURL = u.String()
	})
	c := e.Community(t, "前进社区")
	_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
	var got struct{ Communities []struct{ ID string } }
	e.Do(t, "", `{ communities { id } }`, nil).Decode(t, &got)
	proxy.cut()
	e.Do(t, "", `{ communities { id } }`, nil).WantCode(t, "UNAVAILABLE")
	// Checking a token needs the database too.
	res := e.Do(t, tok, `{ viewer { id } }`, nil)
	res.WantCode(t, "UNAVAILABLE")
	if res.Status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", res.Status)
	}
}

// tcpProxy forwards connections to a server until cut.
type tcpProxy struct {
	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func (p *tcpProxy) start(t *testing.T, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.ln = ln
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// cut closes the listener and every forwarded connection.
func (p *tcpProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
