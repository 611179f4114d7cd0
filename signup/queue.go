package signup

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"linli/apperr"
	"linli/events"
	"linli/store"
)

// locked is an activity whose counts this transaction holds.
type locked struct {
	activityID, communityID int
	version                 int64
}

// lock takes the activity's lock by bumping its counts version; every
// transaction that changes counters does this first, so they never deadlock
// on each other and promotions see a stable queue.
func (s *Service) lock(ctx context.Context, q store.Querier, activityID int) (*locked, error) {
	l := &locked{activityID: activityID}
	ok, err := store.QueryRow(ctx, q, s.db.Rebind(lockActivity), []any{activityID}, &l.version, &l.communityID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	return l, nil
}

func (l *locked) counts() events.Event { return countsEvent(l.communityID, l.activityID) }

func (l *locked) changed(registrationID, personID int, change string) events.Event {
	return registrationEvent(l.communityID, l.activityID, registrationID, personID, change)
}

// state is a registration as read under the activity lock.
type state struct {
	status                  string
	seats, slotID, personID int
}

// lockRegistration locks the registration's activity (see lock) and then
// reads the registration's state, which no one can change until commit.
func (s *Service) lockRegistration(ctx context.Context, q store.Querier, activityID, registrationID int) (*locked, *state, error) {
	l, err := s.lock(ctx, q, activityID)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.state(ctx, q, registrationID)
	if err != nil {
		return nil, nil, err
	}
	return l, st, nil
}

func (s *Service) state(ctx context.Context, q store.Querier, registrationID int) (*state, error) {
	var st state
	ok, err := store.QueryRow(ctx, q, s.db.Rebind(registrationState), []any{registrationID},
		&st.status, &st.seats, &st.slotID, &st.personID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no such registration")
	}
	return &st, nil
}

// exec runs a statement that must change exactly one row; when it changes
// none, a writer that does not take the activity lock (check-in) got there
// first and the transaction is retried.
func (s *Service) exec(ctx context.Context, q store.Querier, query string, args ...any) error {
	r, err := q.ExecContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return errRetry
	}
	return nil
}

// promotion is a registration moved from the waitlist to CONFIRMED.
type promotion struct{ registrationID, personID int }

// promote fills free seats from the head of the slot's waitlist, first come
// first served: it stops at the first registration whose seats do not fit, so
// nobody is overtaken. It runs under the activity lock.
func (s *Service) promote(ctx context.Context, q store.Querier, slotID int, now time.Time) ([]promotion, error) {
	var free, waiting int
	var waitlistEnabled bool
	ok, err := store.QueryRow(ctx, q, s.db.Rebind(slotRoom), []any{slotID}, &free, &waiting, &waitlistEnabled)
	if err != nil || !ok || free <= 0 || waiting == 0 {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, s.db.Rebind(headOfLine), slotID, free)
	if err != nil {
		return nil, err
	}
	var n, total int
	var lastSeq int64
	var lastID int
	for rows.Next() {
		var id, seats int
		var seq int64
		if err := rows.Scan(&id, &seq, &seats); err != nil {
			rows.Close()
			return nil, err
		}
		if total+seats > free {
			break
		}
		n, total, lastSeq, lastID = n+1, total+seats, seq, id
	}
	if err := closeRows(rows); err != nil || n == 0 {
		return nil, err
	}
	r, err := q.ExecContext(ctx, s.db.Rebind(promoteSeats), total, total, now, slotID, total)
	if err != nil {
		return nil, err
	}
	if k, _ := r.RowsAffected(); k != 1 {
		return nil, fmt.Errorf("signup: promotion of %d seats in slot %d did not fit", total, slotID)
	}
	rows, err = q.QueryContext(ctx, s.db.Rebind(confirmPrefix), now, slotID, lastSeq, lastSeq, lastID)
	if err != nil {
		return nil, err
	}
	promoted := make([]promotion, 0, n)
	for rows.Next() {
		var p promotion
		if err := rows.Scan(&p.registrationID, &p.personID); err != nil {
			rows.Close()
			return nil, err
		}
		promoted = append(promoted, p)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	if len(promoted) != n {
		return nil, errRetry
	}
	return promoted, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

func promotionEvents(l *locked, ps []promotion) []events.Event {
	evs := make([]events.Event, 0, len(ps))
	for _, p := range ps {
		evs = append(evs, l.changed(p.registrationID, p.personID, ChangePromoted))
	}
	return evs
}
