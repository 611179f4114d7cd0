package scan

import (
	"context"
	"errors"

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
	var evs []events.Event
	err := store.InTx(sys, s.client, store.TxOptions{}, func(tx *ent.Tx) error {
		var err error
		evs, err = fn(sys, tx)
		return err
	})
	if err == nil {
		s.publish(evs...)
	}
	return err
}
