package rights_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/auth"
	"linli/ent/session"
	"linli/linlitest"
	"linli/viewer"
)

// codes captures the messages requestPhoneCode sends.
type codes struct {
	mu   sync.Mutex
	last map[string]string
}

func (c *codes) SendPhoneMessage(_ context.Context, m auth.PhoneMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last[m.Phone] = m.Code
	return nil
}

func (c *codes) code(phone string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[phone]
}

// from posts a GraphQL request as a client at addr (through a trusted
// proxy's X-Forwarded-For).
func from(t *testing.T, e *linlitest.Env, addr, token, query string, vars map[string]any) (code string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", e.Server.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		return out.Errors[0].Extensions.Code
	}
	return ""
}

const loginQ = `mutation($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { token } }`

// TestLockoutPerSource: an attacker guessing a victim's password from
// their own address locks only that address out; the victim signs in from
// theirs. Failures from many addresses lock the phone everywhere, and the
// code sent to the phone lifts it.
func TestLockoutPerSource(t *testing.T) {
	sent := &codes{last: map[string]string{}}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		victim, _ := e.Person(t, c.ID, "章桂兰")
		vars := func(pw string) map[string]any { return map[string]any{"p": victim.Phone, "pw": pw} }

		for i := range 5 {
			if got := from(t, e, "203.0.113.7", "", loginQ, vars("wrong-guess-1")); got != "UNAUTHENTICATED" {
				t.Fatalf("failure %d: %s", i+1, got)
			}
		}
		// The attacker's address is locked, even with the right password.
		if got := from(t, e, "203.0.113.7", "", loginQ, vars(linlitest.Password)); got != "LOGIN_LOCKED" {
			t.Fatalf("attacker after 5 failures: want LOGIN_LOCKED, got %q", got)
		}
		// The victim, from home, is not.
		if got := from(t, e, "198.51.100.20", "", loginQ, vars(linlitest.Password)); got != "" {
			t.Fatalf("victim from another address: want a session, got %q", got)
		}
		// An unknown phone locks alike (a lock tells nothing).
		for range 5 {
			from(t, e, "203.0.113.7", "", loginQ, map[string]any{"p": "13912345678", "pw": "wrong-guess-1"})
		}
		if got := from(t, e, "203.0.113.7", "", loginQ, map[string]any{"p": "13912345678", "pw": "wrong-guess-1"}); got != "LOGIN_LOCKED" {
			t.Fatalf("unknown phone: want LOGIN_LOCKED, got %q", got)
		}

		// Failures from 3 addresses (the test's threshold: the attacker's
		// and two more) lock the phone everywhere.
		for i, addr := range []string{"192.0.2.1", "192.0.2.2"} {
			if got := from(t, e, addr, "", loginQ, vars("wrong-guess-2")); got != "UNAUTHENTICATED" {
				t.Fatalf("distributed failure %d: %s", i, got)
			}
		}
		if got := from(t, e, "198.51.100.20", "", loginQ, vars(linlitest.Password)); got != "LOGIN_LOCKED" {
			t.Fatalf("after failures from many addresses: want LOGIN_LOCKED, got %q", got)
		}
		// The owner unlocks with the code sent to the phone; a wrong code does nothing.
		if got := from(t, e, "198.51.100.20", "", `mutation($p: String!) { unlockLogin(phone: $p, verificationCode: "000000x") }`, map[string]any{"p": victim.Phone}); got != "VALIDATION_FAILED" {
			t.Fatalf("wrong unlock code: %q", got)
		}
		if got := from(t, e, "198.51.100.20", "", `mutation($p: String!) { requestPhoneCode(input: {phone: $p}) }`, map[string]any{"p": victim.Phone}); got != "" {
			t.Fatalf("requestPhoneCode: %q", got)
		}
		code := sent.code(victim.Phone)
		if code == "" {
			t.Fatal("no code was sent to the account's phone")
		}
		if got := from(t, e, "198.51.100.20", "", `mutation($p: String!, $c: String!) { unlockLogin(phone: $p, verificationCode: $c) }`, map[string]any{"p": victim.Phone, "c": code}); got != "" {
			t.Fatalf("unlockLogin: %q", got)
		}
		if got := from(t, e, "198.51.100.20", "", loginQ, vars(linlitest.Password)); got != "" {
			t.Fatalf("after unlocking: want a session, got %q", got)
		}
	}, func(c *app.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		c.LockoutFailures, c.LockoutSources, c.LockoutDuration = 5, 3, time.Hour
		c.CodeSender = sent
	})
}

// TestSessionLifetimesByClass: a coordinator's session ends after the
// staff idle timeout and lifetime, a resident's with the same age lives
// on; a use moves the idle expiry.
func TestSessionLifetimesByClass(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		coordP, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		resP, res := e.Person(t, c.ID, "章桂兰")
		ok := func(token string) string { return e.Do(t, token, `{ viewer { id } }`, nil).Code() }
		if ok(coord) != "" || ok(res) != "" {
			t.Fatal("fresh sessions refused")
		}
		// Both sessions last used 45 minutes ago: past the staff idle
		// timeout (30 min), within the resident's (7 days).
		ago := time.Now().UTC().Add(-45 * time.Minute)
		for _, pid := range []int{coordP.ID, resP.ID} {
			if err := e.Client.Session.Update().Where(session.PersonID(pid)).SetIdleExpiresAt(ago.Add(idleOf(pid == coordP.ID))).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
		if got := ok(coord); got != "UNAUTHENTICATED" {
			t.Errorf("idle coordinator session: want UNAUTHENTICATED, got %q", got)
		}
		if got := ok(res); got != "" {
			t.Errorf("resident session idle 45 min: want it alive, got %q", got)
		}
		// A fresh coordinator session signed in 13 hours ago (still used
		// recently) is past the staff lifetime of 12 hours.
		p2, coord2 := e.Person(t, c.ID, "刘建国", viewer.Coordinator)
		if _, err := e.DB.SQL.ExecContext(context.Background(), e.DB.Rebind(`UPDATE sessions SET created_at = ?, idle_expires_at = ? WHERE person_id = ?`),
			time.Now().UTC().Add(-13*time.Hour), time.Now().UTC().Add(20*time.Minute), p2.ID); err != nil {
			t.Fatal(err)
		}
		if got := ok(coord2); got != "UNAUTHENTICATED" {
			t.Errorf("coordinator session 13 h old: want UNAUTHENTICATED, got %q", got)
		}
		// The resident's use moved their idle expiry forward to a week.
		s, err := e.Client.Session.Query().Where(session.PersonID(resP.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if s.IdleExpiresAt == nil || time.Until(*s.IdleExpiresAt) < auth.DefaultSessionIdle-2*time.Minute {
			t.Errorf("resident's idle expiry after a use: %v", s.IdleExpiresAt)
		}
	}, func(c *app.Config) { c.TokenCacheTTL = 0 })
}

func idleOf(staff bool) time.Duration {
	if staff {
		return auth.DefaultStaffSessionIdle
	}
	return auth.DefaultSessionIdle
}
