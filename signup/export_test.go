package signup

import (
	"context"
	"database/sql"
	"runtime"

	"linli/events"
	"linli/store"
)

// RemoveCapacityGuard replaces the sign-up's write with the classic bug the
// guard exists to prevent: read the counter, decide in Go, write the new
// value back, with no lock and no condition. The storm test must catch it.
func (s *Service) RemoveCapacityGuard() { s.write = s.unguardedWrite }

func (s *Service) unguardedWrite(ctx context.Context, p *writeParams) (writeResult, error) {
	var res writeResult
	var taken, capacity int
	if _, err := store.QueryRow(ctx, s.db.SQL, s.db.Rebind(`SELECT taken, capacity FROM slots WHERE id = ?`),
		[]any{p.slotID}, &taken, &capacity); err != nil {
		return res, err
	}
	runtime.Gosched()
	err := s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		res.status = stWaitlisted
		if taken+p.seats <= capacity {
			res.status = stConfirmed
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE slots SET taken = ? WHERE id = ?`), taken+p.seats, p.slotID); err != nil {
				return nil, err
			}
		} else if _, err := tx.ExecContext(ctx, s.db.Rebind(joinWaitlist), p.seats, p.now, p.slotID); err != nil {
			return nil, err
		}
		_, err := store.QueryRow(ctx, tx, s.db.Rebind(insertRegistration), []any{
			p.now, p.now, p.activityID, res.status, p.seats, 0, p.consentAt(), p.code, p.personID, p.communityID, p.slotID,
		}, &res.registrationID)
		return nil, err
	})
	return res, err
}
