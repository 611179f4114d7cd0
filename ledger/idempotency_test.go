package ledger_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"linli/ent/registration"
	"linli/linlitest"
)

// A phone on bad signal retries: ten identical requests with one key, all at
// once, make one registration and get ten identical answers. The same key
// with different input is a CONFLICT, and the key still answers after the
// registration was cancelled.
func TestSignUpIdempotentRetries(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, tok := e.Person(t, c.ID, "Alice")
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "A", Capacity: 10, MaxSeats: 3}, {Name: "B", Capacity: 10},
		}})
		slotA := slots[0].ID
		key := map[string]any{"idempotencyKey": "9b2c6f0e-retry", "seats": 2}

		const retries = 10
		client := linlitest.ConcurrentClient(retries)
		bodies := make([][]byte, retries)
		errs := make([]error, retries)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range retries {
			wg.Go(func() {
				<-start
				res, err := post(client, e.Server.URL+"/graphql", tok, signUpQuery, input(slotA, key))
				if err == nil && len(res.Errors) > 0 {
					err = &codeError{res.Code()}
				}
				if err == nil {
					bodies[i] = res.Data
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i := range retries {
			if errs[i] != nil {
				t.Fatalf("retry %d: %v", i, errs[i])
			}
			if !bytes.Equal(bodies[i], bodies[0]) {
				t.Fatalf("retry %d answered differently:\n%s\n%s", i, bodies[i], bodies[0])
			}
		}
		n, err := e.Client.Registration.Query().Where(registration.PersonID(p.ID)).Count(e.Sys())
		if err != nil || n != 1 {
			t.Fatalf("%d registrations (%v), want 1", n, err)
		}
		if st := readSlot(t, e, slotA); st.taken != 2 || len(st.consistent()) > 0 {
			t.Fatalf("slot after retries: %+v %v", st, st.consistent())
		}
		first := signUp(t, e, tok, slotA, key)

		// The same key for something else is refused, and changes nothing.
		for _, other := range []map[string]any{
			{"idempotencyKey": key["idempotencyKey"], "seats": 1},
			{"idempotencyKey": key["idempotencyKey"], "seats": 2, "consentSensitive": true},
		} {
			res := e.Do(t, tok, signUpQuery, input(slotA, other))
			res.WantCode(t, "CONFLICT")
		}
		e.Do(t, tok, signUpQuery, input(slots[1].ID, map[string]any{"idempotencyKey": key["idempotencyKey"]})).WantCode(t, "CONFLICT")

		// Without a key the second sign-up is simply refused.
		refuse(t, e, tok, slotA, nil, "ALREADY_REGISTERED")

		// After a cancellation a late retry still gets the stored answer and
		// does not sign up again.
		cancel(t, e, tok, int(first.Registration.ID))
		late := signUp(t, e, tok, slotA, key)
		if late.Registration.ID != first.Registration.ID || late.Outcome != first.Outcome || late.Registration.Status != "CANCELLED" {
			t.Fatalf("late retry: %+v, first %+v", late, first)
		}
		if n, _ := e.Client.Registration.Query().Where(registration.PersonID(p.ID)).Count(e.Sys()); n != 1 {
			t.Fatalf("late retry signed up again: %d registrations", n)
		}
		// The answer stands even after sign-up closed.
		if err := e.Client.Activity.UpdateOneID(slots[0].ActivityID).
			SetSignupClosesAt(time.Now().UTC().Add(-time.Minute)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		if late := signUp(t, e, tok, slotA, key); late.Registration.ID != first.Registration.ID {
			t.Fatalf("retry after closing: %+v", late)
		}
		refuse(t, e, tok, slotA, map[string]any{"idempotencyKey": "another"}, "SIGNUP_CLOSED")
		e.Do(t, tok, signUpQuery, input(slotA, map[string]any{"idempotencyKey": key["idempotencyKey"]})).WantCode(t, "CONFLICT")
	})
}

// A new key is a new sign-up; a refused sign-up is not remembered, so its
// retry succeeds once the reason is gone.
func TestSignUpKeysAfterRefusal(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "Alice")
		_, other := e.Person(t, c.ID, "Bob")
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "A", Capacity: 1, NoWaitlist: true}}})
		slotA := slots[0].ID
		key := map[string]any{"idempotencyKey": "k1"}
		bob := signUp(t, e, other, slotA, nil)
		refuse(t, e, tok, slotA, key, "CAPACITY_FULL")
		cancel(t, e, other, int(bob.Registration.ID))
		first := signUp(t, e, tok, slotA, key)
		if first.Outcome != "CONFIRMED" {
			t.Fatalf("retry after a seat freed: %+v", first)
		}
		cancel(t, e, tok, int(first.Registration.ID))
		if again := signUp(t, e, tok, slotA, map[string]any{"idempotencyKey": "k2"}); again.Registration.ID == first.Registration.ID {
			t.Fatalf("new key reused the old registration: %+v", again)
		}
	})
}

type codeError struct{ code string }

func (e *codeError) Error() string { return "GraphQL error " + e.code }
