package series

import (
	"testing"
	"time"

	"linli/apperr"
	"linli/cst"
)

func TestParseRule(t *testing.T) {
	start := time.Date(2027, 1, 5, 9, 0, 0, 0, cst.Zone) // a Tuesday
	yearEnd := time.Date(2028, 1, 1, 0, 0, 0, 0, cst.Zone)
	for _, c := range []struct {
		rule string
		n    int // occurrences in 2027; -1: refused
		last string
	}{
		{"FREQ=WEEKLY", 52, "2027-12-28"},
		{"RRULE:FREQ=WEEKLY;BYDAY=TU,SA", 103, "2027-12-28"},
		{"FREQ=MONTHLY;BYDAY=1TU", 12, "2027-12-07"},
		{"FREQ=MONTHLY;BYDAY=-1FR", 12, "2027-12-31"},
		{"FREQ=MONTHLY;BYMONTHDAY=5", 12, "2027-12-05"},
		{"FREQ=WEEKLY;COUNT=10", 10, "2027-03-09"},
		{"FREQ=WEEKLY;UNTIL=20270301", 8, "2027-02-23"},
		{"FREQ=DAILY;INTERVAL=2", 181, "2027-12-31"},
		{"FREQ=HOURLY", -1, ""},
		{"FREQ=MINUTELY", -1, ""},
		{"FREQ=WEEKLY;BYHOUR=3", -1, ""},
		{"FREQ=WEEKLY;COUNT=1001", -1, ""},
		{"FREQ=WEEKLY;UNTIL=20350101", -1, ""},
		{"FREQ=WEEKLY;UNTIL=20200101", -1, ""},
		{"FREQ=WEEKLY;INTERVAL=500", -1, ""},
		{"DTSTART=20270101T000000;FREQ=WEEKLY", -1, ""},
		{"FREQ=WEEKLY;BYDAY=XX", -1, ""},
		{"", -1, ""},
	} {
		r, err := ParseRule("rrule", c.rule, start)
		if c.n < 0 {
			if e, ok := apperr.As(err); !ok || e.Code != apperr.ValidationFailed || e.Field != "rrule" {
				t.Errorf("%q: %v, want VALIDATION_FAILED on rrule", c.rule, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.rule, err)
			continue
		}
		got := r.Between(start, yearEnd, nil, MaxCount)
		if len(got) != c.n || cst.Date(got[len(got)-1]) != c.last {
			t.Errorf("%q: %d occurrences, last %s; want %d, last %s", c.rule, len(got), cst.Date(got[len(got)-1]), c.n, c.last)
		}
		for _, g := range got {
			if l := g.In(cst.Zone); l.Hour() != 9 || l.Minute() != 0 {
				t.Errorf("%q: %v is not at 09:00 China time", c.rule, l)
			}
		}
	}
	// Skipped instants and the per-run bound.
	r, _ := ParseRule("rrule", "FREQ=DAILY", start)
	skip := []time.Time{start.AddDate(0, 0, 1).UTC()}
	got := r.Between(start, start.AddDate(0, 0, 3), skip, 10)
	if len(got) != 2 || !got[1].Equal(start.AddDate(0, 0, 2)) {
		t.Errorf("skipping: %v", got)
	}
	if n := len(r.Between(start, start.AddDate(5, 0, 0), nil, MaxPerRun)); n != MaxPerRun {
		t.Errorf("an unbounded daily rule gave %d in one run, want the bound %d", n, MaxPerRun)
	}
}
