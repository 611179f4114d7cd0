package ledger

import (
	"context"
	"runtime"

	"linli/ent"
	"linli/events"
	"linli/viewer"
)

// SetPublisher replaces where committed changes are announced.
func (l *Ledger) SetPublisher(pub events.Publisher) { l.events = pub }

// RemoveCapacityGuard replaces the ledger's write with the classic bug the
// lock and the guard exist to prevent: read the counters, decide in Go,
// write the new values back, with no lock, no batching and no condition.
// The storm test must catch it.
func (l *Ledger) RemoveCapacityGuard() { l.bypass = l.unguarded }

func (l *Ledger) unguarded(ctx context.Context, o Op) error {
	sys := viewer.System(ctx)
	a, err := l.client.Activity.Get(sys, o.ActivityID())
	if err != nil {
		return err
	}
	stale, err := a.QuerySlots().All(sys)
	if err != nil {
		return err
	}
	runtime.Gosched()
	var errs error
	err = l.inTx(ctx, func(tx *ent.Tx) error {
		g := &group{l: l, tx: tx, now: now(), ops: []Op{o}, slots: map[int]*slotState{},
			signedUp: map[[2]int]bool{}, signUpKeys: map[idemKey]*signUpOp{}}
		b := &Batch{g: g, tx: tx, activity: a, now: g.now}
		g.batches = map[int]*Batch{a.ID: b}
		for _, s := range stale {
			g.slots[s.ID] = &slotState{slot: s}
		}
		if errs = o.Decide(ctx, b); errs != nil {
			return nil
		}
		for _, st := range g.slots {
			if st.dirty {
				if err := tx.Slot.UpdateOne(st.slot).SetTaken(st.slot.Taken).SetWaitlisted(st.slot.Waitlisted).
					SetPending(st.slot.Pending).Exec(sys); err != nil {
					return err
				}
			}
		}
		creates := make([]*ent.RegistrationCreate, len(b.regs))
		for i, r := range b.regs {
			creates[i] = tx.Registration.Create().SetCommunityID(a.CommunityID).SetActivityID(a.ID).
				SetSlotID(r.SlotID).SetPersonID(r.PersonID).SetStatus(r.Status).SetSeats(r.Seats).
				SetCheckInCode(r.CheckInCode)
		}
		made, err := tx.Registration.CreateBulk(creates...).Save(sys)
		for i, r := range b.regs {
			if err == nil {
				r.Registration = made[i]
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	return errs
}

// SignUpTogether runs sign-ups, each with its own viewer's context, as one
// batch (as the batcher would take them had they arrived while a write was
// in flight), and answers each as SignUp does.
func (l *Ledger) SignUpTogether(ctxs []context.Context, ins []SignUpInput) ([]*SignUpResult, []error) {
	res, errs := make([]*SignUpResult, len(ins)), make([]error, len(ins))
	var reqs []*request
	var ops []*signUpOp
	for i, in := range ins {
		o, err := l.signUpOp(ctxs[i], in)
		if err != nil {
			errs[i] = err
			continue
		}
		reqs = append(reqs, &request{ctx: ctxs[i], op: o})
		ops = append(ops, o)
	}
	l.runBatch(ctxs[0], reqs)
	k := 0
	for i := range ins {
		if errs[i] == nil {
			res[i], errs[i] = l.answer(ctxs[i], ops[k], reqs[k].err)
			k++
		}
	}
	return res, errs
}
