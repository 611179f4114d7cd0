package ledger

// Waitlist offers: a slot's second waitlist mode beside instant promotion.
//
// In OFFER mode a freed seat is not given to the head of the line at once:
// it is offered to them (status OFFERED, which holds the seat: Held) until
// the offer expires, offer_hours later but never after the slot's start
// minus offer_close_minutes. They accept (CONFIRMED) or decline (CANCELLED);
// an offer that lapses is cancelled by a job (KindOfferLapse) scheduled at
// its expiry, and the seat passes to the next in line. Offers go in the
// waitlist order and stop at the first person whose seats do not fit or
// whose quiet hours (notify's rule, their own or their community's) are
// on: the line then waits, and a job (KindOfferWake) makes the offers when
// those quiet hours end. Once offers are closed (the start is near) the
// seat is left to the door: a walk-in, or a sign-up, takes it (SeatFree).
//
// Every step is an Op of the activity's lock, like every other counter
// change: the capacity invariant and the line's order are the batch
// ledger's.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/idem"
	"linli/jobs"
	"linli/notify"
	"linli/store"
	"linli/viewer"
)

// Job kinds of offers.
const (
	// KindOfferLapse lapses one offer at its expiry (OfferPayload.R).
	KindOfferLapse = "ledger.offer_lapse"
	// KindOfferWake makes a slot's pending offers (OfferPayload.S), when
	// quiet hours end or after a batch queued someone who can be offered.
	KindOfferWake = "ledger.offer_wake"
)

// Reasons recorded on a registration whose offer ended without a seat.
const (
	ReasonOfferLapsed   = "offer lapsed"
	ReasonOfferDeclined = "offer declined"
)

// ChangeOffered is the change told to a person offered a seat.
const ChangeOffered = "OFFERED"

// OfferPayload is an offer job's payload: a registration (lapse) or a
// slot and its activity (wake).
type OfferPayload struct {
	R int `json:"r,omitempty"`
	S int `json:"s,omitempty"`
	A int `json:"a,omitempty"`
}

// LapseKey is the unique key of registration r's lapse job.
func LapseKey(r int) string { return KindOfferLapse + ":" + strconv.Itoa(r) }

// WakeKey is the unique key of slot s's wake job.
func WakeKey(s int) string { return KindOfferWake + ":" + strconv.Itoa(s) }

// OffersCloseAt is when slot s of a stops making offers: its start (the
// slot's own, else the activity's) minus its offer_close_minutes.
func OffersCloseAt(a *ent.Activity, s *ent.Slot) time.Time {
	start := a.StartsAt
	if s.StartsAt != nil {
		start = *s.StartsAt
	}
	return start.Add(-time.Duration(s.OfferCloseMinutes) * time.Minute)
}

// OfferExpiry is when an offer made at now in slot s of a lapses.
func OfferExpiry(a *ent.Activity, s *ent.Slot, now time.Time) time.Time {
	exp := now.Add(time.Duration(s.OfferHours) * time.Hour)
	if c := OffersCloseAt(a, s); c.Before(exp) {
		exp = c
	}
	return exp
}

// OffersClosed reports whether slot s (in OFFER mode) no longer makes
// offers at now: its free seats are left to the door.
func OffersClosed(a *ent.Activity, s *ent.Slot, now time.Time) bool {
	return s.WaitlistMode == slot.WaitlistModeOFFER && !now.Before(OffersCloseAt(a, s))
}

// SeatFree is the capacity rule at the door and for sign-ups: Fits, or,
// once an OFFER slot's offers are closed, any free seat (nobody in the line
// can be offered it any more).
func SeatFree(a *ent.Activity, s *ent.Slot, n int, now time.Time) bool {
	return Fits(s, n) || (OffersClosed(a, s, now) && s.Taken+n <= s.Capacity)
}

