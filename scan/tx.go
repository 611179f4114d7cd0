package scan

import (
	"context"
	"errors"
	"fmt"

	"linli/ent"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// errStale rolls back a transaction whose conditional update matched
// nothing: the registration moved since it was read, so the scan is decided
// again from the new state.
var errStale = errors.New("scan: registration changed, decide again")

const maxAttempts = store.TxAttempts

// inTx runs fn in an Ent transaction as linli itself (the scanner was
// authorized before), again on deadlocks, serialization failures and a
// busy SQLite, and publishes the events fn returns after commit.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx *ent.Tx) ([]events.Event, error)) error {
	sys := viewer.System(ctx)
	var err error
	for range maxAttempts {
		var evs []events.Event
		if evs, err = s.attempt(sys, fn); err == nil {
			s.publish(evs...)
			return nil
		}
		if !store.IsTransient(err) || ctx.Err() != nil {
			break
		}
	}
	return err
}

func (s *Service) attempt(ctx context.Context, fn func(ctx context.Context, tx *ent.Tx) ([]events.Event, error)) (evs []events.Event, err error) {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if evs, err = fn(ctx, tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return nil, err
	}
	return evs, tx.Commit()
}
