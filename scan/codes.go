package scan

import (
	"context"
	"crypto/rand"
	"encoding/base32"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/registration"
	"linli/events"
	"linli/viewer"
)

// RotateCode gives a registration a new check-in code, for its owner or
// staff of its community: the old QR code (a shared screenshot, a lost
// printout) stops working at once. The activity's counts_version moves, so
// kiosks see that their offline list is out of date.
func (s *Service) RotateCode(ctx context.Context, registrationID int) (*ent.Registration, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	// The viewer's context: privacy shows owners their own, staff their community's.
	r, err := s.client.Registration.Get(ctx, registrationID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such registration")
	}
	if err != nil {
		return nil, err
	}
	if !authz.SeesCheckInCode(v, r) {
		return nil, apperr.New(apperr.Forbidden, "only the person or staff may change this code")
	}
	if r.Status == registration.StatusCANCELLED {
		return nil, apperr.New(apperr.Conflict, "this registration was cancelled")
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	code := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	err = s.inTx(ctx, func(ctx context.Context, tx *ent.Tx) ([]events.Event, error) {
		if err := s.ledger.LockForDoor(ctx, tx, r.ActivityID); err != nil {
			return nil, err
		}
		return nil, tx.Registration.UpdateOneID(r.ID).SetCheckInCode(code).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.client.Registration.Get(ctx, registrationID)
}