// offer is promote in OFFER mode: the free seats are offered to the head
// of the line, in order, until one does not fit or its person is in quiet
// hours; the line then waits for a wake job.
func (b *Batch) offer(ctx context.Context, slotID int) error {
	s := b.g.slots[slotID].slot
	free := Free(s)
	a := b.activity
	if free <= 0 || s.Waitlisted <= 0 || a == nil || !b.now.Before(OffersCloseAt(a, s)) {
		return nil
	}
	head, err := b.tx.Registration.Query().
		Where(registration.SlotID(slotID), registration.StatusEQ(registration.StatusWAITLISTED)).
		Order(WaitlistOrder()...).Limit(free).All(ctx)
	if err != nil {
		return err
	}
	people := make([]int, len(head))
	for i, r := range head {
		people[i] = r.PersonID
	}
	quiet, err := notify.QuietHoursOf(ctx, b.tx.Client(), people)
	if err != nil {
		return err
	}
	exp := OfferExpiry(a, s, b.now)
	var ids []int
	var lapses []jobs.Job
	total := 0
	var wake time.Time
	stopped := false
	for _, r := range head {
		if total+r.Seats > free {
			stopped = true
			break
		}
		if at := quiet[r.PersonID].Deliver(b.now); at.After(b.now) {
			// The line waits for its head's quiet hours to end.
			wake, stopped = at, true
			break
		}
		total += r.Seats
		ids = append(ids, r.ID)
		b.Publish(b.Changed(r.ID, r.PersonID, ChangeOffered))
		b.Notify(notification.KindWAITLIST_OFFERED, r, notify.At(exp))
		lapses = append(lapses, jobs.Job{Kind: KindOfferLapse, Key: LapseKey(r.ID), RunAt: exp,
			Payload: OfferPayload{R: r.ID}, OnConflict: jobs.Replace})
	}
	if !stopped && len(head) < free {
		// Those this batch queued come next; they are offered once they
		// are written.
		for _, r := range b.regs {
			if r.SlotID == slotID && r.Status == registration.StatusWAITLISTED {
				wake = b.now
				break
			}
		}
	}
	if !wake.IsZero() {
		lapses = append(lapses, jobs.Job{Kind: KindOfferWake, Key: WakeKey(slotID), RunAt: wake,
			Payload: OfferPayload{S: slotID, A: a.ID}, OnConflict: jobs.Replace})
	}
	if len(ids) > 0 {
		n, err := b.tx.Registration.Update().
			Where(registration.IDIn(ids...), registration.StatusEQ(registration.StatusWAITLISTED)).
			SetStatus(registration.StatusOFFERED).SetOfferExpiresAt(exp).SetUpdatedAt(b.now).Save(ctx)
		if err != nil {
			return err
		}
		if n != len(ids) {
			return errRetry
		}
	}
	if err := jobs.Enqueue(ctx, b.tx, lapses...); err != nil {
		return err
	}
	s.Taken += total
	s.Waitlisted -= total
	return nil
}

// offerOp answers, lapses or wakes an offer under the activity's lock.
type offerOp struct {
	activityID int
	decide     func(ctx context.Context, b *Batch) error
}

func (o *offerOp) ActivityID() int { return o.activityID }

func (o *offerOp) Decide(ctx context.Context, b *Batch) error { return o.decide(ctx, b) }

// expired reports whether r's offer is over at now: lapsed (cancelled by
// the lapse job) or past its expiry.
func expired(r *ent.Registration, now time.Time) bool {
	switch r.Status {
	case registration.StatusOFFERED:
		return r.OfferExpiresAt != nil && !now.Before(*r.OfferExpiresAt)
	case registration.StatusCANCELLED:
		return r.CancelReason == ReasonOfferLapsed
	}
	return false
}

// endOffer moves an OFFERED registration to status, clearing its expiry
// and its lapse job, and stages the change of the counters.
func (b *Batch) endOffer(ctx context.Context, r *ent.Registration, to registration.Status, reason string) error {
	sys := viewer.System(ctx)
	u := b.tx.Registration.Update().Where(registration.ID(r.ID), registration.StatusEQ(registration.StatusOFFERED)).
		SetStatus(to).ClearOfferExpiresAt().SetUpdatedAt(b.now)
	if to == registration.StatusCANCELLED {
		u.SetCancelledAt(b.now).SetCancelReason(reason)
	}
	n, err := u.Save(sys)
	if err != nil {
		return err
	}
	if n != 1 {
		return errRetry
	}
	if reason != ReasonOfferLapsed {
		// The lapse job is no longer needed (the lapse is that job).
		if _, err := jobs.CancelKey(ctx, b.tx, LapseKey(r.ID)); err != nil {
			return err
		}
	}
	c := Held(to, r.Seats)
	old := Held(registration.StatusOFFERED, r.Seats)
	return b.Add(ctx, r.SlotID, Counts{c.Taken - old.Taken, c.Waitlisted - old.Waitlisted, c.Pending - old.Pending})
}

