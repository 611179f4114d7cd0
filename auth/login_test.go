package auth_test

import (
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
