package signup

import (
	"context"
	"database/sql"
	"time"

	"linli/apperr"
	"linli/store"
)

// lockPublishedActivity is lockActivity for a walk-in: the door may be past
// the sign-up window, but the activity must still be on.
const lockPublishedActivity = `UPDATE activities SET counts_version = counts_version + 1
WHERE id = ? AND status = 'PUBLISHED' RETURNING counts_version`

// WalkIn is someone registered at the door.
type WalkIn struct {
	ActivityID, SlotID, PersonID, CommunityID, Seats int
	// ConsentAt records the explicit consent a health activity needs.
	ConsentAt *time.Time
	Now       time.Time
}

// TakeWalkIn registers a walk-in as CONFIRMED inside the caller's
// transaction tx, under the same capacity guard as a sign-up: seats are
// taken only while they are free and nobody waits for them, so a walk-in
// never overtakes the waitlist nor oversells a slot. It locks the activity
// (the first write, as in every counter change) and ignores the sign-up
// window. ok is false when the seats are not free; the caller then rolls
// back. The caller checks who may do this and publishes the counts event
// after commit.
func (s *Service) TakeWalkIn(ctx context.Context, tx *sql.Tx, w WalkIn) (registrationID int, ok bool, err error) {
	var version int64
	found, err := store.QueryRow(ctx, tx, s.db.Rebind(lockPublishedActivity), []any{w.ActivityID}, &version)
	if err != nil {
		return 0, false, err
	}
	if !found {
		return 0, false, apperr.New(apperr.ActivityCancelled, "this activity is not taking people")
	}
	r, err := tx.ExecContext(ctx, s.db.Rebind(takeSeats), w.Seats, w.Now, w.SlotID, w.Seats)
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
	_, err = store.QueryRow(ctx, tx, s.db.Rebind(insertRegistration), []any{
		w.Now, w.Now, w.ActivityID, stConfirmed, w.Seats, version, w.ConsentAt, code, w.PersonID, w.CommunityID, w.SlotID,
	}, &registrationID)
	if err != nil {
		return 0, false, err
	}
	return registrationID, true, nil
}