// Scopes of the offer answers' idempotency keys.
const (
	opAcceptOffer  = "acceptOffer"
	opDeclineOffer = "declineOffer"
)

// AcceptOffer confirms the seat offered to a registration (its person, or
// staff of its community). An offer past its expiry, or lapsed, is
// OFFER_EXPIRED; a registration that has no offer is CONFLICT; accepting
// an accepted offer returns it unchanged.
func (l *Ledger) AcceptOffer(ctx context.Context, registrationID int, key string) (*ent.Registration, error) {
	return l.answerOffer(ctx, opAcceptOffer, registrationID, key, func(ctx context.Context, b *Batch, r *ent.Registration) error {
		switch {
		case r.Status == registration.StatusCONFIRMED:
			return nil
		case expired(r, b.now):
			return apperr.New(apperr.OfferExpired, "this offer has expired; the seat passed to the next in line")
		case r.Status != registration.StatusOFFERED:
			return apperr.New(apperr.Conflict, "this registration has no seat offered (it is %s)", r.Status)
		}
		return b.endOffer(ctx, r, registration.StatusCONFIRMED, "")
	})
}

// DeclineOffer turns down the seat offered to a registration, which is
// cancelled; the seat passes to the next in line. Declining a declined (or
// lapsed) offer returns it unchanged.
func (l *Ledger) DeclineOffer(ctx context.Context, registrationID int, key string) (*ent.Registration, error) {
	return l.answerOffer(ctx, opDeclineOffer, registrationID, key, func(ctx context.Context, b *Batch, r *ent.Registration) error {
		switch r.Status {
		case registration.StatusCANCELLED:
			return nil
		case registration.StatusOFFERED:
		default:
			return apperr.New(apperr.Conflict, "this registration has no seat offered (it is %s)", r.Status)
		}
		return b.endOffer(ctx, r, registration.StatusCANCELLED, ReasonOfferDeclined)
	})
}

