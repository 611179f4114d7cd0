package ledger

import (
	"context"
	"fmt"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/ent"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/viewer"
)

// changeOp is a change of one registration's status (cancel, approve,
// reject), decided on the registration as read under the lock.
type changeOp struct {
	activityID, registrationID int
	decide                     func(ctx context.Context, b *Batch, r *ent.Registration) error
}

func (o *changeOp) ActivityID() int { return o.activityID }

func (o *changeOp) Decide(ctx context.Context, b *Batch) error {
	r, err := b.tx.Registration.Get(viewer.System(ctx), o.registrationID)
	if err != nil {
		return err
	}
	return o.decide(ctx, b, r)
}

// setStatus moves r from the status it was read in to status, or asks for
// a retry when a writer that does not take the lock got there first.
func (b *Batch) setStatus(ctx context.Context, r *ent.Registration, status registration.Status, reason *string) error {
	u := b.tx.Registration.Update().Where(registration.ID(r.ID), registration.StatusEQ(r.Status)).
		SetStatus(status).SetUpdatedAt(b.now)
	if status == registration.StatusCANCELLED {
		u.SetCancelledAt(b.now).SetNillableCancelReason(reason)
	}
	n, err := u.Save(viewer.System(ctx))
	if err != nil {
		return err
	}
	if n != 1 {
		return errRetry
	}
	return nil
}

// change reads a registration as the viewer (privacy decides whether it
// exists for them), lets may decide who may change it, and submits op.
func (l *Ledger) change(ctx context.Context, registrationID int, may func(*viewer.Viewer, *ent.Registration) error,
	decide func(ctx context.Context, b *Batch, r *ent.Registration) error) (*ent.Registration, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	r, err := l.client.Registration.Get(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	if err := may(v, r); err != nil {
		return nil, err
	}
	if err := l.Submit(ctx, &changeOp{activityID: r.ActivityID, registrationID: r.ID, decide: decide}); err != nil {
		return nil, err
	}
	return l.client.Registration.Get(ctx, registrationID)
}

// Audit-log actions of sign-up decisions.
const (
	ActionApprove = "registration.approve"
	ActionReject  = "registration.reject"
)

// audited records a decision on r in the batch's transaction, as the
// viewer who asked for it (caller: their context, not the batch leader's).
func (b *Batch) audited(caller context.Context, r *ent.Registration, action, detail string) error {
	return audit.Record(context.WithoutCancel(caller), b.tx.Client(), audit.Entry{CommunityID: r.CommunityID, Action: action,
		Subject: fmt.Sprintf("Registration:%d", r.ID), SubjectID: &r.ID, Detail: detail})
}

func validReason(reason string) error {
	if utf8.RuneCountInString(reason) > 500 {
		return apperr.Invalid("reason", "reason must be at most 500 characters")
	}
	return nil
}

func nillable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Cancel cancels a registration for its owner or for staff of its
// community. The seats it held go to the head of the waitlist in the same
// transaction. Cancelling a cancelled registration returns it unchanged.
func (l *Ledger) Cancel(ctx context.Context, registrationID int, reason string) (*ent.Registration, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to cancel")
	}
	if err := validReason(reason); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	return l.change(ctx, registrationID, authz.CancelRegistration, func(ctx context.Context, b *Batch, r *ent.Registration) error {
		switch r.Status {
		case registration.StatusCANCELLED:
			return nil
		case registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT, registration.StatusNO_SHOW:
			return apperr.New(apperr.Conflict, "a registration that was attended cannot be cancelled")
		}
		if err := b.setStatus(ctx, r, registration.StatusCANCELLED, nillable(reason)); err != nil {
			return err
		}
		if !authz.OwnsRegistration(v, r) {
			b.Publish(b.Changed(r.ID, r.PersonID, ChangeCancelled))
		}
		// Freed seats, and a waiting registration leaving, can move the
		// line: the batch promotes when it writes.
		return b.Add(ctx, r.SlotID, Held(r.Status, r.Seats).Neg())
	})
}

// Approve accepts a pending sign-up: it is confirmed if a seat is free and
// nobody waits, otherwise it joins the end of the waitlist (CAPACITY_FULL
// when the slot has none, and it stays pending). Approving an approved
// registration returns it unchanged.
func (l *Ledger) Approve(ctx context.Context, registrationID int) (*ent.Registration, error) {
	caller := ctx
	return l.change(ctx, registrationID, authz.DecideRegistration, func(ctx context.Context, b *Batch, r *ent.Registration) error {
		switch r.Status {
		case registration.StatusPENDING_APPROVAL:
		case registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT:
			return nil
		default:
			return apperr.New(apperr.Conflict, "only a pending sign-up can be approved (this one is %s)", r.Status)
		}
		s, err := b.Slot(ctx, r.SlotID)
		if err != nil {
			return err
		}
		// Qualifications are checked again at the decision: one may have
		// expired while the sign-up waited.
		st, err := b.Standing(ctx, r.PersonID)
		if err != nil {
			return err
		}
		if err := Qualified(s, st); err != nil {
			return err
		}
		to := registration.StatusCONFIRMED
		switch {
		case Fits(s, r.Seats):
		case s.WaitlistEnabled:
			// The end of the line: its place is the time of approval, as it
			// could not have been served before.
			to = registration.StatusWAITLISTED
		default:
			return apperr.New(apperr.CapacityFull, "the slot is full and has no waitlist; raise its capacity first")
		}
		if err := b.setStatus(ctx, r, to, nil); err != nil {
			return err
		}
		if to == registration.StatusWAITLISTED {
			if err := b.tx.Registration.UpdateOneID(r.ID).SetQueueSeq(b.version).Exec(viewer.System(ctx)); err != nil {
				return err
			}
		}
		b.Publish(b.Changed(r.ID, r.PersonID, ChangeApproved))
		b.Notify(notification.KindSIGNUP_APPROVED, r, "")
		c := Held(to, r.Seats)
		c.Pending = -r.Seats
		if err := b.Add(ctx, r.SlotID, c); err != nil {
			return err
		}
		return b.audited(caller, r, ActionApprove, fmt.Sprintf("PENDING_APPROVAL → %s", to))
	})
}

// Reject turns a pending sign-up down; it held no seat, so nobody moves up.
// Rejecting a rejected (cancelled) registration returns it unchanged.
func (l *Ledger) Reject(ctx context.Context, registrationID int, reason string) (*ent.Registration, error) {
	if err := validReason(reason); err != nil {
		return nil, err
	}
	caller := ctx
	return l.change(ctx, registrationID, authz.DecideRegistration, func(ctx context.Context, b *Batch, r *ent.Registration) error {
		switch r.Status {
		case registration.StatusPENDING_APPROVAL:
		case registration.StatusCANCELLED:
			return nil
		default:
			return apperr.New(apperr.Conflict, "only a pending sign-up can be rejected (this one is %s)", r.Status)
		}
		if err := b.setStatus(ctx, r, registration.StatusCANCELLED, nillable(reason)); err != nil {
			return err
		}
		b.Publish(b.Changed(r.ID, r.PersonID, ChangeRejected))
		b.Notify(notification.KindSIGNUP_REJECTED, r, reason)
		if err := b.Add(ctx, r.SlotID, Counts{Pending: -r.Seats}); err != nil {
			return err
		}
		return b.audited(caller, r, ActionReject, "PENDING_APPROVAL → CANCELLED: "+reason)
	})
}
