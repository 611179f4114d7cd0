package series

import (
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	"linli/apperr"
	"linli/cst"
)

// Bounds of a recurrence rule and of one materialisation. A rule may be
// unbounded (no UNTIL, no COUNT): the window bounds what is made.
const (
	// MaxCount bounds COUNT.
	MaxCount = 1000
	// MaxYears bounds UNTIL: at most this many years after the first
	// occurrence.
	MaxYears = 5
	// MaxPerRun bounds the occurrences one materialisation of one series
	// makes; the next run continues where it stopped.
	MaxPerRun = 200
	// MaxWindowWeeks bounds a community's window.
	MaxWindowWeeks = 104
	// MaxExdates bounds the skipped dates of one series.
	MaxExdates = 500
	// MaxRuleBytes bounds the rule's text.
	MaxRuleBytes = 500
)

// Rule is a parsed recurrence in China time.
type Rule struct {
	r *rrule.RRule
}

// allowed are the RRULE parts linli accepts: daily, weekly on days, monthly
// by weekday (BYDAY=1TU) or by date (BYMONTHDAY), yearly; with INTERVAL,
// COUNT or UNTIL, BYSETPOS, BYMONTH, WKST.
var allowed = map[string]bool{"FREQ": true, "INTERVAL": true, "COUNT": true, "UNTIL": true,
	"BYDAY": true, "BYMONTHDAY": true, "BYMONTH": true, "BYSETPOS": true, "WKST": true}

// ParseRule reads an RRULE (with or without the "RRULE:" prefix, without
// DTSTART) repeating dtstart in China time. A bad rule is VALIDATION_FAILED
// on field.
func ParseRule(field, text string, dtstart time.Time) (*Rule, error) {
	text = strings.TrimSpace(text)
	text = strings.TrimPrefix(strings.TrimPrefix(text, "RRULE:"), "rrule:")
	if text == "" || len(text) > MaxRuleBytes {
		return nil, apperr.Invalid(field, "%s must be an RRULE of 1 to %d bytes", field, MaxRuleBytes)
	}
	for _, part := range strings.Split(text, ";") {
		k, _, ok := strings.Cut(part, "=")
		if !ok || !allowed[strings.ToUpper(k)] {
			return nil, apperr.Invalid(field, "%s: %q is not supported (FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST)", field, part)
		}
	}
	o, err := rrule.StrToROptionInLocation(text, cst.Zone)
	if err != nil {
		return nil, apperr.Invalid(field, "%s is not a valid RRULE: %v", field, err)
	}
	switch o.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
	default:
		return nil, apperr.Invalid(field, "%s: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY", field)
	}
	if o.Interval > 100 {
		return nil, apperr.Invalid(field, "%s: INTERVAL must be at most 100", field)
	}
	if o.Count < 0 || o.Count > MaxCount {
		return nil, apperr.Invalid(field, "%s: COUNT must be between 1 and %d", field, MaxCount)
	}
	if !o.Until.IsZero() {
		if o.Until.Before(dtstart) {
			return nil, apperr.Invalid(field, "%s: UNTIL is before the first occurrence", field)
		}
		if o.Until.After(dtstart.AddDate(MaxYears, 0, 0)) {
			return nil, apperr.Invalid(field, "%s: UNTIL must be within %d years of the first occurrence", field, MaxYears)
		}
	}
	o.Dtstart = dtstart.In(cst.Zone)
	r, err := rrule.NewRRule(*o)
	if err != nil {
		return nil, apperr.Invalid(field, "%s is not a valid RRULE: %v", field, err)
	}
	return &Rule{r: r}, nil
}

// Between lists the rule's instants in [from, to), at most max of them,
// leaving out skipped ones, in time order (UTC).
func (r *Rule) Between(from, to time.Time, skip []time.Time, max int) []time.Time {
	var out []time.Time
	it := r.r.Iterator()
	for {
		t, ok := it()
		if !ok || !t.Before(to) || len(out) >= max {
			return out
		}
		if t.Before(from) || skipped(t, skip) {
			continue
		}
		out = append(out, t.UTC())
	}
}

func skipped(t time.Time, skip []time.Time) bool {
	for _, s := range skip {
		if s.Equal(t) {
			return true
		}
	}
	return false
}

// Occurs reports whether t is one of the rule's instants.
func (r *Rule) Occurs(t time.Time) bool {
	got := r.r.Between(t.Add(-time.Second), t.Add(time.Second), true)
	for _, g := range got {
		if g.Equal(t) {
			return true
		}
	}
	return false
}
