package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/idempotencykey"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/idem"
	"linli/store"
	"linli/viewer"
)

// Outcome is what a sign-up got.
type Outcome = registration.Status

// The outcomes of a sign-up.
const (
	Confirmed       = registration.StatusCONFIRMED
	Waitlisted      = registration.StatusWAITLISTED
	PendingApproval = registration.StatusPENDING_APPROVAL
)

// SignUpInput is one sign-up request.
type SignUpInput struct {
	SlotID int
	// Seats is 1 or more, at most the slot's max_seats_per_signup.
	Seats int
	// IdempotencyKey makes retries safe: the same key with the same input
	// returns the first answer, with different input CONFLICT.
	IdempotencyKey string
	// ConsentSensitive is the explicit consent health activities require.
	ConsentSensitive bool
}

// SignUpResult is the outcome and the registration made.
type SignUpResult struct {
	Outcome      Outcome
	Registration *ent.Registration
}

// opSignUp is a sign-up's idempotency scope.
const opSignUp = "signUp"

// SignUp signs the viewer up for a slot. Sign-ups for one activity that
// arrive together are decided in one batch, in arrival order.
func (l *Ledger) SignUp(ctx context.Context, in SignUpInput) (*SignUpResult, error) {
	o, err := l.signUpOp(ctx, in)
	if err != nil {
		return nil, err
	}
	return l.answer(ctx, o, l.Submit(ctx, o))
}

// signUpOp checks what can be checked before the lock and makes the op.
func (l *Ledger) signUpOp(ctx context.Context, in SignUpInput) (*signUpOp, error) {
	v := viewer.FromContext(ctx)
	if err := authz.SignUpCaller(v); err != nil {
		return nil, err
	}
	if err := idem.Validate("idempotencyKey", in.IdempotencyKey); err != nil {
		return nil, err
	}
	activityID, err := l.activityOf(ctx, in.SlotID)
	if err != nil {
		return nil, err
	}
	code, err := newCheckInCode()
	if err != nil {
		return nil, err
	}
	return &signUpOp{v: v, in: in, activityID: activityID, hash: requestHash(in), code: code}, nil
}

