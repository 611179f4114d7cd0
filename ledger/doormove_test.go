package ledger_test

import (
	"testing"

	"linli/ent/registration"
	"linli/ledger"
)

// The door's counter rule: checked_in counts the seats of those who came.
func TestCheckedInChange(t *testing.T) {
	const (
		confirmed  = registration.StatusCONFIRMED
		checkedIn  = registration.StatusCHECKED_IN
		checkedOut = registration.StatusCHECKED_OUT
	)
	for _, c := range []struct {
		from, to registration.Status
		want     int
	}{
		{confirmed, checkedIn, 3},   // check-in
		{checkedIn, checkedOut, 0},  // check-out
		{confirmed, checkedOut, 3},  // in and out in one batch
		{checkedIn, confirmed, -3},  // undo a check-in
		{checkedOut, checkedIn, 0},  // undo a check-out
		{checkedOut, confirmed, -3}, // both undone
	} {
		if got := ledger.CheckedInChange(c.from, c.to, 3); got != c.want {
			t.Errorf("%s → %s: %d, want %d", c.from, c.to, got, c.want)
		}
	}
}
