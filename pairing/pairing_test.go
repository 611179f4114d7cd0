package pairing_test

import (
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/ent"
	"linli/linlitest"
	"linli/viewer"
)

type kioskSite struct {
	staff   string
	venue   *ent.Venue
	kioskID string
	token   string
}

func newKioskSite(t *testing.T, e *linlitest.Env, name string) *kioskSite {
	t.Helper()
	c := e.Community(t, name)
	s := &kioskSite{}
	_, s.staff = e.Person(t, c.ID, "社工", viewer.Coordinator)
	v, err := e.Client.Venue.Create().SetCommunityID(c.ID).SetName("道德讲堂").SetAddress("前进路 1 号").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	s.venue = v
	var out struct {
		RegisterKiosk struct {
			Token string
			Kiosk struct{ ID string }
		}
	}
	e.Do(t, s.staff, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "前台平板") { token kiosk { id } } }`,
		map[string]any{"v": e.ID(v.ID)}).Decode(t, &out)
	s.kioskID, s.token = out.RegisterKiosk.Kiosk.ID, out.RegisterKiosk.Token
	return s
}

const createCode = `mutation($k: ID!) { createKioskPairingCode(kioskID: $k) { code expiresAt kiosk { id name } } }`
const pair = `mutation($c: String!) { pairKiosk(code: $c) { token kiosk { id name venueID } } }`

func newCode(t *testing.T, e *linlitest.Env, s *kioskSite) string {
	t.Helper()
	var out struct {
		CreateKioskPairingCode struct {
			Code      string
			ExpiresAt time.Time
			Kiosk     struct{ ID string }
		}
	}
	e.Do(t, s.staff, createCode, map[string]any{"k": s.kioskID}).Decode(t, &out)
	c := out.CreateKioskPairingCode
	if c.Kiosk.ID != s.kioskID || len(c.Code) != 9 || c.Code[4] != '-' {
		t.Fatalf("pairing code %+v", c)
	}
	if left := time.Until(c.ExpiresAt); left < 9*time.Minute || left > 10*time.Minute+time.Second {
		t.Fatalf("code expires in %v, want 10 minutes", left)
	}
	return c.Code
}

// works reports whether token is a live kiosk token (it may read the
// venues of its community).
func works(t *testing.T, e *linlitest.Env, token string) bool {
	t.Helper()
	r := e.Do(t, token, `{ venues { id } }`, nil)
	if r.Code() == "UNAUTHENTICATED" {
		return false
	}
	if r.Err() != nil {
		t.Fatalf("venues: %v", r.Err())
	}
	return true
}

// A code pairs a tablet once: the tablet gets a new token of the kiosk
// (typed in any case, with or without the dash), the old token stops
// working, and the code cannot be used again.
func TestPairOnce(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newKioskSite(t, e, "前进社区")
		code := newCode(t, e, s)
		var out struct {
			PairKiosk struct {
				Token string
				Kiosk struct{ ID, Name, VenueID string }
			}
		}
		typed := code[:4] + code[5:]
		e.Do(t, "", pair, map[string]any{"c": " " + string([]rune(typed)) + " "}).Decode(t, &out)
		p := out.PairKiosk
		if p.Kiosk.ID != s.kioskID || p.Kiosk.Name != "前台平板" || p.Kiosk.VenueID != e.ID(s.venue.ID) || p.Token == "" || p.Token == s.token {
			t.Fatalf("pairKiosk = %+v", p)
		}
		if !works(t, e, p.Token) {
			t.Fatal("the paired token does not work")
		}
		if works(t, e, s.token) {
			t.Fatal("the kiosk's previous token still works after pairing")
		}
		e.Do(t, "", pair, map[string]any{"c": code}).WantCode(t, "NOT_FOUND")
		e.Do(t, "", pair, map[string]any{"c": "ABCD-EFGH"}).WantCode(t, "NOT_FOUND")
		r := e.Do(t, "", pair, map[string]any{"c": "0000"})
		r.WantCode(t, "VALIDATION_FAILED")
		if r.Field() != "code" {
			t.Errorf("field %q, want code", r.Field())
		}
	})
}

// Of tablets sending one code at once, exactly one gets a token.
func TestPairConcurrent(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newKioskSite(t, e, "前进社区")
		code := newCode(t, e, s)
		const n = 8
		var wg sync.WaitGroup
		tokens := make(chan string, n)
		codes := make(chan string, n)
		for range n {
			wg.Go(func() {
				r, err := linlitest.Send(e.Server.Client(), e.Server.URL+"/graphql", "", pair, map[string]any{"c": code})
				if err != nil {
					codes <- err.Error()
					return
				}
				var out struct{ PairKiosk struct{ Token string } }
				if r.Err() != nil {
					codes <- r.Code()
					return
				}
				r.Decode(t, &out)
				tokens <- out.PairKiosk.Token
			})
		}
		wg.Wait()
		close(tokens)
		close(codes)
		var got []string
		for tok := range tokens {
			got = append(got, tok)
		}
		for c := range codes {
			if c != "NOT_FOUND" {
				t.Errorf("a losing pairKiosk answered %s, want NOT_FOUND", c)
			}
		}
		if len(got) != 1 {
			t.Fatalf("%d tablets got a token, want 1", len(got))
		}
		if !works(t, e, got[0]) {
			t.Fatal("the winner's token does not work")
		}
	})
}

// Codes expire, die with their kiosk, and only staff of the kiosk's
// community make them.
func TestPairingRules(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newKioskSite(t, e, "前进社区")
		other := newKioskSite(t, e, "红旗社区")
		_, resident := e.Person(t, e.Community(t, "第三社区").ID, "居民", viewer.Resident)

		e.Do(t, "", createCode, map[string]any{"k": s.kioskID}).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, resident, createCode, map[string]any{"k": s.kioskID}).WantCode(t, "FORBIDDEN")
		e.Do(t, s.token, createCode, map[string]any{"k": s.kioskID}).WantCode(t, "FORBIDDEN")
		e.Do(t, other.staff, createCode, map[string]any{"k": s.kioskID}).WantCode(t, "NOT_FOUND")

		// Expired: the code's ten minutes are moved into the past.
		code := newCode(t, e, s)
		backdate(t, e, 10*time.Minute+time.Second)
		e.Do(t, "", pair, map[string]any{"c": code}).WantCode(t, "NOT_FOUND")

		// Revoked after the code was made: the code is dead too.
		code = newCode(t, e, s)
		e.Do(t, s.staff, `mutation($k: ID!) { revokeKiosk(id: $k) { revokedAt } }`, map[string]any{"k": s.kioskID})
		e.Do(t, "", pair, map[string]any{"c": code}).WantCode(t, "NOT_FOUND")
		e.Do(t, s.staff, createCode, map[string]any{"k": s.kioskID}).WantCode(t, "CONFLICT")
	})
}

// Guessing is rate-limited per address.
func TestPairRateLimited(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		var limited bool
		for i := range 100 {
			r := e.Do(t, "", pair, map[string]any{"c": "ZZZZ-ZZZZ"})
			if r.Code() == "RATE_LIMITED" {
				limited = i > 0
				break
			}
			r.WantCode(t, "NOT_FOUND")
		}
		if !limited {
			t.Fatal("100 wrong pairing codes from one address were never refused")
		}
	}, func(c *app.Config) { c.RateLimitPerMinute = 10 })
}

// Codes long expired are swept when a new one is made.
func TestExpiredCodesSwept(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newKioskSite(t, e, "前进社区")
		newCode(t, e, s)
		backdate(t, e, 25*time.Hour)
		e.Do(t, s.staff, createCode, map[string]any{"k": s.kioskID}).Decode(t, &struct{}{})
		n, err := e.Client.KioskPairingCode.Query().Count(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d codes kept, want only the new one", n)
		}
	})
}

// backdate makes every stored pairing code as if it had been made d ago
// (its ten minutes counted from then): a fixture statement, since
// expires_at is immutable to the application.
func backdate(t *testing.T, e *linlitest.Env, d time.Duration) {
	t.Helper()
	q := e.DB.Rebind(`UPDATE kiosk_pairing_codes SET expires_at = ?`)
	if _, err := e.DB.SQL.Exec(q, time.Now().UTC().Add(-d+10*time.Minute)); err != nil {
		t.Fatal(err)
	}
}
