package ledger

// The counter changes of the door, one at a time: check-in, check-out and
// their undo (online scans are batched: checkinbatch.go). Each runs inside
// the caller's transaction, locks the activity first (as
// every counter change does, so they are ordered with sign-ups and
// cancellations) and moves the registration with a conditional update on
// its status, so two scans can never both move the same person; ok is
// false when the registration was no longer in the status the move starts
// from, and nothing else was written but the lock. slots.checked_in counts
// the seats of registrations that came (CHECKED_IN and CHECKED_OUT): a
// check-in adds them, undoing it gives them back, a check-out and its undo
// leave it alone. These change none of the counters a Batch holds (taken
// counts CONFIRMED, CHECKED_IN and CHECKED_OUT alike), so they take the
// lock (the statement Lock sends, without reading the activity back: the
// caller has it) and write their own two rows; no counts event goes out
// besides the caller's CheckIn event, which live subscribers take as a
// change of the activity's counts.

import (
	"context"
	"fmt"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/viewer"
)

// Seat is the registration a door change moves.
type Seat struct {
	RegistrationID, ActivityID, SlotID, Seats int
}

// CheckIn moves a CONFIRMED registration to CHECKED_IN at at and counts its
// seats as checked in.
func (l *Ledger) CheckIn(ctx context.Context, tx *ent.Tx, s Seat, at time.Time) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCONFIRMED, registration.StatusCHECKED_IN, at)
}

// CheckOut moves a CHECKED_IN registration to CHECKED_OUT at at.
func (l *Ledger) CheckOut(ctx context.Context, tx *ent.Tx, s Seat, at time.Time) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT, at)
}

// UndoCheckIn moves a CHECKED_IN registration back to CONFIRMED and gives
// its seats back from the checked-in count.
func (l *Ledger) UndoCheckIn(ctx context.Context, tx *ent.Tx, s Seat) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCHECKED_IN, registration.StatusCONFIRMED, time.Time{})
}

// UndoCheckOut moves a CHECKED_OUT registration back to CHECKED_IN.
func (l *Ledger) UndoCheckOut(ctx context.Context, tx *ent.Tx, s Seat) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCHECKED_OUT, registration.StatusCHECKED_IN, time.Time{})
}

// LockForDoor locks an activity for a change at the door that moves no
// counter (a recorded time moved earlier, a rotated code): it still bumps
// counts_version, so kiosks see their offline list is out of date.
func (l *Ledger) LockForDoor(ctx context.Context, tx *ent.Tx, activityID int) error {
	versions, err := l.lockRows(ctx, tx, []int{activityID})
	if err == nil && len(versions) == 0 {
		err = apperr.New(apperr.NotFound, "no such activity")
	}
	return err
}

// moveSeat locks the activity, moves the registration from status from to
// to (writeDoorMove) and changes its slot's checked_in as the move does
// (CheckedInChange) when it moved.
func (l *Ledger) moveSeat(ctx context.Context, tx *ent.Tx, s Seat, from, to registration.Status, at time.Time) (bool, error) {
	sys := viewer.System(ctx)
	if err := l.LockForDoor(ctx, tx, s.ActivityID); err != nil {
		return false, err
	}
	n, err := writeDoorMove(sys, tx, []int{s.RegistrationID}, from, to, at, now())
	if err != nil || n != 1 {
		return false, err
	}
	if d := CheckedInChange(from, to, s.Seats); d != 0 {
		if err := tx.Slot.Update().Where(slot.ID(s.SlotID)).AddCheckedIn(d).Exec(sys); err != nil {
			return false, err
		}
	}
	return true, nil
}

// CheckedInChange is how a move from one status to another changes its
// slot's checked_in, for a registration of seats: slots.checked_in counts
// the seats of registrations that came (CHECKED_IN and CHECKED_OUT).
func CheckedInChange(from, to registration.Status, seats int) int {
	came := func(s registration.Status) bool {
		return s == registration.StatusCHECKED_IN || s == registration.StatusCHECKED_OUT
	}
	switch {
	case came(to) && !came(from):
		return seats
	case came(from) && !came(to):
		return -seats
	}
	return 0
}

// writeDoorMove is the one writer of the door's moves (a scan alone,
// moveSeat, or a batch's, moveDoors): it moves the registrations ids that
// are still in status from to status to, with one conditional update, and
// returns how many moved. Coming in (to CHECKED_IN, or straight to
// CHECKED_OUT) and leaving record at as checked_in_at and checked_out_at;
// going back (an undo) clears the time of the status undone.
func writeDoorMove(ctx context.Context, tx *ent.Tx, ids []int, from, to registration.Status, at, now time.Time) (int, error) {
	u := tx.Registration.Update().Where(registration.IDIn(ids...), registration.StatusEQ(from)).
		SetStatus(to).SetUpdatedAt(now)
	switch {
	case from == registration.StatusCONFIRMED && to == registration.StatusCHECKED_IN:
		u.SetCheckedInAt(at)
	case from == registration.StatusCONFIRMED && to == registration.StatusCHECKED_OUT:
		u.SetCheckedInAt(at).SetCheckedOutAt(at)
	case from == registration.StatusCHECKED_IN && to == registration.StatusCHECKED_OUT:
		u.SetCheckedOutAt(at)
	case from == registration.StatusCHECKED_IN && to == registration.StatusCONFIRMED:
		u.ClearCheckedInAt()
	case from == registration.StatusCHECKED_OUT && to == registration.StatusCHECKED_IN:
		u.ClearCheckedOutAt()
	default:
		return 0, fmt.Errorf("ledger: no door move from %s to %s", from, to)
	}
	return u.Save(ctx)
}
