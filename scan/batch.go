package scan

// Online scans go through the ledger's batcher: scans that arrive while a
// transaction is in flight are decided together under one lock statement
// for all their activities, by decide, in arrival order, against the
// registrations as the batch has moved them, and written together (see
// ledger/checkinbatch.go). A scan the batch cannot finish (a check-out
// replacing one linli made itself, which moves a recorded time) is handed
// back and runs on its own (apply).

import (
	"bytes"
	"context"
	"fmt"

	"linli/apperr"
	"linli/ent/registration"
	"linli/ledger"
	"linli/store"
)

// batched reports whether a scan goes through the batcher: an online scan
// (timed by linli) of a known code, except a volunteer's check-out, whose
// service record is written from the registration's stored times.
func batched(in Scan, t *target) bool {
	return in.At == nil && t != nil && !(in.Kind == Out && t.volunteer())
}

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
	t    *target // as read before the lock
	hash []byte

	// the decision: the answer, or the earlier op of the batch with the
	// same nonce, or alone: the scan runs on its own after the batch
	res   *Result
	same  *scanOp
	alone bool
}

func (o *scanOp) ActivityID() int { return o.t.activityID }

func (o *scanOp) DoorSeat() ledger.Seat { return o.t.seat() }

// Decide decides the scan at the batch's time against the registration as
// the batch has it, and stages the move, its event and the scan record.
func (o *scanOp) Decide(ctx context.Context, b *ledger.Batch) error {
	o.res, o.same, o.alone = nil, nil, false
	if first := b.Claim(nonceKey{o.who.kioskID, o.who.actorID, o.in.Nonce}, o); first != nil {
		f := first.(*scanOp)
		if !bytes.Equal(f.hash, o.hash) {
			return nonceConflict()
		}
		// Its answer is this one's; if it has none (it runs on its own),
		// neither does this one, which then finds it stored.
		o.same, o.alone = f, f.alone || f.res == nil
		return nil
	}
	st, err := b.Door(ctx, o.t.seat(), ledger.DoorState{Status: o.t.status, CheckedInAt: o.t.checkedInAt, CheckedOutAt: o.t.checkedOutAt})
	if err != nil {
		return err
	}
	t := *o.t
	t.status, t.checkedInAt, t.checkedOutAt = st.Status, st.CheckedInAt, st.CheckedOutAt
	now := b.Now()
	out := decide(o.in.Kind, &t, o.who, o.in.ActivityID, now, now, false, o.s.rules)
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
		msg = message(o.in.Kind, OK, &t, 0)
		b.Publish(changeEvents(t.communityID, t.activityID, t.regID, t.personID, string(to))...)
	default:
		msg = refusal(o.in, out, &t)
	}
	c, res := scanRecord(b.Tx().Client(), o.who, o.in, &t, out.status, msg, now, now)
	b.RecordScan(c)
	o.res = res
	return nil
}

func nonceConflict() error {
	return &apperr.Error{Code: apperr.Conflict, Field: "nonce", Message: "this nonce was used for a different scan"}
}

// submit runs an online scan through the ledger's batcher; done is false
// when the scan is to run on its own.
func (s *Service) submit(ctx context.Context, who scanner, in Scan, t *target) (res *Result, done bool, err error) {
	o := &scanOp{s: s, who: who, in: in, t: t, hash: in.requestHash()}
	err = s.ledger.Submit(ctx, o)
	switch {
	case store.IsUniqueViolation(err):
		// The same nonce, in an earlier transaction: its answer is the one
		// to give.
		if r, err := s.stored(ctx, who, in); r != nil || err != nil {
			return r, true, err
		}
		return nil, true, fmt.Errorf("checkin: nonce %q conflicted but is not stored", in.Nonce)
	case err != nil:
		return nil, true, err
	case o.alone:
		return nil, false, nil
	case o.same != nil:
		r := *o.same.res
		return &r, true, nil
	}
	return o.res, true, nil
}
