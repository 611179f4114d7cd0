package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"linli/app"
	"linli/linlitest"
)

// Behind a trusted reverse proxy each client has its own login bucket (the
// address the proxy appended to X-Forwarded-For), so one client cannot lock
// everyone out; from anywhere else the header is not believed, so a client
// cannot dodge its bucket by forging it.
func TestLoginLimitPerClientBehindProxy(t *testing.T) {
	// A flood of logins (each a password derivation) on both backends.
	linlitest.Slow(t)
	login := func(t *testing.T, e *linlitest.Env, i int, xff string) string {
		t.Helper()
		body := fmt.Sprintf(`{"query":"mutation { login(input: {phone: \"1390000%04d\", password: \"wrong-password-x\"}) { token } }"}`, i)
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := e.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res linlitest.Result
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatal(err)
		}
		return res.Code()
	}
	// drain sends logins for distinct phones from one client until its
	// address bucket refuses.
	drain := func(t *testing.T, e *linlitest.Env, xff string) {
		t.Helper()
		for i := range 100 {
			if login(t, e, i, xff) == "RATE_LIMITED" {
				return
			}
		}
		t.Fatal("the address bucket never refused")
	}
	// One attempt a minute per phone, four per address: nothing refills
	// while the test runs.
	limited := func(c *app.Config) { c.RateLimitPerMinute = 1 }
	t.Run("trusted proxy", func(t *testing.T) {
		linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
			drain(t, e, "198.51.100.1")
			if code := login(t, e, 500, "198.51.100.2"); code != "UNAUTHENTICATED" {
				t.Errorf("another client behind the proxy: %s, want UNAUTHENTICATED (its own bucket)", code)
			}
			if code := login(t, e, 501, "198.51.100.2, 198.51.100.1"); code != "RATE_LIMITED" {
				t.Errorf("the drained client forging a hop: %s, want RATE_LIMITED", code)
			}
		}, limited, func(c *app.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	})
	t.Run("no trusted proxy", func(t *testing.T) {
		linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
			drain(t, e, "198.51.100.1")
			if code := login(t, e, 500, "198.51.100.2"); code != "RATE_LIMITED" {
				t.Errorf("a forged X-Forwarded-For: %s, want RATE_LIMITED (the header is not believed)", code)
			}
		}, limited)
	})
}
