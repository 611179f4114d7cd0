package signup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// Outcome is what a sign-up got.
type Outcome string

// The outcomes of a sign-up.
const (
	Confirmed       Outcome = stConfirmed
	Waitlisted      Outcome = stWaitlisted
	PendingApproval Outcome = stPending
)

// SignUpInput is one sign-up request.
type SignUpInput struct {
	SlotID int
	// Seats is 1 or more, at most the slot's max_seats_per_signup.
	Seats int
	// IdempotencyKey makes retries safe: the same key with the same input
	// returns the first answer, with different input CONFLICT.
	IdempotencyKey string
	// ConsentSensitive is the explicit consent health activities require.
	ConsentSensitive bool
}

// SignUpResult is the outcome and the registration made.
type SignUpResult struct {
	Outcome      Outcome
	Registration *ent.Registration
}

// writeParams is what the write step of a sign-up needs: the request and
// the viewer, and (for the transaction) the slot's rules read beforehand.
type writeParams struct {
	slotID, personID, communityID, seats int
	volunteer, consent                   bool
	code, key                            string
	hash                                 []byte
	now                                  time.Time

	activityID                 int
	approval, waitlist, health bool
}

func (p *writeParams) use(i *slotInfo) {
	p.activityID, p.approval, p.waitlist, p.health = i.activityID, i.requiresApproval, i.waitlistEnabled, i.healthData()
}

func (p *writeParams) consentAt() *time.Time {
	if p.health {
		return &p.now
	}
	return nil
}

// writeResult is what the write step did. Without a registration, full
// says the slot was full and has no waitlist; otherwise the reason is found
// by checking the rules again (or the write raced and is run again).
type writeResult struct {
	registrationID, activityID int
	status                     string
	full                       bool
	// registration is the row made, when the write returned it whole.
	registration *ent.Registration
}

// SignUp signs the viewer up for a slot.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (*SignUpResult, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to sign up")
	}
	if v.PersonID == 0 || v.IsKiosk() {
		return nil, apperr.New(apperr.Forbidden, "only a person can sign up")
	}
	if len(in.IdempotencyKey) > 200 {
		return nil, apperr.Invalid("idempotencyKey", "idempotencyKey must be at most 200 bytes")
	}
	res, err := s.signUp(ctx, v, in)
	if _, refused := apperr.As(err); refused && in.IdempotencyKey != "" {
		// A retry of a sign-up that succeeded gets its answer even if the
		// slot has filled or closed since.
		return s.replay(ctx, v.PersonID, in, err)
	}
	return res, err
}

func (s *Service) signUp(ctx context.Context, v *viewer.Viewer, in SignUpInput) (*SignUpResult, error) {
	code, err := newCheckInCode()
	if err != nil {
		return nil, err
	}
	p := &writeParams{
		slotID: in.SlotID, personID: v.PersonID, communityID: v.CommunityID, seats: in.Seats,
		volunteer: v.Has(viewer.Volunteer), consent: in.ConsentSensitive,
		code: code, key: in.IdempotencyKey, hash: requestHash(in),
	}
	// The single statement checks the rules itself and they are read only
	// to explain a refusal; the transaction reads them first.
	write := s.write
	if write == nil && s.SingleStatement && !s.db.IsSQLite() {
		write = s.writeSingleStatement
	} else {
		if write == nil {
			write = s.writeTx
		}
		info, err := s.loadSlot(ctx, in.SlotID)
		if err != nil {
			return nil, err
		}
		if err := info.check(v, in, s.now()); err != nil {
			return nil, err
		}
		p.use(info)
	}
	for attempt := 1; ; attempt++ {
		p.now = s.now()
		res, err := write(ctx, p)
		if store.IsUniqueViolation(err) {
			// The same person in the same slot, or the same key again
			// (which replay answers).
			return nil, apperr.New(apperr.AlreadyRegistered, "you are already signed up for this slot")
		}
		if err != nil {
			return nil, err
		}
		if res.registrationID != 0 {
			s.publish([]events.Event{countsEvent(v.CommunityID, res.activityID)})
			s.maybePurgeKeys(ctx)
			if res.registration != nil {
				return &SignUpResult{Outcome: Outcome(res.status), Registration: res.registration}, nil
			}
			return s.result(ctx, Outcome(res.status), res.registrationID)
		}
		info, err := s.loadSlot(ctx, in.SlotID)
		if err != nil {
			return nil, err
		}
		if err := info.check(v, in, s.now()); err != nil {
			return nil, err
		}
		if res.full {
			return nil, apperr.New(apperr.CapacityFull, "this slot is full")
		}
		if attempt >= maxAttempts {
			return nil, fmt.Errorf("signup: slot %d: no decision after %d attempts", in.SlotID, attempt)
		}
		p.use(info)
	}
}

