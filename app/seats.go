package app

import (
	"context"

	"linli/ent"
	"linli/signup"
)

// seats gives organize the sign-up service's counter changes inside
// organize's transaction (organize.Seats).
type seats struct{ signups *signup.Service }

func seatsOf(s *signup.Service) seats { return seats{signups: s} }

func (s seats) SetCapacity(ctx context.Context, tx *ent.Tx, slotID, capacity int) error {
	return s.signups.SetCapacityTx(ctx, tx, slotID, capacity)
}

func (s seats) CancelActivity(ctx context.Context, tx *ent.Tx, activityID int, reason string) error {
	return s.signups.CancelActivityRegistrations(ctx, tx, activityID, reason)
}
