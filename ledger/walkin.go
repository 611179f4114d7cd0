package ledger

import (
	"context"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/viewer"
)

// WalkIn is someone registered and checked in at the door at once.
type WalkIn struct {
	ActivityID, SlotID, PersonID, Seats int
	// ConsentAt records the explicit consent a health activity needs.
	ConsentAt *time.Time
	At        time.Time
}

// TakeWalkIn registers a walk-in as CHECKED_IN inside the caller's
// transaction tx (Apply), under the rules of a sign-up's seats: they are
// taken only while they fit and nobody waits for them (Fits), so a walk-in
// never overtakes the waitlist nor oversells a slot, and they count as
// checked in at once. The activity must still be on (PUBLISHED); the
// sign-up window does not apply at the door, where the check-in window
// decides (scan.Window). A refusal is a coded error (CAPACITY_FULL,
// ACTIVITY_CANCELLED); the caller then rolls back. The caller checks who
// may do this and the person's eligibility (Eligible).
func (l *Ledger) TakeWalkIn(ctx context.Context, tx *ent.Tx, w WalkIn) (*ent.Registration, error) {
	op := &walkInOp{w: w}
	errs, err := l.Apply(ctx, tx, w.ActivityID, op)
	if err != nil {
		return nil, err
	}
	if errs[0] != nil {
		return nil, errs[0]
	}
	return op.reg.Registration, nil
}

// walkInOp is a walk-in as an Op of the locked activity.
type walkInOp struct {
	w   WalkIn
	reg *NewRegistration
}

func (o *walkInOp) ActivityID() int { return o.w.ActivityID }

func (o *walkInOp) Decide(ctx context.Context, b *Batch) error {
	o.reg = nil
	if b.Activity().Status != activity.StatusPUBLISHED {
		return apperr.New(apperr.ActivityCancelled, "this activity is not taking people")
	}
	sl, err := b.Slot(ctx, o.w.SlotID)
	if err != nil {
		return err
	}
	if !SeatFree(b.Activity(), sl, o.w.Seats, b.Now()) {
		return apperr.New(apperr.CapacityFull, "no free seats for walk-ins in this slot")
	}
	code, err := NewCheckInCode()
	if err != nil {
		return err
	}
	if err := b.Add(ctx, o.w.SlotID, Counts{Taken: o.w.Seats}); err != nil {
		return err
	}
	at := o.w.At
	o.reg = &NewRegistration{SlotID: o.w.SlotID, PersonID: o.w.PersonID, Seats: o.w.Seats,
		Status: registration.StatusCHECKED_IN, ConsentAt: o.w.ConsentAt, CheckInCode: code, CheckedInAt: &at}
	b.Register(o.reg)
	// checked_in is the door's counter, not one a Batch holds: written here,
	// under the same lock.
	return b.Tx().Slot.Update().Where(slot.ID(o.w.SlotID)).AddCheckedIn(o.w.Seats).Exec(viewer.System(ctx))
}
