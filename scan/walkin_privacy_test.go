package scan_test

import (
	"fmt"
	"testing"
	"time"

	"linli/ent/activity"
	"linli/ent/person"
	"linli/linlitest"
	"linli/viewer"
)

// TestWalkInSaysNothingAboutOtherCommunities: a phone with an account in
// another community and a phone nobody has get the same answers at a
// kiosk and from staff, with and without a name; the walk-in is registered
// in the kiosk's community and the other account is untouched (it still
// signs in).
func TestWalkInSaysNothingAboutOtherCommunities(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		other := newSite(t, e, "红旗社区")
		elsewhere := other.member(t, "外社区居民")
		nobody := "13612340099"

		for _, token := range []string{s.kiosk, s.staff} {
			// Without a name: one answer, whoever has the number elsewhere.
			a := s.walkIn(t, token, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": elsewhere.person.Phone, "nonce": "same-1"})
			b := s.walkIn(t, token, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": nobody, "nonce": "same-2"})
			if mustJSON(a) != mustJSON(b) {
				t.Fatalf("elsewhere answered %s, nobody %s", mustJSON(a), mustJSON(b))
			}
			a.WantCode(t, "VALIDATION_FAILED")
		}
		// With a name: both are registered here and checked in, with the
		// same answer.
		q := `mutation($in: WalkInInput!) { walkIn(input: $in) { status message } }`
		a := e.Do(t, s.kiosk, q, map[string]any{"in": map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": elsewhere.person.Phone, "displayName": "新居民", "nonce": "named-1"}})
		b := e.Do(t, s.kiosk, q, map[string]any{"in": map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": nobody, "displayName": "新居民", "nonce": "named-2"}})
		if mustJSON(a) != mustJSON(b) {
			t.Fatalf("elsewhere answered %s, nobody %s", mustJSON(a), mustJSON(b))
		}
		if decodeAnswer(t, a, "walkIn").Status != "OK" {
			t.Fatalf("walk-in: %s", mustJSON(a))
		}
		for _, phone := range []string{elsewhere.person.Phone, nobody} {
			p, err := e.Client.Person.Query().Where(person.Phone(phone), person.CommunityID(s.community.ID)).Only(e.Sys())
			if err != nil || p.PasswordHash != "" {
				t.Fatalf("walk-in %s here: %+v, %v", phone, p, err)
			}
		}
		s.wantCheckedIn(t, s.seats.ID, 2)
		// The account elsewhere still signs in, as itself.
		var login struct {
			Login struct {
				Viewer struct{ ID, DisplayName string }
			}
		}
		e.Do(t, "", `mutation($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { viewer { id displayName } } }`,
			map[string]any{"p": elsewhere.person.Phone, "pw": linlitest.Password}).Decode(t, &login)
		if login.Login.Viewer.DisplayName != "外社区居民" {
			t.Fatalf("login as %+v", login.Login.Viewer)
		}
	})
}

// TestWalkInRateLimited: 200 walk-ins in a row from one kiosk are refused
// with RATE_LIMITED after the burst; another kiosk and a staff member have
// their own allowance, and a retried nonce still gets its first answer.
func TestWalkInRateLimited(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		in := map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13600000000", "displayName": "新居民", "nonce": "first"}
		first := s.walkIn(t, s.kiosk, in)
		wantStatus(t, decodeAnswer(t, first, "walkIn"), "OK")
		answered, limited := 1, 0
		for i := 1; i < 200; i++ {
			res := s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": fmt.Sprintf("136%08d", i)})
			switch res.Code() {
			case "VALIDATION_FAILED":
				answered++
			case "RATE_LIMITED":
				limited++
			default:
				t.Fatalf("walk-in %d: %s", i, mustJSON(res))
			}
		}
		// A burst of 20, and at most a few refilled (6 a minute) while the
		// loop runs.
		if answered < 20 || answered > 25 || limited != 200-answered {
			t.Fatalf("%d looked up, %d refused of 200", answered, limited)
		}
		if again := s.walkIn(t, s.kiosk, in); mustJSON(again) != mustJSON(first) {
			t.Fatalf("retry answered %s, first %s", mustJSON(again), mustJSON(first))
		}
		_, other := s.registerKiosk(t, s.venue.ID, "侧门平板")
		s.walkIn(t, other, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13500000001"}).WantCode(t, "VALIDATION_FAILED")
		s.walkIn(t, s.staff, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13500000002"}).WantCode(t, "VALIDATION_FAILED")
		// Staff have a bucket of their own too.
		_, staff2 := e.Person(t, s.community.ID, "社工二", viewer.Coordinator)
		n := 0
		for i := 0; i < 40; i++ {
			if s.walkIn(t, staff2, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": fmt.Sprintf("135%08d", 100+i)}).Code() == "RATE_LIMITED" {
				n++
			}
		}
		if n < 15 {
			t.Fatalf("staff: %d of 40 refused", n)
		}
	})
}

// TestWalkInDraftSlotIsUnknownToKiosks: a kiosk learns nothing of a draft
// from a walk-in on its slot: the answer is the one for a slot that does
// not exist; staff, who see drafts, are told it is not open yet.
func TestWalkInDraftSlotIsUnknownToKiosks(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		a, seats, _ := s.newActivity(t, 0, time.Now().Add(10*time.Minute))
		if err := a.Update().SetStatus(activity.StatusDRAFT).ClearPublishedAt().Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		in := func(slotID any) map[string]any {
			return map[string]any{"slotID": slotID, "phone": "13612340077", "displayName": "新居民", "nonce": "draft-walk-in"}
		}
		draft := s.walkIn(t, s.kiosk, in(linlitest.ID(seats.ID)))
		draft.WantCode(t, "NOT_FOUND")
		missing := s.walkIn(t, s.kiosk, in(linlitest.ID(seats.ID+1000)))
		if draft.Errors[0].Message != missing.Errors[0].Message {
			t.Errorf("draft slot answered %q, a missing slot %q", draft.Errors[0].Message, missing.Errors[0].Message)
		}
		s.walkIn(t, s.staff, in(linlitest.ID(seats.ID))).WantCode(t, "SIGNUP_NOT_OPEN")
	})
}
