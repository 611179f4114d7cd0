package auth_test

import (
	"fmt"
	"sync"
	"testing"

	"linli/auth"
	"linli/linlitest"
)

// Every way a login can go spends exactly one argon2id derivation, so its
// timing does not tell an unknown phone or an account without a password
// from a wrong password (issue 9: 1.6 ms against 90–100 ms).
func TestLoginPathsDeriveOnce(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		withPw, _ := e.Person(t, c.ID, "有密码")
		noPw, _ := e.Person(t, c.ID, "无密码")
		if err := e.Client.Person.UpdateOneID(noPw.ID).SetPasswordHash(auth.NoPassword).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		login := `mutation($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { token } }`
		for _, tc := range []struct{ name, phone, password, code string }{
			{"unknown phone", "13999990000", "some-password-1", "UNAUTHENTICATED"},
			{"account without a password", noPw.Phone, "some-password-1", "UNAUTHENTICATED"},
			{"wrong password", withPw.Phone, "some-password-1", "UNAUTHENTICATED"},
			{"right password", withPw.Phone, linlitest.Password, ""},
		} {
			before := auth.Derivations()
			res := e.Do(t, "", login, map[string]any{"p": tc.phone, "pw": tc.password})
			if res.Code() != tc.code {
				t.Errorf("%s: code %q, want %q", tc.name, res.Code(), tc.code)
			}
			if n := auth.Derivations() - before; n != 1 {
				t.Errorf("%s: %d argon2id derivations, want 1", tc.name, n)
			}
		}
	})
}

// A flood of logins (from many addresses, so no rate limit stops it) runs
// at most one argon2id derivation (19 MiB each) per CPU at a time.
func TestLoginFloodBoundsDerivations(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		login := `mutation($p: String!) { login(input: {phone: $p, password: "some-password-1"}) { token } }`
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				if res, err := linlitest.Send(e.Server.Client(), e.Server.URL+"/graphql", "", login, map[string]any{"p": fmt.Sprintf("1399999%04d", i)}); err != nil || res.Code() != "UNAUTHENTICATED" {
					t.Errorf("login %d: %v %v", i, err, res)
				}
			})
		}
		wg.Wait()
		if seen, allowed := auth.MaxConcurrentDerivations(); seen > allowed || seen < 1 {
			t.Errorf("%d derivations at once, at most %d allowed", seen, allowed)
		}
	})
}
