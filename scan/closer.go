package scan

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"linli/events"
)

// CloseMissingCheckOuts checks out the volunteers still checked in a grace
// period after their position ended, at its end, and flags their records
// for review. It returns how many it closed. The app runs it periodically.
func (s *Service) CloseMissingCheckOuts(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT r.id FROM registrations r
JOIN slots s ON s.id = r.slot_id JOIN activities a ON a.id = r.activity_id
WHERE r.status = 'CHECKED_IN' AND s.kind = 'VOLUNTEER' AND COALESCE(s.ends_at, a.ends_at) < ?
ORDER BY r.id`), now.UTC().Add(-s.rules.grace))
	if err != nil {
		return 0, err
	}
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	closed := 0
	for _, id := range ids {
		ok, err := s.closeOne(ctx, id)
		if err != nil {
			return closed, err
		}
		if ok {
			closed++
		}
	}
	return closed, nil
}

func (s *Service) closeOne(ctx context.Context, regID int) (bool, error) {
	t, err := s.loadTarget(ctx, targetByID, regID)
	if err != nil || t == nil || t.status != "CHECKED_IN" {
		return false, err
	}
	who := scanner{communityID: t.communityID}
	info, err := s.loadRecordInfo(ctx, who, t)
	if err != nil {
		return false, err
	}
	_, end := t.window()
	if t.checkedInAt.Valid && t.checkedInAt.Time.After(end) {
		end = t.checkedInAt.Time
	}
	now := s.now()
	closed := false
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		if _, err := s.exec(ctx, tx, lockActivity, t.activityID); err != nil {
			return nil, err
		}
		n, err := s.exec(ctx, tx, checkOutRegistration, end, now, t.regID)
		if err != nil || n == 0 {
			return nil, err // checked out meanwhile
		}
		if _, err := s.insertRecord(ctx, tx, info, t, autoCloseReason, now); err != nil {
			return nil, err
		}
		in := Scan{Kind: Out, Method: "AUTO", Nonce: fmt.Sprintf("auto:%d", t.regID)}
		if _, err := s.record(ctx, tx, who, in, t, OK, "未签退，已按岗位结束时间自动签退", end, now); err != nil {
			return nil, err
		}
		closed = true
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, "CHECKED_OUT"), nil
	})
	return closed, err
}

// RunCloser calls CloseMissingCheckOuts every interval until ctx ends.
func (s *Service) RunCloser(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.CloseMissingCheckOuts(ctx, s.now()); err != nil && ctx.Err() == nil {
			log.Warn("close missing check-outs", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Info("closed missing check-outs", slog.Int("count", n))
		}
	}
}
