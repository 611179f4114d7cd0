package graph_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"linli/app"
	"linli/auth"
	"linli/ent/session"
	"linli/linlitest"
	"linli/viewer"
)

func TestAccounts(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		reg := `mutation($in: RegisterInput!) { register(input: $in) { token expiresAt viewer { id displayName phone roles community { name } } } }`
		in := func(phone, pw, name string) map[string]any {
			return map[string]any{"in": map[string]any{"communityID": id(c.ID), "phone": phone, "password": pw, "displayName": name}}
		}
		var r struct {
			Register struct {
				Token  string
				Viewer struct {
					ID, DisplayName, Phone string
					Roles                  []string
				}
			}
		}
		e.Do(t, "", reg, in("138 0000 1234", "long-enough-pw", "  李雷 ")).Decode(t, &r)
		if r.Register.Viewer.Phone != "13800001234" || r.Register.Viewer.DisplayName != "李雷" || len(r.Register.Viewer.Roles) != 1 {
			t.Errorf("register: %+v", r)
		}
		for _, tc := range []struct {
			name        string
			vars        map[string]any
			code, field string
		}{
			{"duplicate phone", in("13800001234", "long-enough-pw", "韩梅梅"), "CONFLICT", "phone"},
			{"bad phone", in("12ab", "long-enough-pw", "韩梅梅"), "VALIDATION_FAILED", "phone"},
			{"short password", in("13800005678", "short", "韩梅梅"), "VALIDATION_FAILED", "password"},
			{"empty name", in("13800005678", "long-enough-pw", "   "), "VALIDATION_FAILED", "displayName"},
			{"unknown community", map[string]any{"in": map[string]any{"communityID": "999999", "phone": "13800005678", "password": "long-enough-pw", "displayName": "x"}}, "VALIDATION_FAILED", "communityID"},
		} {
			res := e.Do(t, "", reg, tc.vars)
			if res.Code() != tc.code || res.Field() != tc.field {
				t.Errorf("%s: got %s/%s, want %s/%s (%+v)", tc.name, res.Code(), res.Field(), tc.code, tc.field, res.Errors)
			}
		}
		login := `mutation($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { token viewer { displayName } } }`
		e.Do(t, "", login, map[string]any{"p": "13800001234", "pw": "wrong-password"}).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, "", login, map[string]any{"p": "13999999999", "pw": "long-enough-pw"}).WantCode(t, "UNAUTHENTICATED")
		var l struct{ Login struct{ Token string } }
		e.Do(t, "", login, map[string]any{"p": "13800001234", "pw": "long-enough-pw"}).Decode(t, &l)

		// The token works, logout revokes it (and only it), then it is refused.
		var v struct{ Viewer *struct{ DisplayName string } }
		e.Do(t, l.Login.Token, `{ viewer { displayName } }`, nil).Decode(t, &v)
		if v.Viewer == nil || v.Viewer.DisplayName != "李雷" {
			t.Fatalf("viewer: %+v", v)
		}
		var out struct{ Logout bool }
		e.Do(t, l.Login.Token, `mutation { logout }`, nil).Decode(t, &out)
		if !out.Logout {
			t.Error("logout returned false")
		}
		res := e.Do(t, l.Login.Token, `{ viewer { displayName } }`, nil)
		res.WantCode(t, "UNAUTHENTICATED")
		if res.Status != http.StatusUnauthorized {
			t.Errorf("revoked token status %d", res.Status)
		}
		e.Do(t, r.Register.Token, `{ viewer { displayName } }`, nil).Decode(t, &v)
		e.Do(t, "", `mutation { logout }`, nil).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, "garbage", `{ viewer { displayName } }`, nil).WantCode(t, "UNAUTHENTICATED")
		// An expired session is refused like a revoked one (a token never used
		// before, so no cache stands in the way).
		var l2 struct{ Login struct{ Token string } }
		e.Do(t, "", login, map[string]any{"p": "13800001234", "pw": "long-enough-pw"}).Decode(t, &l2)
		if _, err := e.Client.Session.Update().Where(session.TokenHash(auth.HashToken(l2.Login.Token))).
			SetExpiresAt(time.Now().Add(-time.Minute)).Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.Do(t, l2.Login.Token, `{ viewer { displayName } }`, nil).WantCode(t, "UNAUTHENTICATED")
		// Anonymous viewer is null, not an error.
		var anon struct{ Viewer *struct{ ID string } }
		e.Do(t, "", `{ viewer { id } }`, nil).Decode(t, &anon)
		if anon.Viewer != nil {
			t.Errorf("anonymous viewer: %+v", anon)
		}
	})
}

