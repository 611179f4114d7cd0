package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/registration"
	"linli/ledger"
	"linli/linlitest"
	"linli/viewer"
)

// asPerson is the context of a resident signed in as p.
func asPerson(p *ent.Person) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID, Roles: []viewer.Role{viewer.Resident}})
}

func codeOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return string(e.Code)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// Many people signing up at once for one slot are committed in far fewer
// transactions than requests, and the batches keep everything the storm
// checks: exactly the capacity confirmed, the line 1..N, the counters equal
// to the rows, and the line kept in arrival order.
func TestSignUpsCommitInBatches(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		const people, capacity = 300, 40
		c := e.Community(t, "前进社区")
		_, tokens := e.People(t, c.ID, people, "居民")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: capacity}}})
		before := service(e).Stats()
		answers := storm(t, e, linlitest.ConcurrentClient(people), tokens, slots[0].ID)
		after := service(e).Stats()
		if bad := checkStorm(t, e, staff, a, slots[0], answers); len(bad) > 0 {
			t.Fatalf("%d problems, first ones: %v", len(bad), bad[:min(len(bad), 5)])
		}
		batches, ops := after.Batches-before.Batches, after.Ops-before.Ops
		if ops != people {
			t.Fatalf("%d ops committed for %d sign-ups", ops, people)
		}
		if batches >= people || after.MaxBatch < 2 {
			t.Fatalf("%d sign-ups took %d transactions (largest batch %d): not batched", people, batches, after.MaxBatch)
		}
		if after.MaxBatch > ledger.MaxBatch {
			t.Fatalf("a batch of %d, above the bound %d", after.MaxBatch, ledger.MaxBatch)
		}
		t.Logf("%d sign-ups in %d transactions (largest %d)", people, batches, after.MaxBatch)
	}, patient)
}

// Inside one batch: a retry with the same key gets the first answer, the
// same key with other input is a CONFLICT, the same person again without a
// key is ALREADY_REGISTERED, and nobody else is hurt by any of it.
func TestBatchIdempotencyAndDuplicates(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		people, _ := e.People(t, c.ID, 4, "居民")
		alice, bob, carol, dan := asPerson(people[0]), asPerson(people[1]), asPerson(people[2]), asPerson(people[3])
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 3, MaxSeats: 2}}})
		s := slots[0].ID
		key := ledger.SignUpInput{SlotID: s, Seats: 1, IdempotencyKey: "k-1"}
		other := ledger.SignUpInput{SlotID: s, Seats: 2, IdempotencyKey: "k-1"}
		plain := ledger.SignUpInput{SlotID: s, Seats: 1}
		before := service(e).Stats()
		res, errs := service(e).SignUpTogether(
			[]context.Context{alice, bob, alice, alice, bob, carol, dan},
			[]ledger.SignUpInput{key, plain, key, other, plain, plain, plain})
		want := []string{"CONFIRMED", "CONFIRMED", "CONFIRMED", "CONFLICT", "ALREADY_REGISTERED", "CONFIRMED", "WAITLISTED"}
		for i, w := range want {
			got := codeOf(errs[i])
			if errs[i] == nil {
				got = string(res[i].Outcome)
			}
			if got != w {
				t.Errorf("request %d: %s, want %s", i, got, w)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		if res[0].Registration.ID != res[2].Registration.ID {
			t.Fatalf("the retry got registration %d, the first %d", res[2].Registration.ID, res[0].Registration.ID)
		}
		if after := service(e).Stats(); after.Batches-before.Batches != 1 || after.Fallbacks != before.Fallbacks {
			t.Fatalf("stats %+v → %+v: want one batch and no fallback", before, after)
		}
		st := readSlot(t, e, s)
		if bad := st.consistent(); len(bad) > 0 || st.confirmedRows != 3 || st.waitlistedRows != 1 || st.rows != 4 {
			t.Fatalf("slot %+v %v", st, bad)
		}
		// The key still answers in a later batch, and still refuses other input.
		res, errs = service(e).SignUpTogether([]context.Context{alice, alice}, []ledger.SignUpInput{key, other})
		if errs[0] != nil || res[0].Registration.ID != res[2-2].Registration.ID || codeOf(errs[1]) != "CONFLICT" {
			t.Fatalf("replay in a later batch: %v %v", errs, res)
		}
	})
}

// A batch that fails as a whole (here a unique violation the batch could
// not see coming: the person registered before it, which only the insert
// finds) runs its requests one at a time, so only the bad one fails.
func TestBatchFallsBackOneByOne(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		people, _ := e.People(t, c.ID, 3, "居民")
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 10}}})
		in := ledger.SignUpInput{SlotID: slots[0].ID, Seats: 1}
		if _, err := service(e).SignUp(asPerson(people[0]), in); err != nil {
			t.Fatal(err)
		}
		before := service(e).Stats()
		res, errs := service(e).SignUpTogether(
			[]context.Context{asPerson(people[1]), asPerson(people[0]), asPerson(people[2])},
			[]ledger.SignUpInput{in, in, in})
		if errs[0] != nil || errs[2] != nil || codeOf(errs[1]) != "ALREADY_REGISTERED" {
			t.Fatalf("answers %v", errs)
		}
		if res[0].Outcome != ledger.Confirmed || res[2].Outcome != ledger.Confirmed {
			t.Fatalf("outcomes %s %s", res[0].Outcome, res[2].Outcome)
		}
		if after := service(e).Stats(); after.Fallbacks != before.Fallbacks+1 {
			t.Fatalf("fallbacks %d → %d", before.Fallbacks, after.Fallbacks)
		}
		if st := readSlot(t, e, slots[0].ID); st.taken != 3 || st.rows != 3 || len(st.consistent()) > 0 {
			t.Fatalf("slot %+v", st)
		}
	})
}

