package signup

import (
	"context"
	"database/sql"

	"linli/apperr"
	"linli/ent"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// MaxCapacity bounds a slot's capacity.
const MaxCapacity = 100000

// SetSlotCapacity changes a slot's capacity (staff of its community, or a
// leader of the activity's team).
// Raising it promotes from the waitlist in the same transaction; lowering it
// below the seats already taken is refused (VALIDATION_FAILED on capacity):
// nobody loses a confirmed seat to a capacity change.
func (s *Service) SetSlotCapacity(ctx context.Context, slotID, capacity int) (*ent.Slot, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if capacity < 0 || capacity > MaxCapacity {
		return nil, apperr.Invalid("capacity", "capacity must be between 0 and %d", MaxCapacity)
	}
	sl, err := s.client.Slot.Get(ctx, slotID)
	if err != nil {
		return nil, err
	}
	if !v.IsStaffOf(sl.CommunityID) {
		// Team leaders change the capacities of their own teams' activities.
		a, err := s.client.Activity.Get(ctx, sl.ActivityID)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if a == nil || !v.CanOrganize(a.CommunityID, a.TeamID) {
			return nil, apperr.New(apperr.Forbidden, "only staff of the community and the leaders of the activity's team may change capacity")
		}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		return s.changeCapacity(ctx, tx, sl.ActivityID, slotID, capacity)
	})
	if err != nil {
		return nil, err
	}
	return s.client.Slot.Get(ctx, slotID)
}

// SetCapacityTx changes a slot's capacity inside the caller's transaction
// (organize's UpdateActivity), with SetSlotCapacity's rules; the caller
// has checked who may. Its events are published when tx commits.
func (s *Service) SetCapacityTx(ctx context.Context, tx *ent.Tx, slotID, capacity int) error {
	if capacity < 0 || capacity > MaxCapacity {
		return apperr.Invalid("capacity", "capacity must be between 0 and %d", MaxCapacity)
	}
	sl, err := tx.Slot.Get(ctx, slotID)
	if err != nil {
		return err
	}
	evs, err := s.changeCapacity(ctx, tx, sl.ActivityID, slotID, capacity)
	if err != nil {
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

// changeCapacity sets the capacity under the activity's lock, refusing to
// go below the seats taken, and promotes from the waitlist into what was
// freed.
func (s *Service) changeCapacity(ctx context.Context, tx store.Querier, activityID, slotID, capacity int) ([]events.Event, error) {
	l, err := s.lock(ctx, tx, activityID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ok, err := q1(ctx, tx, s.db.Rebind(setCapacity), capacity, now, slotID, capacity)
	if err != nil {
		return nil, err
	}
	if !ok {
		var taken int
		if _, err := store.QueryRow(ctx, tx, s.db.Rebind(slotTaken), []any{slotID}, &taken); err != nil {
			return nil, err
		}
		return nil, apperr.Invalid("capacity", "%d seats are taken; capacity cannot go below that", taken)
	}
	promoted, err := s.promote(ctx, tx, slotID, now)
	if err != nil {
		return nil, err
	}
	return append([]events.Event{l.counts()}, promotionEvents(l, promoted)...), nil
}
