package scan

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/checkinscan"
	"linli/events"
	"linli/hours"
)

// Undo reverts a registration's last check-in or check-out (staff of its
// community), for a mistaken scan: a check-out goes back to checked in and
// its service record is removed; a check-in goes back to confirmed and its
// seats leave the checked_in counter. The audit log keeps who, why and what
// was removed.
func (s *Service) Undo(ctx context.Context, registrationID int, reason string) (*ent.Registration, error) {
	v, err := authz.RequireStaff(ctx)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > 500 {
		return nil, apperr.Invalid("reason", "reason must be 1 to 500 characters")
	}
	t, err := s.loadTarget(ctx, targetByID, registrationID)
	if err != nil {
		return nil, err
	}
	if t == nil || !v.IsStaffOf(t.communityID) {
		return nil, apperr.New(apperr.NotFound, "no such registration")
	}
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	who := scanner{actorID: v.PersonID, communityID: t.communityID}
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		now := s.now()
		if _, err := s.exec(ctx, tx, lockActivity, t.activityID); err != nil {
			return nil, err
		}
		var st string
		if _, err := s.one(ctx, tx, `SELECT status FROM registrations WHERE id = ?`, []any{t.regID}, &st); err != nil {
			return nil, err
		}
		var detail string
		switch st {
		case "CHECKED_OUT":
			removed, err := s.removeRecord(ctx, tx, t.regID)
			if err != nil {
				return nil, err
			}
			if _, err := s.exec(ctx, tx, undoCheckOut, now, t.regID); err != nil {
				return nil, err
			}
			detail = "CHECKED_OUT → CHECKED_IN" + removed
		case "CHECKED_IN":
			if _, err := s.exec(ctx, tx, undoCheckIn, now, t.regID); err != nil {
				return nil, err
			}
			if _, err := s.exec(ctx, tx, subtractCheckedIn, t.seats, now, t.slotID); err != nil {
				return nil, err
			}
			detail = "CHECKED_IN → CONFIRMED"
		default:
			return nil, apperr.New(apperr.Conflict, "this registration is not checked in or out")
		}
		in := Scan{Kind: checkinscan.KindUNDO, Method: checkinscan.MethodMANUAL, Nonce: "undo:" + hex.EncodeToString(nonce)}
		if _, err := s.record(ctx, tx, who, in, t, OK, hours.Clip("已撤销："+reason, 500), now, now); err != nil {
			return nil, err
		}
		if _, err := s.exec(ctx, tx, insertAudit, t.communityID, v.PersonID, "checkin.undo",
			fmt.Sprintf("Registration:%d", t.regID), hours.Clip(detail+": "+reason, 2000), now); err != nil {
			return nil, err
		}
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, ""), nil
	})
	if err != nil {
		return nil, err
	}
	return s.client.Registration.Get(ctx, registrationID)
}

// removeRecord deletes a registration's service record in tx and describes
// it for the audit log.
func (s *Service) removeRecord(ctx context.Context, tx *sql.Tx, regID int) (string, error) {
	id, minutes, ok, err := s.recordOf(ctx, tx, regID)
	if err != nil || !ok {
		return "", err
	}
	if _, err := s.exec(ctx, tx, `DELETE FROM service_records WHERE id = ?`, id); err != nil {
		return "", err
	}
	return fmt.Sprintf("; removed ServiceRecord:%d (%d min)", id, minutes), nil
}
