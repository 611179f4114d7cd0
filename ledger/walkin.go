package ledger

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"time"

	"entgo.io/ent/dialect/sql"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/predicate"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/viewer"
)

// WalkIn is someone registered and checked in at the door at once.
type WalkIn struct {
	ActivityID, SlotID, PersonID, CommunityID, Seats int
	// ConsentAt records the explicit consent a health activity needs.
	ConsentAt *time.Time
	At        time.Time
}

// TakeWalkIn registers a walk-in as CHECKED_IN inside the caller's
// transaction tx, under the same capacity guard as a sign-up: seats are
// taken only while they are free and nobody waits for them, so a walk-in
// never overtakes the waitlist nor oversells a slot; they count as taken
// and as checked in in the same guarded update. It locks the activity
// first, which must still be on (PUBLISHED): the door may be past the
// sign-up window. ok is false when the seats are not free; the caller then
// rolls back. The caller checks who may do this and publishes after commit.
func TakeWalkIn(ctx context.Context, tx *ent.Tx, w WalkIn) (registrationID int, ok bool, err error) {
	sys := viewer.System(ctx)
	n, err := tx.Activity.Update().Where(activity.ID(w.ActivityID), activity.StatusEQ(activity.StatusPUBLISHED)).
		AddCountsVersion(1).Save(sys)
	if err != nil {
		return 0, false, err
	}
	if n == 0 {
		return 0, false, apperr.New(apperr.ActivityCancelled, "this activity is not taking people")
	}
	version, err := tx.Activity.Query().Where(activity.ID(w.ActivityID)).Select(activity.FieldCountsVersion).Int(sys)
	if err != nil {
		return 0, false, err
	}
	n, err = tx.Slot.Update().Where(slot.ID(w.SlotID), slot.Waitlisted(0), walkInSeatsFree(w.Seats)).
		AddTaken(w.Seats).AddCheckedIn(w.Seats).Save(sys)
	if err != nil || n != 1 {
		return 0, false, err
	}
	code, err := walkInCode()
	if err != nil {
		return 0, false, err
	}
	r, err := tx.Registration.Create().SetActivityID(w.ActivityID).SetSlotID(w.SlotID).SetPersonID(w.PersonID).
		SetCommunityID(w.CommunityID).SetStatus(registration.StatusCHECKED_IN).SetSeats(w.Seats).
		SetQueueSeq(int64(version)).SetNillableConsentSensitiveAt(w.ConsentAt).SetCheckInCode(code).
		SetCheckedInAt(w.At).Save(sys)
	if err != nil {
		return 0, false, err
	}
	return r.ID, true, nil
}

// walkInSeatsFree is the capacity guard of a walk-in: the seats fit
// (taken + seats <= capacity), checked by the database in the update.
func walkInSeatsFree(seats int) predicate.Slot {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C(slot.FieldTaken)).WriteString(" + ").Arg(seats).WriteString(" <= ").Ident(s.C(slot.FieldCapacity))
		}))
	}
}

// walkInCode is a new registration's check-in code: 128 random bits in
// base32.
func walkInCode() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}
