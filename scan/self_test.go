package scan_test

import (
	"strings"
	"testing"
	"time"

	"linli/ent/checkinscan"
	"linli/ent/secret"
	"linli/linlitest"
	"linli/scan"
)

type selfCode struct {
	URL, Code        string
	ExpiresAt        time.Time
	RotatesInSeconds int
}

func (s *site) selfCode(t *testing.T, token string, activityID int) selfCode {
	t.Helper()
	var out struct{ SelfCheckInCode selfCode }
	s.e.Do(t, token, `query($a: ID!) { selfCheckInCode(activityID: $a) { url code expiresAt rotatesInSeconds } }`,
		map[string]any{"a": linlitest.ID(activityID)}).Decode(t, &out)
	return out.SelfCheckInCode
}

func (s *site) selfCheckIn(t *testing.T, token, code, nonce string) answer {
	t.Helper()
	var out struct{ SelfCheckIn answer }
	s.e.Do(t, token, `mutation($c: String!, $n: String!) { selfCheckIn(code: $c, nonce: $n) { `+resultFields+` } }`,
		map[string]any{"c": code, "n": nonce}).Decode(t, &out)
	return out.SelfCheckIn
}

// TestSelfCheckIn: a kiosk shows a rotating code; a resident signed up for
// the activity scans it with their phone and is checked in through the
// door's path (the slot's counter, the scan recorded with method SELF and
// the resident as actor); a retry answers the same, a second scan is
// ALREADY_CHECKED_IN; a forged code is UNKNOWN_CODE, a code that rotated
// away 45 s ago CODE_EXPIRED, someone not signed up UNKNOWN_CODE; only the
// kiosk at the venue and staff get codes.
func TestSelfCheckIn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		c := s.selfCode(t, s.kiosk, s.activity.ID)
		if c.URL != scan.SelfCheckInPath+"?c="+c.Code || len(c.Code) < 20 || c.RotatesInSeconds < 1 || c.RotatesInSeconds > 30 ||
			time.Until(c.ExpiresAt) > 31*time.Second {
			t.Fatalf("code %+v", c)
		}
		if staff := s.selfCode(t, s.staff, s.activity.ID); staff.Code == "" {
			t.Fatal("staff got no code")
		}

		m := s.member(t, "章居民")
		r := s.signUp(t, m, s.seats, 2)
		n := nonce()
		a := s.selfCheckIn(t, m.token, c.Code, n)
		wantStatus(t, a, "OK")
		if a.Registration == nil || atoi(t, a.Registration.ID) != r.ID || a.Registration.Status != "CHECKED_IN" {
			t.Fatalf("answer %+v", a)
		}
		s.wantCheckedIn(t, s.seats.ID, 2)
		sc := e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(r.ID)).OnlyX(e.Sys())
		if sc.Method != checkinscan.MethodSELF || sc.ActorID == nil || *sc.ActorID != m.person.ID || sc.KioskID != nil {
			t.Fatalf("scan recorded %+v", sc)
		}
		wantStatus(t, s.selfCheckIn(t, m.token, c.Code, n), "OK") // a retry
		wantStatus(t, s.selfCheckIn(t, m.token, c.Code, nonce()), "ALREADY_CHECKED_IN")
		s.wantCheckedIn(t, s.seats.ID, 2)

		// Forged, garbled and expired codes.
		other := s.member(t, "李居民")
		s.signUp(t, other, s.seats, 1)
		forged := []byte(c.Code)
		forged[5] ^= 1
		for _, bad := range []string{string(forged), "", "not-a-code", strings.Repeat("A", 32)} {
			wantStatus(t, s.selfCheckIn(t, other.token, bad, nonce()), "UNKNOWN_CODE")
		}
		key := e.Client.Secret.Query().Where(secret.Name("self-checkin-key")).OnlyX(e.Sys()).Value
		if fresh := scan.MakeSelfCode(key, s.activity.ID, time.Now()); fresh != c.Code && fresh != s.selfCode(t, s.kiosk, s.activity.ID).Code {
			t.Fatal("the stored key does not make the kiosk's code")
		}
		old := scan.MakeSelfCode(key, s.activity.ID, time.Now().Add(-45*time.Second))
		wantStatus(t, s.selfCheckIn(t, other.token, old, nonce()), "CODE_EXPIRED")
		s.wantCheckedIn(t, s.seats.ID, 2)
		// Someone not signed up.
		stranger := s.member(t, "路人")
		wantStatus(t, s.selfCheckIn(t, stranger.token, c.Code, nonce()), "UNKNOWN_CODE")

		// Who may get a code.
		_, elsewhere := s.registerKiosk(t, s.newVenue(t, "文化广场").ID, "广场平板")
		q := `query($a: ID!) { selfCheckInCode(activityID: $a) { code } }`
		vars := map[string]any{"a": linlitest.ID(s.activity.ID)}
		e.Do(t, elsewhere, q, vars).WantCode(t, "FORBIDDEN")
		e.Do(t, m.token, q, vars).WantCode(t, "FORBIDDEN")
		e.Do(t, "", `mutation { selfCheckIn(code: "x", nonce: "y") { status } }`, nil).WantCode(t, "UNAUTHENTICATED")
	})
}