// answerOffer runs an answer to an offer in a transaction of its own, with
// the idempotency rule (idem) when the client sent a key: a retry gets the
// registration as it is now, the key reused for another request CONFLICT.
func (l *Ledger) answerOffer(ctx context.Context, scope string, registrationID int, key string,
	decide func(ctx context.Context, b *Batch, r *ent.Registration) error) (*ent.Registration, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if err := idem.Validate("idempotencyKey", key); err != nil {
		return nil, err
	}
	r, err := l.client.Registration.Get(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	if err := authz.AnswerOffer(v, r); err != nil {
		return nil, err
	}
	hash := idem.Hash(scope, registrationID)
	op := &offerOp{activityID: r.ActivityID, decide: func(ctx context.Context, b *Batch) error {
		r, err := b.tx.Registration.Get(viewer.System(ctx), registrationID)
		if err != nil {
			return err
		}
		return decide(ctx, b, r)
	}}
	run := func() error {
		return l.inTx(ctx, func(tx *ent.Tx) error {
			if key != "" {
				out, _, err := idem.Check(ctx, tx.IdempotencyKey, "idempotencyKey", scope, v.PersonID, key, hash)
				if err != nil || out == idem.Replay {
					return err
				}
			}
			errs, err := l.Apply(ctx, tx, r.ActivityID, op)
			if err != nil {
				return err
			}
			if errs[0] != nil {
				return errs[0]
			}
			if key == "" {
				return nil
			}
			return idem.Remember(ctx, tx, scope, v.PersonID, key, hash, []byte(strconv.Itoa(registrationID)))
		})
	}
	err = run()
	if key != "" && store.IsUniqueViolation(err) {
		// A concurrent request with the same key won: its answer is ours.
		err = run()
	}
	if err != nil {
		return nil, err
	}
	return l.client.Registration.Get(ctx, registrationID)
}

// SetWaitlistMode changes how slot slotID's waitlist moves (staff of its
// community, or a leader of the activity's team: who may change its
// capacity): INSTANT promotes at once, OFFER offers for offerHours (nil:
// unchanged), closing offerCloseMinutes before the start (nil: unchanged).
// Free seats move at once under the new mode.
func (l *Ledger) SetWaitlistMode(ctx context.Context, slotID int, mode slot.WaitlistMode, offerHours, offerCloseMinutes *int) (*ent.Slot, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if err := slot.WaitlistModeValidator(mode); err != nil {
		return nil, apperr.Invalid("mode", "mode must be INSTANT or OFFER")
	}
	if offerHours != nil && (*offerHours < 1 || *offerHours > 168) {
		return nil, apperr.Invalid("offerHours", "offerHours must be between 1 and 168")
	}
	if offerCloseMinutes != nil && (*offerCloseMinutes < 0 || *offerCloseMinutes > 7*24*60) {
		return nil, apperr.Invalid("offerCloseMinutes", "offerCloseMinutes must be between 0 and %d", 7*24*60)
	}
	activityID, err := l.activityOf(ctx, slotID)
	if err != nil {
		return nil, err
	}
	op := &offerOp{activityID: activityID, decide: func(ctx context.Context, b *Batch) error {
		if err := authz.SetCapacity(v, b.Activity()); err != nil {
			return err
		}
		s, err := b.Slot(ctx, slotID)
		if err != nil {
			return err
		}
		u := b.tx.Slot.UpdateOneID(slotID).SetWaitlistMode(mode)
		s.WaitlistMode = mode
		if offerHours != nil {
			u.SetOfferHours(*offerHours)
			s.OfferHours = *offerHours
		}
		if offerCloseMinutes != nil {
			u.SetOfferCloseMinutes(*offerCloseMinutes)
			s.OfferCloseMinutes = *offerCloseMinutes
		}
		if err := u.Exec(viewer.System(ctx)); err != nil {
			return err
		}
		return b.Add(ctx, slotID, Counts{}) // free seats move under the new mode
	}}
	if err := l.Submit(ctx, op); err != nil {
		return nil, err
	}
	return l.client.Slot.Get(ctx, slotID)
}

// RegisterOffers puts the offer jobs' handlers on r.
func (l *Ledger) RegisterOffers(r *jobs.Runner) {
	r.Handle(KindOfferLapse, l.lapse)
	r.Handle(KindOfferWake, l.wake)
}

// errNotYet retries a lapse job that ran before its offer's expiry.
var errNotYet = errors.New("ledger: the offer has not expired yet")

// lapse is the KindOfferLapse handler: an offer still standing at its
// expiry is cancelled, its person told, and the seat passes on; the job
// completes in the same transaction, so this happens once whichever
// replica runs it.
func (l *Ledger) lapse(ctx context.Context, c *jobs.Claimed) error {
	var p OfferPayload
	if err := c.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	sys := viewer.System(ctx)
	r, err := l.client.Registration.Get(sys, p.R)
	if ent.IsNotFound(err) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	op := &offerOp{activityID: r.ActivityID, decide: func(ctx context.Context, b *Batch) error {
		r, err := b.tx.Registration.Get(viewer.System(ctx), p.R)
		if err != nil {
			return err
		}
		if r.Status != registration.StatusOFFERED {
			return nil // answered or cancelled meanwhile
		}
		if !expired(r, b.now) {
			return errNotYet
		}
		if err := b.endOffer(ctx, r, registration.StatusCANCELLED, ReasonOfferLapsed); err != nil {
			return err
		}
		b.Publish(b.Changed(r.ID, r.PersonID, ChangeCancelled))
		b.Notify(notification.KindOFFER_LAPSED, r, "")
		return nil
	}}
	return l.runJob(sys, c, op)
}

// wake is the KindOfferWake handler: the slot's free seats are offered
// again (promote runs for a slot its op touched).
func (l *Ledger) wake(ctx context.Context, c *jobs.Claimed) error {
	var p OfferPayload
	if err := c.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	op := &offerOp{activityID: p.A, decide: func(ctx context.Context, b *Batch) error {
		return b.Add(ctx, p.S, Counts{})
	}}
	return l.runJob(viewer.System(ctx), c, op)
}

// runJob applies op and completes the job c in one transaction. A refusal
// (the slot or activity is gone) completes it too.
func (l *Ledger) runJob(ctx context.Context, c *jobs.Claimed, op Op) error {
	err := l.inTx(ctx, func(tx *ent.Tx) error {
		if _, err := l.Apply(ctx, tx, op.ActivityID(), op); err != nil {
			return err
		}
		return c.CompleteIn(ctx, tx)
	})
	if err != nil && errors.Is(err, jobs.ErrLeaseLost) {
		return nil // another claim has it
	}
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
