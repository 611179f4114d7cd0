package signup

import (
	"context"
	"database/sql"
	"unicode/utf8"

	"linli/apperr"
	"linli/ent"
	"linli/events"
	"linli/viewer"
)

// Cancel cancels a registration for its owner or for staff of its
// community. The seats it held go to the head of the waitlist in the same
// transaction. Cancelling a cancelled registration returns it unchanged.
func (s *Service) Cancel(ctx context.Context, registrationID int, reason string) (*ent.Registration, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to cancel")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return nil, apperr.Invalid("reason", "reason must be at most 500 characters")
	}
	r, err := s.client.Registration.Get(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	owner := r.PersonID == v.PersonID && !v.IsKiosk()
	if !owner && !v.IsStaffOf(r.CommunityID) {
		return nil, apperr.New(apperr.Forbidden, "only the person or staff may cancel this registration")
	}
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		l, st, err := s.lockRegistration(ctx, tx, r.ActivityID, registrationID)
		if err != nil {
			return nil, err
		}
		switch st.status {
		case stCancelled:
			return nil, nil
		case stCheckedIn, stCheckedOut, stNoShow:
			return nil, apperr.New(apperr.Conflict, "a registration that was attended cannot be cancelled")
		}
		now := s.now()
		if err := s.exec(ctx, tx, cancelRegistration, now, nullable(reason), now, registrationID, st.status); err != nil {
			return nil, err
		}
		if err := s.exec(ctx, tx, counterOf(st.status), st.seats, now, st.slotID); err != nil {
			return nil, err
		}
		// A waiting registration leaving can unblock the head of the line too.
		promoted, err := s.promote(ctx, tx, st.slotID, now)
		if err != nil {
			return nil, err
		}
		evs := append([]events.Event{l.counts()}, promotionEvents(l, promoted)...)
		if !owner {
			evs = append(evs, l.changed(registrationID, st.personID, ChangeCancelled))
		}
		return evs, nil
	})
	if err != nil {
		return nil, err
	}
	return s.client.Registration.Get(ctx, registrationID)
}

// counterOf is the statement that gives back what a registration in status
// held.
func counterOf(status string) string {
	switch status {
	case stWaitlisted:
		return leaveWaitlist
	case stPending:
		return removePending
	}
	return releaseSeats
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CancelActivityRegistrations cancels every open registration (confirmed,
// waiting or pending) of an activity inside the caller's transaction, which
// cancels the activity itself. Registrations already attended stay. Events
// go out when tx commits. The caller must have checked that the viewer may
// run the activity (staff of its community or a leader of its team).
func (s *Service) CancelActivityRegistrations(ctx context.Context, tx *ent.Tx, activityID int, reason string) error {
	l, err := s.lock(ctx, tx, activityID)
	if err != nil {
		return err
	}
	now := s.now()
	rows, err := tx.QueryContext(ctx, s.db.Rebind(cancelActivityRegistrations), now, nullable(reason), now, activityID)
	if err != nil {
		return err
	}
	evs := []events.Event{l.counts()}
	for rows.Next() {
		var id, personID int
		if err := rows.Scan(&id, &personID); err != nil {
			rows.Close()
			return err
		}
		evs = append(evs, l.changed(id, personID, ChangeCancelled))
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(recountActivitySlots), now, activityID); err != nil {
		return err
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			s.publish(evs)
			return nil
		})
	})
	return nil
}
