package ledger_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/ent"
	"linli/linlitest"
	"linli/viewer"
)

const (
	stormPeople   = 1000
	stormCapacity = 100
)

// stormRounds is how often the storm runs on each backend: PostgreSQL is
// where real parallelism can oversell, so it gets the repetitions (SQLite
// has one writer, and under the race detector its pure-Go engine is slow).
var stormRounds = map[string]int{"sqlite": 3, "postgres": 20}

// 1,000 people sign up at the same moment for a 100-seat slot: exactly 100
// are confirmed, 900 wait at positions 1..900, and the counters equal the
// rows. Repeated (twenty times on PostgreSQL, which keeps the suite near two
// minutes on two cores), because a race that loses once in ten runs is still a
// race.
func TestSignUpStorm(t *testing.T) {
	linlitest.Slow(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tokens := e.People(t, c.ID, stormPeople, "居民")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		client := linlitest.ConcurrentClient(stormPeople)
		for round := range stormRounds[e.Backend] {
			a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: fmt.Sprintf("义诊 %d", round),
				Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: stormCapacity}}})
			answers := storm(t, e, client, tokens, slots[0].ID)
			if bad := checkStorm(t, e, staff, a, slots[0], answers); len(bad) > 0 {
				t.Fatalf("round %d: %d problems, first ones: %v", round, len(bad), bad[:min(len(bad), 5)])
			}
		}
	}, patient)
}

// patient lets requests wait as long as a storm under the race detector
// needs: the test is about who gets a seat, not how fast.
func patient(c *app.Config) { c.RequestTimeout = 3 * time.Minute }

// The negative control: with the guard replaced by read-then-write, the same
// storm and the same checks must find an oversell. Otherwise the storm test
// could pass without testing anything.
func TestSignUpStormCatchesOversell(t *testing.T) {
	linlitest.Slow(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tokens := e.People(t, c.ID, stormPeople, "居民")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		service(e).RemoveCapacityGuard()
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: stormCapacity}}})
		answers := storm(t, e, linlitest.ConcurrentClient(stormPeople), tokens, slots[0].ID)
		bad := checkStorm(t, e, staff, a, slots[0], answers)
		if len(bad) == 0 {
			t.Fatal("the storm checks did not notice a sign-up without its capacity guard")
		}
		t.Logf("without the guard the checks found %d problems, e.g. %v", len(bad), bad[:min(len(bad), 3)])
	}, patient)
}

// storm sends one sign-up per token, all released at the same moment, and
// returns the answers (errors fail the test).
func storm(t *testing.T, e *linlitest.Env, client *http.Client, tokens []string, slotID int) []signUpAnswer {
	t.Helper()
	answers := make([]signUpAnswer, len(tokens))
	errs := make([]error, len(tokens))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() {
			<-start
			res, err := post(client, e.Server.URL+"/graphql", tok, signUpQuery, input(slotID, nil))
			if err == nil && len(res.Errors) > 0 {
				err = fmt.Errorf("%s: %s", res.Code(), res.Errors[0].Message)
			}
			if err == nil {
				var out struct{ SignUp signUpAnswer }
				err = json.Unmarshal(res.Data, &out)
				answers[i] = out.SignUp
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	return answers
}

// checkStorm lists every way the storm's result breaks the invariants:
// the answers, the counters, the rows and the waitlist as staff read it.
func checkStorm(t *testing.T, e *linlitest.Env, staff string, a *ent.Activity, sl *ent.Slot, answers []signUpAnswer) []string {
	t.Helper()
	var bad []string
	confirmed, positions := 0, []int{}
	for _, ans := range answers {
		switch {
		case ans.Outcome == "CONFIRMED" && ans.Registration.WaitlistPosition == nil:
			confirmed++
		case ans.Outcome == "WAITLISTED" && ans.Registration.WaitlistPosition != nil:
			positions = append(positions, *ans.Registration.WaitlistPosition)
		default:
			bad = append(bad, fmt.Sprintf("unexpected answer %+v", ans))
		}
	}
	if confirmed != sl.Capacity {
		bad = append(bad, fmt.Sprintf("%d answers CONFIRMED for %d seats", confirmed, sl.Capacity))
	}
	bad = append(bad, gaps("answered positions", positions, len(answers)-sl.Capacity)...)

	st := readSlot(t, e, sl.ID)
	bad = append(bad, st.consistent()...)
	if st.confirmedRows != sl.Capacity || st.waitlistedRows != len(answers)-sl.Capacity {
		bad = append(bad, fmt.Sprintf("rows: %d confirmed, %d waiting", st.confirmedRows, st.waitlistedRows))
	}
	if st.taken != sl.Capacity {
		bad = append(bad, fmt.Sprintf("taken %d, want %d", st.taken, sl.Capacity))
	}
	bad = append(bad, gaps("listed positions", listedPositions(t, e, staff, a.ID, sl.ID), len(answers)-sl.Capacity)...)
	return bad
}

// gaps reports unless got is exactly 1..n in some order.
func gaps(what string, got []int, n int) []string {
	s := slices.Sorted(slices.Values(got))
	for i, p := range s {
		if p != i+1 {
			return []string{fmt.Sprintf("%s: %d positions, the %dth is %d (want 1..%d)", what, len(s), i+1, p, n)}
		}
	}
	if len(s) != n {
		return []string{fmt.Sprintf("%s: %d positions, want 1..%d", what, len(s), n)}
	}
	return nil
}

const listQuery = `query($a: ID!, $after: Cursor, $f: ActivityRegistrationsFilter) {
  activityRegistrations(activityID: $a, first: 100, after: $after, filter: $f) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id status waitlistPosition person { displayName } } }
  }
}`

type listPage struct {
	ActivityRegistrations struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Node struct {
				reg
				Person struct{ DisplayName string }
			}
		}
	}
}

// listedPositions reads a slot's waitlist as staff, page by page.
func listedPositions(t *testing.T, e *linlitest.Env, staff string, activityID, slotID int) []int {
	t.Helper()
	var out []int
	vars := map[string]any{"a": linlitest.ID(activityID), "f": map[string]any{"slotID": linlitest.ID(slotID), "status": []string{"WAITLISTED"}}}
	for {
		var page listPage
		e.Do(t, staff, listQuery, vars).Decode(t, &page)
		for _, edge := range page.ActivityRegistrations.Edges {
			if p := edge.Node.WaitlistPosition; p != nil {
				out = append(out, *p)
			}
		}
		if !page.ActivityRegistrations.PageInfo.HasNextPage {
			return out
		}
		vars["after"] = *page.ActivityRegistrations.PageInfo.EndCursor
	}
}
