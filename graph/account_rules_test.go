package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"linli/app"
	"linli/linlitest"
)

// A short phone (a landline) is masked as much as a mobile number: others
// see at most a third of it, not 123*5678.
func TestShortPhoneMasked(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		if err := e.Client.Person.UpdateOneID(w.resAPerson.ID).SetPhone("12345678").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		q := `query($id: ID!) { node(id: $id) { ... on Person { phone } } }`
		for token, want := range map[string]string{w.volA: "1******8", w.resA: "12345678", w.coordA: "12345678"} {
			var got struct{ Node struct{ Phone string } }
			e.Do(t, token, q, map[string]any{"id": id(w.resAPerson.ID)}).Decode(t, &got)
			if got.Node.Phone != want {
				t.Errorf("phone %q, want %q", got.Node.Phone, want)
			}
		}
	})
}

// A junk phone is refused as invalid before it reaches the rate limiter:
// it creates no bucket, however many are sent (issue 9: 2,000 logins with
// 256 KB phones took the server to its memory limit).
func TestLoginJunkPhone(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		login := `mutation($p: String!) { login(input: {phone: $p, password: "whatever-password"}) { token } }`
		for i := range 30 {
			junk := fmt.Sprintf("%d-%s", i, strings.Repeat("9x", 100<<10))
			res := e.Do(t, "", login, map[string]any{"p": junk})
			if res.Code() != "VALIDATION_FAILED" || res.Field() != "phone" {
				t.Fatalf("junk phone %d: %s/%s, want VALIDATION_FAILED/phone", i, res.Code(), res.Field())
			}
		}
		for _, short := range []string{"12ab", "", "+", strings.Repeat("1", 41)} {
			res := e.Do(t, "", login, map[string]any{"p": short})
			if res.Code() != "VALIDATION_FAILED" || res.Field() != "phone" {
				t.Errorf("phone %q: %s/%s, want VALIDATION_FAILED/phone", short, res.Code(), res.Field())
			}
		}
		if n := e.App.Auth.RateLimitBuckets(); n != 0 {
			t.Errorf("invalid phones created %d rate-limit buckets", n)
		}
		// A valid phone still is limited (and is one bucket per key).
		e.Do(t, "", login, map[string]any{"p": "13900009999"}).WantCode(t, "UNAUTHENTICATED")
		if n := e.App.Auth.RateLimitBuckets(); n != 2 {
			t.Errorf("%d buckets after one valid attempt, want 2 (phone and address)", n)
		}
	}, func(c *app.Config) { c.RateLimitPerMinute = 10 })
}
