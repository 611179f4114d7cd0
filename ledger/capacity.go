package ledger

import (
	"context"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/registration"
	"linli/viewer"
)

// capacityOp changes one slot's capacity.
type capacityOp struct {
	v                            *viewer.Viewer
	activityID, slotID, capacity int
}

func (o *capacityOp) ActivityID() int { return o.activityID }

func (o *capacityOp) Decide(ctx context.Context, b *Batch) error {
	if err := authz.SetCapacity(o.v, b.Activity()); err != nil {
		return err
	}
	return b.SetCapacity(ctx, o.slotID, o.capacity)
}

// SetCapacity changes a slot's capacity inside the caller's transaction tx
// (staff of its community, or a leader of the activity's team). Raising it
// promotes from the waitlist in the same transaction; lowering it below the
// seats already taken is refused (VALIDATION_FAILED on capacity): nobody
// loses a confirmed seat to a capacity change. On an error the caller rolls
// tx back; the counts and promotion events go out when tx commits.
func (l *Ledger) SetCapacity(ctx context.Context, tx *ent.Tx, slotID, capacity int) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if capacity < 0 || capacity > MaxCapacity {
		return apperr.Invalid("capacity", "capacity must be between 0 and %d", MaxCapacity)
	}
	activityID, err := l.activityOf(ctx, slotID)
	if err != nil {
		return err
	}
	errs, err := l.Apply(ctx, tx, activityID, &capacityOp{v: v, activityID: activityID, slotID: slotID, capacity: capacity})
	if err != nil {
		return err
	}
	return errs[0]
}

// SetSlotCapacity is SetCapacity in a transaction of its own; it returns
// the slot as the viewer reads it after the change.
func (l *Ledger) SetSlotCapacity(ctx context.Context, slotID, capacity int) (*ent.Slot, error) {
	if err := l.inTx(ctx, func(tx *ent.Tx) error { return l.SetCapacity(ctx, tx, slotID, capacity) }); err != nil {
		return nil, err
	}
	return l.client.Slot.Get(ctx, slotID)
}

// cancelAllOp cancels an activity's open registrations.
type cancelAllOp struct {
	activityID int
	reason     *string
}

func (o *cancelAllOp) ActivityID() int { return o.activityID }

func (o *cancelAllOp) Decide(ctx context.Context, b *Batch) error {
	sys := viewer.System(ctx)
	regs, err := b.tx.Registration.Query().Where(registration.ActivityID(o.activityID), registration.StatusIn(Open...)).All(sys)
	if err != nil || len(regs) == 0 {
		return err
	}
	ids := make([]int, len(regs))
	for i, r := range regs {
		ids[i] = r.ID
		if err := b.Add(ctx, r.SlotID, Held(r.Status, r.Seats).Neg()); err != nil {
			return err
		}
		b.Publish(b.Changed(r.ID, r.PersonID, ChangeCancelled))
	}
	n, err := b.tx.Registration.Update().Where(registration.IDIn(ids...), registration.StatusIn(Open...)).
		SetStatus(registration.StatusCANCELLED).SetCancelledAt(b.now).SetNillableCancelReason(o.reason).
		SetUpdatedAt(b.now).Save(sys)
	if err != nil {
		return err
	}
	if n != len(ids) {
		return errRetry
	}
	return nil
}

// CancelActivityRegistrations cancels every open registration (confirmed,
// waiting or pending) of an activity inside the caller's transaction, which
// cancels the activity itself. Registrations already attended stay, and so
// do the seats they took. Events go out when tx commits. The caller has
// checked that the viewer may run the activity.
func (l *Ledger) CancelActivityRegistrations(ctx context.Context, tx *ent.Tx, activityID int, reason string) error {
	errs, err := l.Apply(ctx, tx, activityID, &cancelAllOp{activityID: activityID, reason: nillable(reason)})
	if err != nil {
		return err
	}
	return errs[0]
}
