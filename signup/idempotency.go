package signup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"linli/apperr"
	"linli/store"
)

const opSignUp = "signUp"

// Keys live at least this long (the promise is 24 hours).
const keyRetention = 48 * time.Hour

// requestHash identifies a sign-up's input, so a key reused with different
// input is recognised.
func requestHash(in SignUpInput) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%t", opSignUp, in.SlotID, in.Seats, in.ConsentSensitive))
	return h[:]
}

// storedAnswer is what a key remembers: the outcome and the registration.
// The single-statement sign-up writes the same text in SQL.
func storedAnswer(status string, registrationID int) []byte {
	return []byte(status + " " + strconv.Itoa(registrationID))
}

func parseAnswer(b []byte) (Outcome, int, error) {
	status, id, ok := strings.Cut(string(b), " ")
	n, err := strconv.Atoi(id)
	if !ok || err != nil {
		return "", 0, fmt.Errorf("signup: bad stored answer %q", b)
	}
	return Outcome(status), n, nil
}

// replay answers a refused sign-up that carried a key: if the key already
// has an answer, the same input gets that answer and different input
// CONFLICT; otherwise the refusal stands. Refusals are not remembered: they
// changed nothing, and a retry may succeed.
func (s *Service) replay(ctx context.Context, personID int, in SignUpInput, refusal error) (*SignUpResult, error) {
	var hash, answer []byte
	ok, err := store.QueryRow(ctx, s.db.SQL, s.db.Rebind(selectKey), []any{personID, in.IdempotencyKey, opSignUp}, &hash, &answer)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refusal
	}
	if !bytes.Equal(hash, requestHash(in)) {
		return nil, &apperr.Error{Code: apperr.Conflict, Field: "idempotencyKey",
			Message: "this idempotency key was used for a different sign-up"}
	}
	outcome, id, err := parseAnswer(answer)
	if err != nil {
		return nil, err
	}
	return s.result(ctx, outcome, id)
}

// result returns an outcome with its registration, read through Ent as the
// viewer.
func (s *Service) result(ctx context.Context, outcome Outcome, registrationID int) (*SignUpResult, error) {
	r, err := s.client.Registration.Get(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	return &SignUpResult{Outcome: outcome, Registration: r}, nil
}

// maybePurgeKeys deletes expired idempotency keys, at most every ten minutes
// per process, on the back of a sign-up.
func (s *Service) maybePurgeKeys(ctx context.Context) {
	now := s.now()
	last := s.lastPurge.Load()
	if now.UnixNano()-last < int64(10*time.Minute) || !s.lastPurge.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	// A failed purge is retried by a later sign-up; it never fails this one.
	_, _ = s.db.SQL.ExecContext(ctx, s.db.Rebind(purgeKeys), now.Add(-keyRetention))
}