// writeSingleStatement is the sign-up as one PostgreSQL statement.
func (s *Service) writeSingleStatement(ctx context.Context, p *writeParams) (writeResult, error) {
	var activityID sql.NullInt64
	var full sql.NullBool
	var res writeResult
	row, err := s.client.Registration.Row()
	if err != nil {
		return res, err
	}
	err = s.db.SQL.QueryRowContext(ctx, signUpCTE,
		p.slotID, p.now, p.seats, p.communityID, p.volunteer, p.consent, p.code, p.personID, p.key, p.hash,
	).Scan(append([]any{&activityID, &full}, row.Dest()...)...)
	if err != nil {
		return res, err
	}
	res.activityID, res.full = int(activityID.Int64), full.Valid && full.Bool
	if res.registration, err = row.Registration(); err != nil || res.registration == nil {
		return res, err
	}
	res.registrationID, res.status = res.registration.ID, string(res.registration.Status)
	return res, nil
}

// writeTx is the sign-up as a transaction: the same steps as signUpCTE, one
// statement each, under the activity lock.
func (s *Service) writeTx(ctx context.Context, p *writeParams) (writeResult, error) {
	var res writeResult
	err := s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		var err error
		if res, err = s.writeInTx(ctx, tx, p); err == nil && res.registrationID == 0 {
			return nil, errNothing
		}
		return nil, err
	})
	if errors.Is(err, errNothing) {
		return res, nil
	}
	return res, err
}

func (s *Service) writeInTx(ctx context.Context, tx store.Querier, p *writeParams) (writeResult, error) {
	res := writeResult{activityID: p.activityID}
	var version int64
	ok, err := store.QueryRow(ctx, tx, s.db.Rebind(lockOpenActivity), []any{p.activityID, p.now, p.now}, &version)
	if err != nil || !ok {
		return res, err
	}
	status := stPending
	switch {
	case p.approval:
		if _, err := tx.ExecContext(ctx, s.db.Rebind(addPending), p.seats, p.now, p.slotID); err != nil {
			return res, err
		}
	default:
		r, err := tx.ExecContext(ctx, s.db.Rebind(takeSeats), p.seats, p.now, p.slotID, p.seats)
		if err != nil {
			return res, err
		}
		if n, _ := r.RowsAffected(); n == 1 {
			status = stConfirmed
			break
		}
		if !p.waitlist {
			res.full = true
			return res, nil
		}
		status = stWaitlisted
		if _, err := tx.ExecContext(ctx, s.db.Rebind(joinWaitlist), p.seats, p.now, p.slotID); err != nil {
			return res, err
		}
	}
	var id int
	if _, err := store.QueryRow(ctx, tx, s.db.Rebind(insertRegistration), []any{
		p.now, p.now, p.activityID, status, p.seats, version, p.consentAt(), p.code, p.personID, p.communityID, p.slotID,
	}, &id); err != nil {
		return res, err
	}
	if p.key != "" {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(insertKey),
			p.personID, p.key, opSignUp, p.hash, storedAnswer(status, id), p.now); err != nil {
			return res, err
		}
	}
	res.registrationID, res.status = id, status
	return res, nil
}

// errNothing rolls back a transaction that decided to write nothing.
var errNothing = errors.New("signup: nothing to write")
