package organize

// Table tests of the validation organize applies before writing (no
// database, in the -short loop): the activity's times and sign-up window,
// and each slot. times_test.go and slots_test.go drive the same checks
// through the API on both databases.

import (
	"strings"
	"testing"
	"time"

	"linli/apperr"
	"linli/ent/slot"
	"linli/ledger"
)

// field is the VALIDATION_FAILED field of err, "" when err is nil, and
// "?" for any other error.
func field(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := apperr.As(err); ok && e.Code == apperr.ValidationFailed {
		return e.Field
	}
	return "?"
}

func TestCheckWindowTable(t *testing.T) {
	s := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	e := s.Add(2 * time.Hour)
	p := func(t time.Time) *time.Time { return &t }
	for _, c := range []struct {
		name          string
		starts, ends  time.Time
		opens, closes *time.Time
		checkin       int
		field         string
	}{
		{"plain", s, e, nil, nil, 30, ""},
		{"with a window", s, e, p(s.Add(-48 * time.Hour)), p(s), 30, ""},
		{"closes at the end", s, e, nil, p(e), 0, ""},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), e, nil, nil, 0, "startsAt"},
		{"year 2200", s, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), nil, nil, 0, "endsAt"},
		{"opens in year 1999", s, e, p(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)), nil, 0, "signupOpensAt"},
		{"ends when it starts", s, s, nil, nil, 0, "endsAt"},
		{"ends before it starts", s, s.Add(-time.Minute), nil, nil, 0, "endsAt"},
		{"lasts 31 days", s, s.Add(31 * 24 * time.Hour), nil, nil, 0, ""},
		{"lasts longer than 31 days", s, s.Add(31*24*time.Hour + time.Second), nil, nil, 0, "endsAt"},
		{"closes when it opens", s, e, p(s.Add(-time.Hour)), p(s.Add(-time.Hour)), 0, "signupClosesAt"},
		{"closes after the end", s, e, nil, p(e.Add(time.Second)), 0, "signupClosesAt"},
		{"opens at the end", s, e, p(e), nil, 0, "signupOpensAt"},
		{"check-in a day ahead", s, e, nil, nil, 24 * 60, ""},
		{"check-in more than a day ahead", s, e, nil, nil, 24*60 + 1, "checkinOpensMinutes"},
		{"negative check-in minutes", s, e, nil, nil, -1, "checkinOpensMinutes"},
	} {
		if got := field(checkWindow(c.starts, c.ends, c.opens, c.closes, c.checkin)); got != c.field {
			t.Errorf("%s: refused field %q, want %q", c.name, got, c.field)
		}
	}
}

func TestCheckSlotTable(t *testing.T) {
	s := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	p := func(t time.Time) *time.Time { return &t }
	ok := SlotInput{Name: "座位", Kind: slot.KindATTENDEE, Capacity: 10, MaxSeatsPerSignup: 2}
	with := func(f func(*SlotInput)) SlotInput { x := ok; f(&x); return x }
	for _, c := range []struct {
		name  string
		in    SlotInput
		field string
	}{
		{"plain", ok, ""},
		{"no name", with(func(x *SlotInput) { x.Name = "  " }), "slots[2].name"},
		{"name of 100", with(func(x *SlotInput) { x.Name = strings.Repeat("座", 100) }), ""},
		{"name of 101", with(func(x *SlotInput) { x.Name = strings.Repeat("座", 101) }), "slots[2].name"},
		{"zero capacity", with(func(x *SlotInput) { x.Capacity = 0 }), ""},
		{"negative capacity", with(func(x *SlotInput) { x.Capacity = -1 }), "slots[2].capacity"},
		{"the largest capacity", with(func(x *SlotInput) { x.Capacity = ledger.MaxCapacity }), ""},
		{"above the largest capacity", with(func(x *SlotInput) { x.Capacity = ledger.MaxCapacity + 1 }), "slots[2].capacity"},
		{"no seats per sign-up", with(func(x *SlotInput) { x.MaxSeatsPerSignup = 0 }), "slots[2].maxSeatsPerSignup"},
		{"20 seats per sign-up", with(func(x *SlotInput) { x.MaxSeatsPerSignup = 20 }), ""},
		{"21 seats per sign-up", with(func(x *SlotInput) { x.MaxSeatsPerSignup = 21 }), "slots[2].maxSeatsPerSignup"},
		{"own times", with(func(x *SlotInput) { x.StartsAt, x.EndsAt = p(s), p(s.Add(time.Hour)) }), ""},
		{"ends when it starts", with(func(x *SlotInput) { x.StartsAt, x.EndsAt = p(s), p(s) }), "slots[2].endsAt"},
		{"starts in year 1", with(func(x *SlotInput) { x.StartsAt = p(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) }), "slots[2].startsAt"},
		{"ends in year 2101", with(func(x *SlotInput) { x.EndsAt = p(time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC)) }), "slots[2].endsAt"},
		{"volunteer kind", with(func(x *SlotInput) { x.Kind = slot.KindVOLUNTEER }), ""},
		{"unknown kind", with(func(x *SlotInput) { x.Kind = "GUEST" }), "slots[2].kind"},
	} {
		if got := field(checkSlot(2, c.in)); got != c.field {
			t.Errorf("%s: refused field %q, want %q", c.name, got, c.field)
		}
	}
}