// At idle a sign-up runs alone at once: each of a run of sequential
// sign-ups is one transaction of one op, and none waits for company (the
// median answers well inside what any collecting window would add).
func TestIdleSignUpRunsAlone(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		const n = 20
		c := e.Community(t, "前进社区")
		_, tokens := e.People(t, c.ID, n, "居民")
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: n}}})
		took := make([]time.Duration, n)
		for i, tok := range tokens {
			before := service(e).Stats()
			start := time.Now()
			if a := signUp(t, e, tok, slots[0].ID, nil); a.Outcome != "CONFIRMED" {
				t.Fatalf("sign-up %d: %+v", i, a)
			}
			took[i] = time.Since(start)
			after := service(e).Stats()
			if after.Batches-before.Batches != 1 || after.Ops-before.Ops != 1 {
				t.Fatalf("sign-up %d alone: %d batches, %d ops", i, after.Batches-before.Batches, after.Ops-before.Ops)
			}
		}
		slices.Sort(took)
		if p50 := took[n/2]; p50 > 250*time.Millisecond {
			t.Fatalf("median idle sign-up took %v", p50)
		}
	})
}

// Leadership is handed on: while one activity's batches keep coming, every
// caller gets its answer (none serves others forever), and sign-ups for
// other activities are not held up behind them.
func TestBatchesServeEveryCaller(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		const people = 120
		c := e.Community(t, "前进社区")
		ppl, _ := e.People(t, c.ID, people, "居民")
		_, hot := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "热门", Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: people}}})
		_, cold := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "冷门", Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: people}}})
		var wg sync.WaitGroup
		errs := make([]error, people)
		for i, p := range ppl {
			wg.Go(func() {
				slot := hot[0].ID
				if i%10 == 0 {
					slot = cold[0].ID
				}
				_, errs[i] = service(e).SignUp(asPerson(p), ledger.SignUpInput{SlotID: slot, Seats: 1})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("sign-up %d: %v", i, err)
			}
		}
		for _, s := range []int{hot[0].ID, cold[0].ID} {
			if st := readSlot(t, e, s); len(st.consistent()) > 0 || st.rows != st.confirmedRows {
				t.Fatalf("slot %d: %+v", s, st)
			}
		}
		n, err := e.Client.Registration.Query().Where(registration.StatusEQ(registration.StatusCONFIRMED)).Count(e.Sys())
		if err != nil || n != people {
			t.Fatal(fmt.Sprint(n, err))
		}
	})
}

// Sign-ups for different activities that arrive together share one
// transaction, and each activity's rules and counters stay its own: a full
// slot without a waitlist refuses in one activity while the other takes
// everyone, and each activity's counts are announced.
func TestOneBatchAcrossActivities(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		people, _ := e.People(t, c.ID, 3, "居民")
		rec := record(e)
		a1, s1 := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "讲座", Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 1, NoWaitlist: true}}})
		a2, s2 := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊", Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 5}}})
		ctxs := []context.Context{asPerson(people[0]), asPerson(people[1]), asPerson(people[1]), asPerson(people[2])}
		ins := []ledger.SignUpInput{{SlotID: s1[0].ID, Seats: 1}, {SlotID: s1[0].ID, Seats: 1}, {SlotID: s2[0].ID, Seats: 1}, {SlotID: s2[0].ID, Seats: 1}}
		before := service(e).Stats()
		_, errs := service(e).SignUpTogether(ctxs, ins)
		if errs[0] != nil || codeOf(errs[1]) != "CAPACITY_FULL" || errs[2] != nil || errs[3] != nil {
			t.Fatalf("answers %v", errs)
		}
		if after := service(e).Stats(); after.Batches-before.Batches != 1 {
			t.Fatalf("%d transactions for one batch", after.Batches-before.Batches)
		}
		for _, s := range []struct{ id, taken int }{{s1[0].ID, 1}, {s2[0].ID, 2}} {
			if st := readSlot(t, e, s.id); st.taken != s.taken || len(st.consistent()) > 0 {
				t.Fatalf("slot %d: %+v %v", s.id, st, st.consistent())
			}
		}
		if rec.counts(a1.ID) != 1 || rec.counts(a2.ID) != 1 {
			t.Fatalf("counts events: %d for the first activity, %d for the second", rec.counts(a1.ID), rec.counts(a2.ID))
		}
	})
}
