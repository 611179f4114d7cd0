package ledger_test

// Table tests of the ledger's pure rules: no database, they run in
// microseconds and stay in the -short loop. The database-backed tests
// (window_test.go, rules_test.go) check the same rules through the API and
// against their Ent forms.

import (
	"testing"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/ledger"
	"linli/viewer"
)

func TestFitsTable(t *testing.T) {
	for _, c := range []struct {
		name                     string
		capacity, taken, waiting int
		n                        int
		fits                     bool
	}{
		{"empty slot, one seat", 5, 0, 0, 1, true},
		{"exactly fills the slot", 5, 3, 0, 2, true},
		{"one seat too many", 5, 4, 0, 2, false},
		{"full slot", 5, 5, 0, 1, false},
		{"room, but someone waits", 5, 0, 1, 1, false},
		{"zero capacity", 0, 0, 0, 1, false},
		{"zero seats on a full slot", 5, 5, 0, 0, true},
	} {
		s := &ent.Slot{Capacity: c.capacity, Taken: c.taken, Waitlisted: c.waiting}
		if got := ledger.Fits(s, c.n); got != c.fits {
			t.Errorf("%s: Fits(capacity %d, taken %d, waitlisted %d; %d) = %v, want %v",
				c.name, c.capacity, c.taken, c.waiting, c.n, got, c.fits)
		}
		if got, want := ledger.Free(s), c.capacity-c.taken; got != want {
			t.Errorf("%s: Free = %d, want %d", c.name, got, want)
		}
	}
}

// Every status of the schema (seven today), each with what it holds.
func TestHeldTable(t *testing.T) {
	want := map[registration.Status]ledger.Counts{
		registration.StatusCONFIRMED:        {Taken: 3},
		registration.StatusCHECKED_IN:       {Taken: 3},
		registration.StatusCHECKED_OUT:      {Taken: 3},
		registration.StatusWAITLISTED:       {Waitlisted: 3},
		registration.StatusPENDING_APPROVAL: {Pending: 3},
		registration.StatusCANCELLED:        {},
		registration.StatusNO_SHOW:          {},
	}
	for st := range want {
		if err := registration.StatusValidator(st); err != nil {
			t.Errorf("status %s: %v", st, err)
		}
	}
	for st := range want {
		w := want[st]
		got := ledger.Held(st, 3)
		if got != w {
			t.Errorf("Held(%s, 3) = %+v, want %+v", st, got, w)
		}
		if neg := got.Neg(); neg != (ledger.Counts{Taken: -w.Taken, Waitlisted: -w.Waitlisted, Pending: -w.Pending}) {
			t.Errorf("Held(%s, 3).Neg() = %+v", st, neg)
		}
	}
	for _, st := range ledger.Open {
		if ledger.Held(st, 1) == (ledger.Counts{}) {
			t.Errorf("open status %s holds nothing", st)
		}
	}
}

// The sign-up window on the same cases as TestOpenForSignupAgrees (which
// checks the Ent predicate against them on both databases), here on the Go
// rule alone: OpenForSignup, WindowError's code, and SignupClosesAt.
func TestSignupWindowTable(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, m := range []time.Duration{time.Microsecond, time.Hour} {
		for _, wc := range windowCases(m) {
			a := &ent.Activity{Status: wc.status, StartsAt: at.Add(wc.starts)}
			if a.Status == "" {
				a.Status = activity.StatusPUBLISHED
			}
			if wc.opens != nil {
				o := at.Add(*wc.opens)
				a.SignupOpensAt = &o
			}
			if wc.closes != nil {
				c := at.Add(*wc.closes)
				a.SignupClosesAt = &c
			}
			if got := ledger.OpenForSignup(a, at); got != wc.open {
				t.Errorf("%s (±%v): OpenForSignup = %v, want %v", wc.name, m, got, wc.open)
			}
			err := ledger.WindowError(a, at)
			if wc.open {
				if err != nil {
					t.Errorf("%s (±%v): WindowError = %v, want nil", wc.name, m, err)
				}
			} else if e, ok := apperr.As(err); !ok || string(e.Code) != wc.refusal {
				t.Errorf("%s (±%v): WindowError = %v, want %s", wc.name, m, err, wc.refusal)
			}
			closes := a.StartsAt
			if a.SignupClosesAt != nil {
				closes = *a.SignupClosesAt
			}
			if got := ledger.SignupClosesAt(a); !got.Equal(closes) {
				t.Errorf("%s (±%v): SignupClosesAt = %v, want %v", wc.name, m, got, closes)
			}
		}
	}
	draft := &ent.Activity{Status: activity.StatusDRAFT, StartsAt: at.Add(time.Hour)}
	if ledger.OpenForSignup(draft, at) {
		t.Error("a draft is open for sign-up")
	}
	if e, ok := apperr.As(ledger.WindowError(draft, at)); !ok || e.Code != apperr.SignupNotOpen {
		t.Errorf("draft: WindowError %v, want SIGNUP_NOT_OPEN", ledger.WindowError(draft, at))
	}
}

func TestEligibleTable(t *testing.T) {
	resident := &viewer.Viewer{PersonID: 1, CommunityID: 1, Roles: []viewer.Role{viewer.Resident}}
	volunteer := &viewer.Viewer{PersonID: 2, CommunityID: 1, Roles: []viewer.Role{viewer.Resident, viewer.Volunteer}}
	talk := &ent.Activity{ServiceType: activity.ServiceTypeCULTURE}
	health := &ent.Activity{ServiceType: activity.ServiceTypeHEALTH}
	seats := &ent.Slot{Kind: slot.KindATTENDEE, MaxSeatsPerSignup: 2}
	helper := &ent.Slot{Kind: slot.KindVOLUNTEER, MaxSeatsPerSignup: 1}
	for _, c := range []struct {
		name    string
		v       *viewer.Viewer
		a       *ent.Activity
		s       *ent.Slot
		seats   int
		consent bool
		code    apperr.Code // "" when eligible
		field   string
	}{
		{"resident, one seat", resident, talk, seats, 1, false, "", ""},
		{"resident, the most seats", resident, talk, seats, 2, false, "", ""},
		{"too many seats", resident, talk, seats, 3, false, apperr.ValidationFailed, "seats"},
		{"no seats", resident, talk, seats, 0, false, apperr.ValidationFailed, "seats"},
		{"volunteer position, resident", resident, talk, helper, 1, false, apperr.NotEligible, ""},
		{"volunteer position, volunteer", volunteer, talk, helper, 1, false, "", ""},
		{"health without consent", resident, health, seats, 1, false, apperr.ConsentRequired, ""},
		{"health with consent", resident, health, seats, 1, true, "", ""},
		// The order a client acts on: the role before the seats.
		{"resident, volunteer position, too many seats", resident, talk, helper, 2, false, apperr.NotEligible, ""},
		// The seats before consent.
		{"health, too many seats, no consent", resident, health, seats, 3, false, apperr.ValidationFailed, "seats"},
	} {
		err := ledger.Eligible(c.v, c.a, c.s, c.seats, c.consent, ledger.Standing{})
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v, want eligible", c.name, err)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok || e.Code != c.code || e.Field != c.field {
			t.Errorf("%s: %v, want %s (field %q)", c.name, err, c.code, c.field)
		}
	}
}
