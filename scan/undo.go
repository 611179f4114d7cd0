package scan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/ent"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/events"
	"linli/hours"
	"linli/viewer"
)

// Undo reverts a registration's last check-in or check-out (staff of its
// community), for a mistaken scan: a check-out goes back to checked in and
// its service record is removed; a check-in goes back to confirmed and its
// seats leave the checked_in counter. The audit log keeps who, why and what
// was removed. A kiosk may undo only its own scan, the registration's last,
// within KioskUndoWindow (a volunteer at the door who scanned the wrong
// code); anything older is staff's.
func (s *Service) Undo(ctx context.Context, registrationID int, reason string) (*ent.Registration, error) {
	var who scanner
	if v := viewer.FromContext(ctx); v.IsKiosk() {
		who = scanner{kioskID: v.KioskID, venueID: v.VenueID, communityID: v.CommunityID}
	} else {
		v, err := authz.RequireStaff(ctx)
		if err != nil {
			return nil, err
		}
		who = scanner{actorID: v.PersonID}
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > 500 {
		return nil, apperr.Invalid("reason", "reason must be 1 to 500 characters")
	}
	// As the viewer: privacy shows staff their community's registrations
	// (admins all), so another community's is unknown here.
	if ok, err := s.client.Registration.Query().Where(registration.ID(registrationID)).Exist(ctx); err != nil || !ok {
		if err == nil {
			err = apperr.New(apperr.NotFound, "no such registration")
		}
		return nil, err
	}
	t, err := s.loadTarget(ctx, registration.ID(registrationID))
	if err != nil {
		return nil, err
	}
	who.communityID = t.communityID
	if who.kioskID != 0 {
		if err := s.kioskMayUndo(ctx, who.kioskID, t.regID); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		err = s.inTx(ctx, func(ctx context.Context, tx *ent.Tx) ([]events.Event, error) {
			return s.undo(ctx, tx, who, t, reason)
		})
		if !errors.Is(err, errStale) || attempt >= maxAttempts {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return s.client.Registration.Get(ctx, registrationID)
}

// undo moves t back one step inside tx, records it as a scan and in the
// audit log; errStale when it moved meanwhile.
func (s *Service) undo(ctx context.Context, tx *ent.Tx, who scanner, t *target, reason string) ([]events.Event, error) {
	now := s.now()
	r, err := tx.Registration.Get(ctx, t.regID)
	if err != nil {
		return nil, err
	}
	var detail string
	moved := false
	switch r.Status {
	case registration.StatusCHECKED_OUT:
		if moved, err = s.ledger.UndoCheckOut(ctx, tx, t.seat()); err != nil || !moved {
			break
		}
		var removed string
		removed, err = removeRecord(ctx, tx, t.regID)
		detail = "CHECKED_OUT → CHECKED_IN" + removed
	case registration.StatusCHECKED_IN:
		moved, err = s.ledger.UndoCheckIn(ctx, tx, t.seat())
		detail = "CHECKED_IN → CONFIRMED"
	default:
		return nil, apperr.New(apperr.Conflict, "this registration is not checked in or out")
	}
	switch {
	case err != nil:
		return nil, err
	case !moved:
		return nil, errStale
	}
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	in := Scan{Kind: checkinscan.KindUNDO, Method: checkinscan.MethodMANUAL, Nonce: "undo:" + hex.EncodeToString(nonce)}
	if _, err := s.record(ctx, tx.Client(), who, in, t, OK, hours.Clip("已撤销："+reason, 500), now, now); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: t.communityID, Action: "checkin.undo", Subject: fmt.Sprintf("Registration:%d", t.regID), SubjectID: &t.regID, Detail: detail + ": " + reason, ActorID: actorOf(who)}); err != nil {
		return nil, err
	}
	return changeEvents(t.communityID, t.activityID, t.regID, t.personID, ""), nil
}

// removeRecord deletes a registration's service record in tx and describes
// it for the audit log.
func removeRecord(ctx context.Context, tx *ent.Tx, regID int) (string, error) {
	rec, err := recordOf(ctx, tx, regID)
	if err != nil || rec == nil {
		return "", err
	}
	if err := tx.ServiceRecord.DeleteOne(rec).Exec(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("; removed ServiceRecord:%d (%d min)", rec.ID, rec.Minutes), nil
}

// KioskUndoWindow is how long a kiosk may undo a scan it made.
const KioskUndoWindow = 10 * time.Minute

// kioskMayUndo refuses (FORBIDDEN) unless the registration's last
// effective scan was made by kioskID within KioskUndoWindow.
func (s *Service) kioskMayUndo(ctx context.Context, kioskID, regID int) error {
	last, err := s.client.CheckInScan.Query().
		Where(checkinscan.RegistrationID(regID), checkinscan.StatusEQ(checkinscan.StatusOK),
			checkinscan.KindIn(checkinscan.KindIN, checkinscan.KindOUT, checkinscan.KindUNDO)).
		Order(ent.Desc(checkinscan.FieldRecordedAt), ent.Desc(checkinscan.FieldID)).
		First(viewer.System(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	if last == nil || last.Kind == checkinscan.KindUNDO || last.KioskID == nil || *last.KioskID != kioskID ||
		s.now().Sub(last.RecordedAt) > KioskUndoWindow {
		return apperr.New(apperr.Forbidden, "a kiosk may undo only its own scan of the last 10 minutes; ask staff")
	}
	return nil
}

// actorOf is the person who acted for the audit log; nil for a kiosk.
func actorOf(who scanner) *int {
	if who.actorID == 0 {
		return nil
	}
	return &who.actorID
}
