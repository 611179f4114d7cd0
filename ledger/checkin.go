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
	return l.moveSeat(ctx, tx, s, registration.StatusCONFIRMED, func(u *ent.RegistrationUpdate) {
		u.SetStatus(registration.StatusCHECKED_IN).SetCheckedInAt(at)
	}, s.Seats)
}

// CheckOut moves a CHECKED_IN registration to CHECKED_OUT at at.
func (l *Ledger) CheckOut(ctx context.Context, tx *ent.Tx, s Seat, at time.Time) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCHECKED_IN, func(u *ent.RegistrationUpdate) {
		u.SetStatus(registration.StatusCHECKED_OUT).SetCheckedOutAt(at)
	}, 0)
}

// UndoCheckIn moves a CHECKED_IN registration back to CONFIRMED and gives
// its seats back from the checked-in count.
func (l *Ledger) UndoCheckIn(ctx context.Context, tx *ent.Tx, s Seat) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCHECKED_IN, func(u *ent.RegistrationUpdate) {
		u.SetStatus(registration.StatusCONFIRMED).ClearCheckedInAt()
	}, -s.Seats)
}

// UndoCheckOut moves a CHECKED_OUT registration back to CHECKED_IN.
func (l *Ledger) UndoCheckOut(ctx context.Context, tx *ent.Tx, s Seat) (bool, error) {
	return l.moveSeat(ctx, tx, s, registration.StatusCHECKED_OUT, func(u *ent.RegistrationUpdate) {
		u.SetStatus(registration.StatusCHECKED_IN).ClearCheckedOutAt()
	}, 0)
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

// moveSeat locks the activity, moves the registration from status from
// (set), and adds checkedIn to its slot's checked_in when it moved.
func (l *Ledger) moveSeat(ctx context.Context, tx *ent.Tx, s Seat, from registration.Status, set func(*ent.RegistrationUpdate), checkedIn int) (bool, error) {
	sys := viewer.System(ctx)
	if err := l.LockForDoor(ctx, tx, s.ActivityID); err != nil {
		return false, err
	}
	u := tx.Registration.Update().Where(registration.ID(s.RegistrationID), registration.StatusEQ(from))
	set(u)
	n, err := u.Save(sys)
	if err != nil || n != 1 {
		return false, err
	}
	if checkedIn != 0 {
		if err := tx.Slot.Update().Where(slot.ID(s.SlotID)).AddCheckedIn(checkedIn).Exec(sys); err != nil {
			return false, err
		}
	}
	return true, nil
}
