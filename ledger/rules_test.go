package ledger_test

import (
	"testing"
	"time"

	"linli/ent/activity"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// Every refusal a sign-up can meet, each with its code, and the successful
// case next to it so the refusal is not an accident of the setup.
func TestSignUpRefusals(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "别的社区")
		_, alice := e.Person(t, c.ID, "Alice")
		_, bob := e.Person(t, c.ID, "Bob")
		_, vol := e.Person(t, c.ID, "Vera", viewer.Volunteer)
		_, staff := e.Person(t, c.ID, "Coordinator", viewer.Coordinator)
		_, stranger := e.Person(t, other.ID, "Stranger")
		ctx := e.Sys()
		now := time.Now().UTC()

		_, open := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "seats", Capacity: 5, MaxSeats: 2},
			{Name: "no waitlist", Capacity: 1, NoWaitlist: true},
			{Name: "doctor", Kind: slot.KindVOLUNTEER, Capacity: 2},
		}})
		seats, noWait, doctor := open[0].ID, open[1].ID, open[2].ID

		t.Run("unauthenticated", func(t *testing.T) { refuse(t, e, "", seats, nil, "UNAUTHENTICATED") })
		t.Run("no such slot", func(t *testing.T) { refuse(t, e, alice, 999999, nil, "NOT_FOUND") })
		t.Run("other community", func(t *testing.T) { refuse(t, e, stranger, seats, nil, "NOT_FOUND") })
		t.Run("seats", func(t *testing.T) {
			e.Do(t, alice, signUpQuery, input(seats, map[string]any{"seats": 3})).WantCode(t, "VALIDATION_FAILED")
			res := e.Do(t, alice, signUpQuery, input(seats, map[string]any{"seats": 0}))
			res.WantCode(t, "VALIDATION_FAILED")
			if res.Field() != "seats" {
				t.Fatalf("field %q, want seats", res.Field())
			}
		})
		t.Run("already registered", func(t *testing.T) {
			a := signUp(t, e, alice, seats, map[string]any{"seats": 2})
			if a.Outcome != "CONFIRMED" || a.Registration.Seats != 2 {
				t.Fatalf("first sign-up: %+v", a)
			}
			refuse(t, e, alice, seats, nil, "ALREADY_REGISTERED")
			// After cancelling, signing up again is a new registration.
			cancel(t, e, alice, int(a.Registration.ID))
			if b := signUp(t, e, alice, seats, nil); b.Registration.ID == a.Registration.ID || b.Outcome != "CONFIRMED" {
				t.Fatalf("sign-up after cancel: %+v", b)
			}
		})
		t.Run("capacity full without waitlist", func(t *testing.T) {
			if a := signUp(t, e, alice, noWait, nil); a.Outcome != "CONFIRMED" {
				t.Fatalf("first: %+v", a)
			}
			refuse(t, e, bob, noWait, nil, "CAPACITY_FULL")
			if st := readSlot(t, e, noWait); st.taken != 1 || st.rows != 1 || len(st.consistent()) > 0 {
				t.Fatalf("slot after refusal: %+v %v", st, st.consistent())
			}
		})
		t.Run("volunteer position", func(t *testing.T) {
			refuse(t, e, alice, doctor, nil, "NOT_ELIGIBLE")
			if a := signUp(t, e, vol, doctor, nil); a.Outcome != "CONFIRMED" {
				t.Fatalf("volunteer: %+v", a)
			}
		})

		window := func(opens, closes *time.Time, starts time.Time) int {
			a, sl := e.Activity(t, c.ID, linlitest.ActivitySpec{StartsAt: starts})
			if err := e.Client.Activity.UpdateOneID(a.ID).SetNillableSignupOpensAt(opens).
				SetNillableSignupClosesAt(closes).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			return sl[0].ID
		}
		later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
		t.Run("not open yet", func(t *testing.T) {
			refuse(t, e, alice, window(&later, nil, now.Add(48*time.Hour)), nil, "SIGNUP_NOT_OPEN")
			signUp(t, e, alice, window(&earlier, nil, now.Add(48*time.Hour)), nil)
		})
		t.Run("closed", func(t *testing.T) {
			refuse(t, e, alice, window(nil, &earlier, now.Add(48*time.Hour)), nil, "SIGNUP_CLOSED")
			// Without an explicit close, sign-up closes when the activity starts.
			refuse(t, e, alice, window(nil, nil, now.Add(-time.Minute)), nil, "SIGNUP_CLOSED")
			signUp(t, e, alice, window(nil, &later, now.Add(48*time.Hour)), nil)
		})
		status := func(s activity.Status) int {
			_, sl := e.Activity(t, c.ID, linlitest.ActivitySpec{Status: s})
			return sl[0].ID
		}
		t.Run("cancelled", func(t *testing.T) { refuse(t, e, alice, status(activity.StatusCANCELLED), nil, "ACTIVITY_CANCELLED") })
		t.Run("completed", func(t *testing.T) { refuse(t, e, alice, status(activity.StatusCOMPLETED), nil, "SIGNUP_CLOSED") })
		t.Run("draft", func(t *testing.T) {
			draft := status(activity.StatusDRAFT)
			refuse(t, e, alice, draft, nil, "NOT_FOUND") // residents do not see drafts
			refuse(t, e, staff, draft, nil, "SIGNUP_NOT_OPEN")
		})
	})
}

// Health activities need explicit consent; it is recorded with its time.
func TestSignUpConsent(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, alice := e.Person(t, c.ID, "Alice")
		_, clinic := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊", ServiceType: activity.ServiceTypeHEALTH})
		_, show := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "黄梅戏", ServiceType: activity.ServiceTypeCULTURE})

		refuse(t, e, alice, clinic[0].ID, nil, "CONSENT_REQUIRED")
		refuse(t, e, alice, clinic[0].ID, map[string]any{"consentSensitive": false}, "CONSENT_REQUIRED")
		if st := readSlot(t, e, clinic[0].ID); st.rows != 0 || st.taken != 0 {
			t.Fatalf("a refused sign-up left traces: %+v", st)
		}
		before := time.Now().Add(-time.Second)
		a := signUp(t, e, alice, clinic[0].ID, map[string]any{"consentSensitive": true})
		if a.Outcome != "CONFIRMED" || a.Registration.ConsentSensitiveAt == nil {
			t.Fatalf("consented sign-up: %+v", a)
		}
		at, err := time.Parse(time.RFC3339Nano, *a.Registration.ConsentSensitiveAt)
		if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Fatalf("consent time %v (%v)", *a.Registration.ConsentSensitiveAt, err)
		}
		// No health data, no consent needed, none recorded.
		if b := signUp(t, e, alice, show[0].ID, nil); b.Registration.ConsentSensitiveAt != nil {
			t.Fatalf("consent recorded for a culture show: %+v", b)
		}
	})
}
