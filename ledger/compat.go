package ledger

// Transitional: checkin still runs walk-ins in a *sql.Tx of its own. The
// checkin work replaces this file with ledger/walkin.go (an Op on the
// batcher, using Batch.Add and Batch.Register); delete it then.

import (
	"context"
	"database/sql"
	"time"

	"linli/apperr"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/store"
)

// WalkIn is someone registered at the door.
type WalkIn struct {
	ActivityID, SlotID, PersonID, CommunityID, Seats int
	// ConsentAt records the explicit consent a health activity needs.
	ConsentAt *time.Time
	Now       time.Time
}

// TakeWalkIn registers a walk-in as CONFIRMED inside the caller's
// transaction tx, under the same guards as a sign-up (taken + n <=
// capacity, nobody waiting). ok is false when the seats are not free.
func (l *Ledger) TakeWalkIn(ctx context.Context, tx *sql.Tx, w WalkIn) (registrationID int, ok bool, err error) {
	var version int64
	found, err := store.QueryRow(ctx, tx, l.db.Rebind(lockActivity), []any{w.ActivityID}, &version)
	if err != nil {
		return 0, false, err
	}
	var status string
	if found {
		if _, err = store.QueryRow(ctx, tx, l.db.Rebind(`SELECT status FROM activities WHERE id = ?`), []any{w.ActivityID}, &status); err != nil {
			return 0, false, err
		}
	}
	if status != string(activity.StatusPUBLISHED) {
		return 0, false, apperr.New(apperr.ActivityCancelled, "this activity is not taking people")
	}
	r, err := tx.ExecContext(ctx, l.db.Rebind(`UPDATE slots SET taken = taken + ?, updated_at = ?
WHERE id = ? AND taken + ? <= capacity AND waitlisted = 0`), w.Seats, w.Now, w.SlotID, w.Seats)
	if err != nil {
		return 0, false, err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return 0, false, nil
	}
	code, err := newCheckInCode()
	if err != nil {
		return 0, false, err
	}
	_, err = store.QueryRow(ctx, tx, l.db.Rebind(`INSERT INTO registrations
(created_at, updated_at, activity_id, status, seats, queue_seq, consent_sensitive_at, check_in_code, person_id, community_id, slot_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), []any{
		w.Now, w.Now, w.ActivityID, string(registration.StatusCONFIRMED), w.Seats, version, w.ConsentAt, code, w.PersonID, w.CommunityID, w.SlotID,
	}, &registrationID)
	if err != nil {
		return 0, false, err
	}
	return registrationID, true, nil
}