// TestCheckInSearch: a kiosk finds people by surname, phone tail, both,
// and pinyin initials; names come back masked, at most 20, cancelled
// registrations left out; a kiosk at another venue is FORBIDDEN.
func TestCheckInSearch(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		wu := s.member(t, "吴小雨")
		wang := s.member(t, "王建国")
		s.signUp(t, wu, s.seats, 1)
		s.signUp(t, wang, s.seats, 1)
		tail := wu.person.Phone[len(wu.person.Phone)-4:]
		type match struct {
			MaskedName, Status string
			PhoneTail          *string
			Registration       struct{ ID string }
		}
		search := func(token, query string) []match {
			var out struct{ CheckInSearch []match }
			e.Do(t, token, `query($a: ID!, $q: String!) { checkInSearch(activityID: $a, query: $q) { maskedName phoneTail status registration { id } } }`,
				map[string]any{"a": linlitest.ID(s.activity.ID), "q": query}).Decode(t, &out)
			return out.CheckInSearch
		}
		for _, q := range []string{"吴", "吴小", tail, "吴" + tail, "wxy", "WX"} {
			got := search(s.kiosk, q)
			if len(got) != 1 || got[0].MaskedName == "吴小雨" || !strings.HasPrefix(got[0].MaskedName, "吴") ||
				got[0].PhoneTail == nil || *got[0].PhoneTail != tail || got[0].Status != "CONFIRMED" {
				t.Fatalf("search %q: %+v", q, got)
			}
		}
		if got := search(s.staff, "王"); len(got) != 1 {
			t.Fatalf("staff search 王: %+v", got)
		}
		if got := search(s.kiosk, "李"); len(got) != 0 {
			t.Fatalf("search 李: %+v", got)
		}
		// At most 20, those confirmed first (the seats run out: the rest wait).
		for i := 0; i < 21; i++ {
			s.signUp(t, s.member(t, "张三"), s.seats, 1)
		}
		got := search(s.kiosk, "zs")
		if len(got) != 20 || got[0].Status != "CONFIRMED" || got[19].Status != "WAITLISTED" {
			t.Fatalf("search zs: %d matches, first %s, last %s", len(got), got[0].Status, got[len(got)-1].Status)
		}
		e.Do(t, s.kiosk, `query($a: ID!) { checkInSearch(activityID: $a, query: "12") { maskedName } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).WantCode(t, "VALIDATION_FAILED")
		_, elsewhere := s.registerKiosk(t, s.newVenue(t, "文化广场").ID, "广场平板")
		e.Do(t, elsewhere, `query($a: ID!) { checkInSearch(activityID: $a, query: "吴") { maskedName } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, wu.token, `query($a: ID!) { checkInSearch(activityID: $a, query: "吴") { maskedName } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).WantCode(t, "FORBIDDEN")
	})
}
