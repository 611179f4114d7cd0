package scan

// Online scans go through the ledger's batcher: scans that arrive while a
// transaction is in flight are read together (one query for all their
// codes, in the transaction, before the lock), locked together (one
// statement for all their activities), decided by decide in arrival order
// against the registrations as the batch has moved them, and written
// together (see ledger/checkinbatch.go). A scan the batch does not finish
// is handed back and runs on its own (apply): a volunteer's check-out,
// whose service record is written from the registration's stored times,
// and a check-out replacing the one linli made itself.

import (
	"context"
	"fmt"

	"linli/ent"
	"linli/ent/registration"
	"linli/idem"
	"linli/ledger"
	"linli/store"
)

// nonceKey is a device's nonce: a kiosk's, or a staff member's own.
type nonceKey struct {
	kioskID, actorID int
	nonce            string
}

// scanOp is an online scan in a batch.
type scanOp struct {
	s    *Service
	who  scanner
	in   Scan
	hash []byte
	// t is the code's registration, read in the batch (Prepare); nil when
	// no registration has the code.
	t *target

	// the decision: the answer, or the earlier op of the batch with the
	// same nonce, or alone: the scan runs on its own after the batch
	res   *Result
	same  *scanOp
	alone bool
}

func (o *scanOp) ActivityID() int {
	if o.t == nil {
		return 0
	}
	return o.t.activityID
}

func (o *scanOp) DoorSeat() ledger.Seat {
	if o.t == nil {
		return ledger.Seat{}
	}
	return o.t.seat()
}

// Prepare reads the registrations of the batch's codes, in one query.
func (o *scanOp) Prepare(ctx context.Context, tx *ent.Tx, ops []ledger.Op) error {
	var mine []*scanOp
	codes := make([]string, 0, len(ops))
	for _, op := range ops {
		if so, ok := op.(*scanOp); ok {
			so.t = nil
			mine = append(mine, so)
			codes = append(codes, so.in.Code)
		}
	}
	ts, err := loadTargets(ctx, tx.Client(), registration.CheckInCodeIn(codes...))
	if err != nil {
		return err
	}
	byCode := make(map[string]*target, len(ts))
	for _, t := range ts {
		byCode[t.code] = t
	}
	for _, so := range mine {
		if t := byCode[so.in.Code]; t != nil {
			c := *t // each op decides on its own copy
			so.t = &c
		}
	}
	return nil
}

// Decide decides the scan at the batch's time against the registration as
// the batch has it, and stages the move, its event and the scan record.
func (o *scanOp) Decide(ctx context.Context, b *ledger.Batch) error {
	o.res, o.same, o.alone = nil, nil, false
	if first := b.Claim(nonceKey{o.who.kioskID, o.who.actorID, o.in.Nonce}, o); first != nil {
		f := first.(*scanOp)
		if idem.Match("", f.hash, "", o.hash) == idem.Conflict { // the kind is in the hash
			return nonceConflict("nonce")
		}
		// Its answer is this one's; if it has none (it runs on its own),
		// neither does this one, which then finds it stored.
		o.same, o.alone = f, f.alone || f.res == nil
		return nil
	}
	if o.t != nil && o.in.Kind == Out && o.t.volunteer() {
		o.alone = true
		return nil
	}
	var t *target
	if o.t != nil {
		st, err := b.Door(ctx, o.t.seat(), ledger.DoorState{Status: o.t.status, CheckedInAt: o.t.checkedInAt, CheckedOutAt: o.t.checkedOutAt})
		if err != nil {
			return err
		}
		c := *o.t
		c.status, c.checkedInAt, c.checkedOutAt = st.Status, st.CheckedInAt, st.CheckedOutAt
		t = &c
	}
	now := b.Now()
	out := decide(o.in.Kind, t, o.who, o.in.ActivityID, now, now, false, o.s.rules)
	var msg string
	switch {
	case out.earlier:
		o.alone = true
		return nil
	case out.write:
		to := registration.StatusCHECKED_IN
		if o.in.Kind == Out {
			to = registration.StatusCHECKED_OUT
		}
		if err := b.MoveDoor(t.seat(), to); err != nil {
			return err
		}
		msg = message(o.in.Kind, OK, t, 0)
		b.Publish(changeEvents(t.communityID, t.activityID, t.regID, t.personID, string(to))...)
	default:
		msg = refusal(o.in, out, t)
	}
	c, res := scanRecord(b.Tx().Client(), o.who, o.in, t, out.status, msg, now, now)
	b.RecordScan(c)
	o.res = res
	return nil
}

// nonceConflict is a nonce reused for another scan (idem.ConflictError).
func nonceConflict(field string) error { return idem.ConflictError(field) }

// submit runs an online scan through the ledger's batcher. done is false
// when the scan is to run on its own, about t (read in the batch).
func (s *Service) submit(ctx context.Context, who scanner, in Scan) (res *Result, t *target, done bool, err error) {
	o := &scanOp{s: s, who: who, in: in, hash: in.requestHash()}
	err = s.ledger.Submit(ctx, o)
	switch {
	case store.IsUniqueViolation(err):
		// The same nonce, in an earlier transaction: its answer is the one
		// to give.
		if r, err := s.stored(ctx, who, in); r != nil || err != nil {
			return r, nil, true, err
		}
		return nil, nil, true, fmt.Errorf("checkin: nonce %q conflicted but is not stored", in.Nonce)
	case err != nil:
		return nil, nil, true, err
	case o.alone:
		return nil, o.t, false, nil
	case o.same != nil:
		r := *o.same.res
		return &r, nil, true, nil
	}
	return o.res, nil, true, nil
}