func TestRateLimit(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, _ := e.Person(t, c.ID, "王芳")
		login := `mutation($p: String!) { login(input: {phone: $p, password: "wrong-password"}) { token } }`
		codes := map[string]int{}
		for i := 0; i < 8; i++ {
			codes[e.Do(t, "", login, map[string]any{"p": p.Phone}).Code()]++
		}
		// A burst of 5 per phone, then RATE_LIMITED even for the right password.
		if codes["UNAUTHENTICATED"] != 5 || codes["RATE_LIMITED"] != 3 {
			t.Errorf("codes %v", codes)
		}
		e.Do(t, "", `mutation($p: String!) { login(input: {phone: $p, password: "`+linlitest.Password+`"}) { token } }`,
			map[string]any{"p": p.Phone}).WantCode(t, "RATE_LIMITED")
	}, func(c *app.Config) { c.RateLimitPerMinute = 1 })
}

func TestValidation(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		mk := func(over map[string]any, slots []map[string]any) map[string]any {
			in := map[string]any{"title": "义诊", "category": "SQUARE", "serviceType": "HEALTH",
				"startsAt": "2030-05-01T09:00:00Z", "endsAt": "2030-05-01T12:00:00Z"}
			for k, v := range over {
				in[k] = v
			}
			if slots == nil {
				slots = []map[string]any{{"name": "座位", "capacity": 40}}
			}
			return map[string]any{"in": in, "slots": slots}
		}
		q := `mutation($in: CreateActivityInput!, $slots: [SlotInput!]!) { createActivity(input: $in, slots: $slots) { id } }`
		long := make([]rune, 201)
		for i := range long {
			long[i] = '长'
		}
		for _, tc := range []struct {
			name  string
			vars  map[string]any
			field string
		}{
			{"ends before start", mk(map[string]any{"endsAt": "2030-05-01T08:00:00Z"}, nil), "endsAt"},
			{"title too long", mk(map[string]any{"title": string(long)}, nil), "title"},
			{"empty title", mk(map[string]any{"title": " "}, nil), "title"},
			{"signup closes before it opens", mk(map[string]any{"signupOpensAt": "2030-04-20T00:00:00Z", "signupClosesAt": "2030-04-10T00:00:00Z"}, nil), "signupClosesAt"},
			{"negative capacity", mk(nil, []map[string]any{{"name": "座位", "capacity": -1}}), "slots[0].capacity"},
			{"no slots", mk(nil, []map[string]any{}), "slots"},
			{"seats per signup", mk(nil, []map[string]any{{"name": "座位", "capacity": 3, "maxSeatsPerSignup": 0}}), "slots[0].maxSeatsPerSignup"},
			{"negative check-in window", mk(map[string]any{"checkinOpensMinutes": -5}, nil), "checkinOpensMinutes"},
		} {
			res := e.Do(t, coord, q, tc.vars)
			if res.Code() != "VALIDATION_FAILED" || res.Field() != tc.field {
				t.Errorf("%s: got %s/%q, want VALIDATION_FAILED/%s (%+v)", tc.name, res.Code(), res.Field(), tc.field, res.Errors)
			}
		}
		// Nothing was written by the refused calls.
		if n, _ := e.Client.Activity.Query().Count(e.Sys()); n != 0 {
			t.Errorf("%d activities written by refused calls", n)
		}
		// GraphQL-level errors carry codes too.
		for _, bad := range []string{`{ activities(first: 1) { nope } }`, `{ activities(first: "x") { totalCount } }`, `{`, `mutation { logout(x: 1) }`} {
			e.Do(t, coord, bad, nil).WantCode(t, "VALIDATION_FAILED")
		}
		e.Do(t, coord, `{ activities { totalCount } }`, nil).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, coord, `{ activities(first: 101) { totalCount } }`, nil).WantCode(t, "VALIDATION_FAILED")

		// GET serves queries but never mutations.
		get := func(query string) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?query="+url.QueryEscape(query), nil)
			req.Header.Set("Authorization", "Bearer "+coord)
			resp, err := e.Server.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if resp := get(`{ viewer { id } }`); resp.StatusCode != 200 {
			t.Errorf("GET query: %d", resp.StatusCode)
		}
		if resp := get(`mutation { logout }`); resp.StatusCode == 200 {
			t.Errorf("GET mutation accepted")
		}
		var still struct{ Viewer *struct{ ID string } }
		e.Do(t, coord, `{ viewer { id } }`, nil).Decode(t, &still)
		if still.Viewer == nil {
			t.Error("GET mutation logged the coordinator out")
		}
	})
}
