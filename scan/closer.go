package scan

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"linli/ent"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/events"
	"linli/viewer"
)

// CloseMissingCheckOuts checks out the volunteers still checked in a grace
// period after their position's check-in window closed (Window), at its
// end, and flags their records for review. It returns how many it closed.
// The app runs it periodically.
func (s *Service) CloseMissingCheckOuts(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
	// Volunteers checked in right now are few: the window decides in Go.
	regs, err := s.client.Registration.Query().Where(
		registration.StatusEQ(registration.StatusCHECKED_IN),
		registration.HasSlotWith(slot.KindEQ(slot.KindVOLUNTEER)),
	).WithSlot().WithActivity().WithPerson().Order(ent.Asc(registration.FieldID)).All(viewer.System(ctx))
	if err != nil {
		return 0, err
	}
	closed := 0
	for _, r := range regs {
		t := targetOf(r)
		if _, closes := t.window(); !closes.Before(now.Add(-s.rules.grace)) {
			continue
		}
		ok, err := s.closeOne(ctx, t)
		if err != nil {
			return closed, err
		}
		if ok {
			closed++
		}
	}
	return closed, nil
}

// closeOne checks t out at the end of its window (or its check-in, when
// that was later) and writes its service record flagged for review.
func (s *Service) closeOne(ctx context.Context, t *target) (bool, error) {
	who := scanner{communityID: t.communityID}
	info, err := s.loadRecordInfo(ctx, who, t)
	if err != nil {
		return false, err
	}
	_, end := t.window()
	if t.checkedInAt != nil && t.checkedInAt.After(end) {
		end = *t.checkedInAt
	}
	now := s.now()
	closed := false
	err = s.inTx(ctx, func(ctx context.Context, tx *ent.Tx) ([]events.Event, error) {
		moved, err := s.ledger.CheckOut(ctx, tx, t.seat(), end)
		if err != nil || !moved {
			return nil, err // checked out meanwhile
		}
		if _, err := s.insertRecord(ctx, tx, info, t, autoCloseReason, now); err != nil {
			return nil, err
		}
		in := Scan{Kind: Out, Method: checkinscan.MethodAUTO, Nonce: fmt.Sprintf("auto:%d", t.regID)}
		if _, err := s.record(ctx, tx.Client(), who, in, t, OK, "未签退，已按岗位结束时间自动签退", end, now); err != nil {
			return nil, err
		}
		closed = true
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, string(registration.StatusCHECKED_OUT)), nil
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
