package ledger_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"linli/ent"
	"linli/ent/registration"
	"linli/linlitest"
	"linli/viewer"
)

// Sign-ups and cancellations at the same time: every third person cancels
// right after signing up while the others keep arriving. Afterwards the
// counters equal the rows, nobody waits while a seat is free, the waitlist is
// 1..N, and the line was kept: every confirmed registration came before
// every waiting one.
func TestInterleavedCancellations(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		const people, capacity = 150, 20
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, tokens := e.People(t, c.ID, people, "居民")
		act, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: capacity}}})
		seat := slots[0].ID
		client := linlitest.ConcurrentClient(people)
		url := e.Server.URL + "/graphql"

		errs := make(chan error, people)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, tok := range tokens {
			wg.Go(func() {
				<-start
				res, err := post(client, url, tok, signUpQuery, input(seat, nil))
				if err == nil && len(res.Errors) > 0 {
					err = fmt.Errorf("sign-up: %s %s", res.Code(), res.Errors[0].Message)
				}
				if err != nil || i%3 != 0 {
					errs <- err
					return
				}
				var out struct{ SignUp signUpAnswer }
				if err := json.Unmarshal(res.Data, &out); err != nil {
					errs <- err
					return
				}
				res, err = post(client, url, tok, cancelQuery, map[string]any{"id": linlitest.ID(int(out.SignUp.Registration.ID))})
				if err == nil && len(res.Errors) > 0 {
					err = fmt.Errorf("cancel: %s %s", res.Code(), res.Errors[0].Message)
				}
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}

		st := readSlot(t, e, seat)
		if bad := st.consistent(); len(bad) > 0 {
			t.Fatalf("counters disagree with rows: %v", bad)
		}
		active := people - people/3
		if st.confirmedRows != capacity || st.waitlistedRows != active-capacity || st.taken != capacity {
			t.Fatalf("%d confirmed, %d waiting, taken %d; want %d, %d, %d",
				st.confirmedRows, st.waitlistedRows, st.taken, capacity, active-capacity, capacity)
		}
		if bad := gaps("waitlist", listedPositions(t, e, staff, act.ID, seat), active-capacity); len(bad) > 0 {
			t.Fatal(bad)
		}
		regs, err := e.Client.Registration.Query().Where(registration.SlotID(seat),
			registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED)).All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		// Queue order: queue_seq, then id within one batch.
		slices.SortFunc(regs, func(a, b *ent.Registration) int {
			if a.QueueSeq != b.QueueSeq {
				return cmp.Compare(a.QueueSeq, b.QueueSeq)
			}
			return cmp.Compare(a.ID, b.ID)
		})
		for i, r := range regs {
			if want := i < capacity; (r.Status == registration.StatusCONFIRMED) != want {
				t.Fatalf("line broken: registration %d in queue order is %s", i+1, r.Status)
			}
		}
	}, patient)
}