// answer turns what the batch did with o into the sign-up's answer.
func (l *Ledger) answer(ctx context.Context, o *signUpOp, err error) (*SignUpResult, error) {
	if store.IsUniqueViolation(err) {
		// The same person in the same slot, or the same key again (which
		// replay answers).
		err = apperr.New(apperr.AlreadyRegistered, "you are already signed up for this slot")
	}
	if _, refused := apperr.As(err); refused && o.in.IdempotencyKey != "" && o.replayID == 0 {
		// A retry of a sign-up that succeeded gets its answer even if the
		// slot has filled or closed since.
		found, rerr := l.replay(ctx, o.v.PersonID, o)
		if rerr != nil {
			return nil, rerr
		}
		if found {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	l.maybePurgeKeys(ctx)
	if o.replayID != 0 {
		r, err := l.client.Registration.Get(ctx, o.replayID)
		if err != nil {
			return nil, err
		}
		return &SignUpResult{Outcome: o.replayOutcome, Registration: r}, nil
	}
	return &SignUpResult{Outcome: o.reg.Status, Registration: o.reg.Registration.Unwrap()}, nil
}

// activityOf returns the activity of a slot (which never changes), read as
// the system: whether the viewer may see it is decided under the lock.
func (l *Ledger) activityOf(ctx context.Context, slotID int) (int, error) {
	if id, ok := l.slotActivity.Load(slotID); ok {
		return id.(int), nil
	}
	ids, err := l.client.Slot.Query().Where(slot.ID(slotID)).Select(slot.FieldActivityID).Ints(viewer.System(ctx))
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, apperr.New(apperr.NotFound, "no such slot")
	}
	l.slotActivity.Store(slotID, ids[0])
	return ids[0], nil
}

// signUpOp is one sign-up in a batch.
type signUpOp struct {
	v          *viewer.Viewer
	in         SignUpInput
	activityID int
	hash       []byte
	code       string

	// the decision: a registration made, or the earlier answer of its key
	reg           *NewRegistration
	replayID      int
	replayOutcome Outcome
	// sameKey is an earlier op of the batch with the same key.
	sameKey *signUpOp
}

func (o *signUpOp) ActivityID() int { return o.activityID }

// Decide applies the sign-up rules in the order a client can act on them
// and takes a seat, a place in the line or a pending approval.
func (o *signUpOp) Decide(ctx context.Context, b *Batch) error {
	o.reg, o.replayID, o.replayOutcome, o.sameKey = nil, 0, "", nil
	if o.in.IdempotencyKey != "" {
		if done, err := o.replayed(ctx, b); done || err != nil {
			return err
		}
	}
	a := b.Activity()
	if err := authz.SignUp(o.v, a); err != nil {
		return err
	}
	if err := WindowError(a, b.Now()); err != nil {
		return err
	}
	s, err := b.Slot(ctx, o.in.SlotID)
	if err != nil {
		return err
	}
	st, err := b.Standing(ctx, o.v.PersonID)
	if err != nil {
		return err
	}
	if err := Eligible(o.v, a, s, o.in.Seats, o.in.ConsentSensitive, st); err != nil {
		return err
	}
	held := [2]int{s.ID, o.v.PersonID}
	if b.g.signedUp[held] {
		return apperr.New(apperr.AlreadyRegistered, "you are already signed up for this slot")
	}
	status := registration.StatusCONFIRMED
	var c Counts
	switch {
	case NeedsApproval(s, st):
		status, c.Pending = registration.StatusPENDING_APPROVAL, o.in.Seats
	case SeatFree(a, s, o.in.Seats, b.Now()):
		c.Taken = o.in.Seats
	case s.WaitlistEnabled:
		status, c.Waitlisted = registration.StatusWAITLISTED, o.in.Seats
	default:
		return apperr.New(apperr.CapacityFull, "this slot is full")
	}
	if err := b.Add(ctx, s.ID, c); err != nil {
		return err
	}
	o.reg = &NewRegistration{SlotID: s.ID, PersonID: o.v.PersonID, Seats: o.in.Seats, Status: status, CheckInCode: o.code}
	if HealthData(a) {
		at := b.Now()
		o.reg.ConsentAt = &at
	}
	b.Register(o.reg)
	b.g.signedUp[held] = true
	if o.in.IdempotencyKey != "" {
		b.g.signUpKeys[keyOf(o)] = o
		b.g.afterInsert = append(b.g.afterInsert, func() *ent.IdempotencyKeyCreate {
			return idem.Record(b.tx.IdempotencyKey, opSignUp, o.v.PersonID, o.in.IdempotencyKey, o.hash,
				storedAnswer(o.reg.Status, o.reg.Registration.ID), b.Now())
		})
	}
	return nil
}

type idemKey struct {
	personID int
	key      string
}

func keyOf(o *signUpOp) idemKey { return idemKey{o.v.PersonID, o.in.IdempotencyKey} }

// replayed answers a sign-up whose key already has an answer, stored or
// made earlier in this batch: the same input gets that answer, different
// input CONFLICT.
func (o *signUpOp) replayed(ctx context.Context, b *Batch) (bool, error) {
	if err := b.loadKeys(ctx); err != nil {
		return true, err
	}
	k := keyOf(o)
	if first := b.g.signUpKeys[k]; first != nil {
		// Decided earlier in this batch: its answer is not stored yet.
		if idem.Match(opSignUp, first.hash, opSignUp, o.hash) == idem.Conflict {
			return true, idem.ConflictError("idempotencyKey")
		}
		o.sameKey = first
		return true, nil
	}
	stored := b.g.storedKeys[k]
	if stored == nil {
		return false, nil
	}
	return true, o.useAnswer(stored)
}

// useAnswer decides a sign-up whose key has a stored answer (idem.Decide):
// a replay takes it, anything else is a conflict.
func (o *signUpOp) useAnswer(k *ent.IdempotencyKey) error {
	if idem.Decide(k, opSignUp, o.hash) != idem.Replay {
		return idem.ConflictError("idempotencyKey")
	}
	outcome, id, err := parseAnswer(k.Response)
	if err != nil {
		return err
	}
	o.replayID, o.replayOutcome = id, outcome
	return nil
}

// committed finishes a sign-up that repeated the key of an earlier one in
// the same batch: it gets that one's answer.
func (o *signUpOp) committed() {
	if f := o.sameKey; f != nil && f.reg != nil && f.reg.Registration != nil {
		o.replayID, o.replayOutcome = f.reg.Registration.ID, f.reg.Status
	}
}

// loadKeys reads, once per batch, the stored answers of the keys its
// sign-ups carry.
func (b *Batch) loadKeys(ctx context.Context) error {
	g := b.g
	if g.storedKeys != nil {
		return nil
	}
	g.storedKeys = map[idemKey]*ent.IdempotencyKey{}
	var people []int
	var keys []string
	for _, op := range g.ops {
		if o, ok := op.(*signUpOp); ok && o.in.IdempotencyKey != "" {
			people, keys = append(people, o.v.PersonID), append(keys, o.in.IdempotencyKey)
		}
	}
	// Every operation's keys: a key of another operation is a conflict.
	found, err := g.tx.IdempotencyKey.Query().Where(idempotencykey.PersonIDIn(people...),
		idempotencykey.KeyIn(keys...)).All(viewer.System(ctx)) // keys are system rows; the people are given
	if err != nil {
		return err
	}
	for _, k := range found {
		g.storedKeys[idemKey{k.PersonID, k.Key}] = k
	}
	return nil
}

// replay looks up the stored answer of a refused sign-up's key (stored by
// another batch, maybe in another process). Refusals are not remembered:
// they changed nothing, and a retry may succeed.
func (l *Ledger) replay(ctx context.Context, personID int, o *signUpOp) (bool, error) {
	k, err := idem.Lookup(ctx, l.client.IdempotencyKey, personID, o.in.IdempotencyKey)
	if err != nil || k == nil {
		return false, err
	}
	return true, o.useAnswer(k)
}

// requestHash identifies a sign-up's input, so a key reused with different
// input is recognised.
func requestHash(in SignUpInput) []byte {
	return idem.Hash(opSignUp, in.SlotID, in.Seats, in.ConsentSensitive)
}

// storedAnswer is what a key remembers: the outcome and the registration.
func storedAnswer(status registration.Status, registrationID int) []byte {
	return []byte(string(status) + " " + strconv.Itoa(registrationID))
}

func parseAnswer(b []byte) (Outcome, int, error) {
	status, id, ok := strings.Cut(string(b), " ")
	n, err := strconv.Atoi(id)
	if !ok || err != nil {
		return "", 0, fmt.Errorf("ledger: bad stored answer %q", b)
	}
	return Outcome(status), n, nil
}

// maybePurgeKeys deletes expired idempotency keys, at most every ten minutes
// per process, on the back of a sign-up.
func (l *Ledger) maybePurgeKeys(ctx context.Context) {
	t := now()
	last := l.lastPurge.Load()
	if t.UnixNano()-last < int64(10*time.Minute) || !l.lastPurge.CompareAndSwap(last, t.UnixNano()) {
		return
	}
	// A failed purge is retried by a later sign-up; it never fails this one.
	_, _ = idem.Purge(ctx, l.client.IdempotencyKey, t)
}
