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

// A phone that has an account gets one answer whichever community it is
// registered in, and the answer names none.
func TestRegisterNeutralConflict(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		a, b := e.Community(t, "前进社区"), e.Community(t, "红旗社区")
		reg := `mutation($in: RegisterInput!) { register(input: $in) { token } }`
		in := func(c int) map[string]any {
			return map[string]any{"in": map[string]any{"communityID": id(c), "phone": "13700001111", "password": "long-enough-pw", "displayName": "李雷"}}
		}
		e.Do(t, "", reg, in(a.ID)).Decode(t, &struct{}{})
		var msgs []string
		for _, c := range []int{a.ID, b.ID} {
			res := e.Do(t, "", reg, in(c))
			if res.Code() != "CONFLICT" || res.Field() != "phone" {
				t.Fatalf("community %d: %s/%s, want CONFLICT/phone", c, res.Code(), res.Field())
			}
			msgs = append(msgs, res.Errors[0].Message)
		}
		if msgs[0] != msgs[1] || msgs[0] != "cannot register this phone; sign in or reset the password" {
			t.Errorf("answers %q", msgs)
		}
	})
}

func TestRegisterPasswordPolicy(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		reg := `mutation($in: RegisterInput!) { register(input: $in) { token } }`
		in := func(phone, pw string) map[string]any {
			return map[string]any{"in": map[string]any{"communityID": id(c.ID), "phone": phone, "password": pw, "displayName": "李雷"}}
		}
		for _, pw := range []string{
			"12345678", "87654321", "1234567890", "abcdefgh", "qwertyui", "asdfghjkl", // sequences
			"88888888", "aaaaaaaaaa", "abababab", "123123123", // repeats
			"password", "Password2024!", "iloveyou", "woaini1314", "1q2w3e4r", "P@ssw0rd", // common
			"13700002222", "x13700002222x", "00002222", // the phone
			"short", strings.Repeat("长", 129), // length
		} {
			res := e.Do(t, "", reg, in("13700002222", pw))
			if res.Code() != "VALIDATION_FAILED" || res.Field() != "password" {
				t.Errorf("password %q: %s/%s, want VALIDATION_FAILED/password", pw, res.Code(), res.Field())
			}
		}
		for i, pw := range []string{"long-enough-pw", "社区志愿者服务很好", "correct-horse-9", "q8#Lm2!vX"} {
			e.Do(t, "", reg, in(fmt.Sprintf("1370000333%d", i), pw)).Decode(t, &struct{}{})
		}
	})
}
