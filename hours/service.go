// Package hours holds volunteers' service hours: the service records that
// check-outs write (package scan writes them, with the helpers here for
// their times and fields), a person's total and star level, the record
// list, and staff corrections of a record's times (audited).
//
// A record credits the part of the check-in to check-out inside the
// volunteer's slot, in whole minutes; one flagged for review (a check-out
// linli made itself, an offline scan that disagrees) counts as flagged
// hours until staff correct it.
package hours

import (
	"time"

	"linli/cst"
	"linli/ent"
)

// Service reads and corrects service records.
type Service struct {
	client *ent.Client
	now    func() time.Time
}

// New returns a Service over client.
func New(client *ent.Client) *Service {
	return &Service{client: client, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Minutes is the whole minutes between check-in and check-out.
func Minutes(in, out time.Time) int { return max(0, int(out.Sub(in)/time.Minute)) }

// Date is the service date of a record that starts at t, in Zone.
func Date(t time.Time) string { return cst.Date(t) }

// Clip cuts s to at most n characters, to fit a record's field.
func Clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
