package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"linli/app"
	"linli/ent/session"
	"linli/linlitest"
	"linli/viewer"
)

func tokenCacheTTL(d time.Duration) linlitest.Option {
	return func(c *app.Config) { c.TokenCacheTTL = d }
}

const whoAmI = `{ viewer { displayName } }`

func signedInAs(t *testing.T, e *linlitest.Env, token, name string) {
	t.Helper()
	var out struct{ Viewer *struct{ DisplayName string } }
	e.Do(t, token, whoAmI, nil).Decode(t, &out)
	if out.Viewer == nil || out.Viewer.DisplayName != name {
		t.Fatalf("viewer %+v, want %s", out.Viewer, name)
	}
}

func refused(t *testing.T, e *linlitest.Env, token string) {
	t.Helper()
	res := e.Do(t, token, whoAmI, nil)
	res.WantCode(t, "UNAUTHENTICATED")
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("status %d", res.Status)
	}
}

// A token checked once is trusted for the TTL without a query, but logout
// on this replica ends it at once, and only it.
func TestTokenCacheLogoutEndsItAtOnce(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		other, err := e.App.Auth.IssueToken(e.Sys(), p.ID)
		if err != nil {
			t.Fatal(err)
		}

		signedInAs(t, e, tok, "王芳")
		before := e.Statements.Load()
		signedInAs(t, e, tok, "王芳")
		// viewer { displayName } reads the person; the token costs nothing.
		if n := e.Statements.Load() - before; n != 1 {
			t.Errorf("a cached token's request ran %d statements, want 1", n)
		}

		// Revoked behind linli's back (another replica's logout): still
		// trusted here within the TTL. This is the documented trade.
		signedInAs(t, e, other.Token, "王芳")
		if _, err := e.Client.Session.Update().Where(session.PersonID(p.ID)).SetRevokedAt(time.Now()).Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		signedInAs(t, e, other.Token, "王芳")

		// Logout here: refused on the very next request.
		var out struct{ Logout bool }
		e.Do(t, tok, `mutation { logout }`, nil).Decode(t, &out)
		refused(t, e, tok)
		// The other session was revoked in the database, but not logged
		// out here: cached until the TTL passes.
		signedInAs(t, e, other.Token, "王芳")
	}, tokenCacheTTL(time.Hour))
}

func TestTokenCacheForgetsAfterTTL(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		signedInAs(t, e, tok, "王芳")
		if _, err := e.Client.Session.Update().Where(session.PersonID(p.ID)).SetRevokedAt(time.Now()).Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		refused(t, e, tok)
	}, tokenCacheTTL(200*time.Millisecond))
}

// With the cache off every request checks the token in the database.
func TestTokenCacheOff(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		signedInAs(t, e, tok, "王芳")
		if _, err := e.Client.Session.Update().Where(session.PersonID(p.ID)).SetRevokedAt(time.Now()).Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		refused(t, e, tok)
	}, tokenCacheTTL(0))
}

// Logout racing requests that read the session just before it: none of them
// may cache the session after the logout.
func TestTokenCacheLogoutRace(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Resident)
		for range 5 {
			p, err := e.Client.Person.Query().First(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.App.Auth.IssueToken(e.Sys(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range 20 {
					req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", strings.NewReader(`{"query": "{ viewer { id } }"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+s.Token)
					if resp, err := e.Server.Client().Do(req); err == nil {
						resp.Body.Close()
					}
				}
			}()
			var out struct{ Logout bool }
			e.Do(t, s.Token, `mutation { logout }`, nil).Decode(t, &out)
			<-done
			refused(t, e, s.Token)
		}
		signedInAs(t, e, tok, "王芳")
	}, tokenCacheTTL(time.Hour))
}
