package signup

import (
	"context"
	"database/sql"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/ent"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// staffRegistration reads a registration as the viewer and makes sure the
// viewer is staff of its community.
func (s *Service) staffRegistration(ctx context.Context, registrationID int) (*ent.Registration, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	r, err := s.client.Registration.Get(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	if !v.IsStaffOf(r.CommunityID) {
		return nil, apperr.New(apperr.Forbidden, "only staff of the community may do this")
	}
	return r, nil
}

// Approve accepts a pending sign-up: it is confirmed if a seat is free and
// nobody waits, otherwise it joins the end of the waitlist (CAPACITY_FULL
// when the slot has none, and it stays pending). Approving an approved
// registration returns it unchanged.
func (s *Service) Approve(ctx context.Context, registrationID int) (*ent.Registration, error) {
	r, err := s.staffRegistration(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		l, st, err := s.lockRegistration(ctx, tx, r.ActivityID, registrationID)
		if err != nil {
			return nil, err
		}
		switch st.status {
		case stPending:
		case stConfirmed, stWaitlisted, stCheckedIn, stCheckedOut:
			return nil, nil
		default:
			return nil, apperr.New(apperr.Conflict, "only a pending sign-up can be approved (this one is %s)", st.status)
		}
		now := s.now()
		seated, err := q1(ctx, tx, s.db.Rebind(approveSeats), st.seats, st.seats, now, st.slotID, st.seats)
		if err != nil {
			return nil, err
		}
		if seated {
			err = s.exec(ctx, tx, setRegistrationStatus, stConfirmed, now, registrationID, stPending)
		} else {
			err = s.toWaitlist(ctx, tx, l, st, registrationID, now)
		}
		if err != nil {
			return nil, err
		}
		return []events.Event{l.counts(), l.changed(registrationID, st.personID, ChangeApproved)}, nil
	})
	if err != nil {
		return nil, err
	}
	return s.client.Registration.Get(ctx, registrationID)
}

// toWaitlist puts an approved sign-up at the end of the line: its place is
// the time of approval, as it could not have been served before.
func (s *Service) toWaitlist(ctx context.Context, tx store.Querier, l *locked, st *state, registrationID int, now time.Time) error {
	var free, waiting int
	var waitlistEnabled bool
	if _, err := store.QueryRow(ctx, tx, s.db.Rebind(slotRoom), []any{st.slotID}, &free, &waiting, &waitlistEnabled); err != nil {
		return err
	}
	if !waitlistEnabled {
		return apperr.New(apperr.CapacityFull, "the slot is full and has no waitlist; raise its capacity first")
	}
	if err := s.exec(ctx, tx, approveWaitlist, st.seats, st.seats, now, st.slotID); err != nil {
		return err
	}
	return s.exec(ctx, tx, requeue, l.version, now, registrationID)
}

// Reject turns a pending sign-up down; it held no seat, so nobody moves up.
// Rejecting a rejected (cancelled) registration returns it unchanged.
func (s *Service) Reject(ctx context.Context, registrationID int, reason string) (*ent.Registration, error) {
	if utf8.RuneCountInString(reason) > 500 {
		return nil, apperr.Invalid("reason", "reason must be at most 500 characters")
	}
	r, err := s.staffRegistration(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		l, st, err := s.lockRegistration(ctx, tx, r.ActivityID, registrationID)
		if err != nil {
			return nil, err
		}
		switch st.status {
		case stPending:
		case stCancelled:
			return nil, nil
		default:
			return nil, apperr.New(apperr.Conflict, "only a pending sign-up can be rejected (this one is %s)", st.status)
		}
		now := s.now()
		if err := s.exec(ctx, tx, cancelRegistration, now, nullable(reason), now, registrationID, stPending); err != nil {
			return nil, err
		}
		if err := s.exec(ctx, tx, removePending, st.seats, now, st.slotID); err != nil {
			return nil, err
		}
		return []events.Event{l.counts(), l.changed(registrationID, st.personID, ChangeRejected)}, nil
	})
	if err != nil {
		return nil, err
	}
	return s.client.Registration.Get(ctx, registrationID)
}

// q1 runs a conditional statement and reports whether it changed a row.
func q1(ctx context.Context, q store.Querier, query string, args ...any) (bool, error) {
	r, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}
