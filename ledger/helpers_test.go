package ledger_test

import (
	"fmt"
	"sync"
	"testing"

	"linli/ent/registration"
	"linli/events"
	"linli/ledger"
	"linli/linlitest"
)

const signUpQuery = `mutation($in: SignUpInput!) {
  signUp(input: $in) { outcome registration { id status seats waitlistPosition checkInCode consentSensitiveAt } }
}`

const cancelQuery = `mutation($id: ID!, $reason: String) {
  cancelRegistration(input: {registrationID: $id, reason: $reason}) { id status waitlistPosition cancelReason }
}`

const registrationQuery = `query($id: ID!) {
  node(id: $id) { ... on Registration { id status seats waitlistPosition checkInCode } }
}`

type reg struct {
	ID                 linlitest.RowID `json:"id"`
	Status             string          `json:"status"`
	Seats              int             `json:"seats"`
	WaitlistPosition   *int            `json:"waitlistPosition"`
	CheckInCode        *string         `json:"checkInCode"`
	ConsentSensitiveAt *string         `json:"consentSensitiveAt"`
	CancelReason       *string         `json:"cancelReason"`
}

type signUpAnswer struct {
	Outcome      string `json:"outcome"`
	Registration reg    `json:"registration"`
}

func input(slotID int, extra map[string]any) map[string]any {
	in := map[string]any{"slotID": linlitest.ID(slotID)}
	for k, v := range extra {
		in[k] = v
	}
	return map[string]any{"in": in}
}

// signUp signs the token's person up and fails the test on any error.
func signUp(t *testing.T, e *linlitest.Env, token string, slotID int, extra map[string]any) signUpAnswer {
	t.Helper()
	var out struct{ SignUp signUpAnswer }
	e.Do(t, token, signUpQuery, input(slotID, extra)).Decode(t, &out)
	return out.SignUp
}

// refuse expects a sign-up to fail with code.
func refuse(t *testing.T, e *linlitest.Env, token string, slotID int, extra map[string]any, code string) {
	t.Helper()
	e.Do(t, token, signUpQuery, input(slotID, extra)).WantCode(t, code)
}

func registrationOf(t *testing.T, e *linlitest.Env, token string, id int) reg {
	t.Helper()
	var out struct{ Node reg }
	e.Do(t, token, registrationQuery, map[string]any{"id": linlitest.ID(id)}).Decode(t, &out)
	return out.Node
}

func cancel(t *testing.T, e *linlitest.Env, token string, id int) reg {
	t.Helper()
	var out struct{ CancelRegistration reg }
	e.Do(t, token, cancelQuery, map[string]any{"id": linlitest.ID(id)}).Decode(t, &out)
	return out.CancelRegistration
}

// post is linlitest.Post for goroutines: it returns errors instead of
// failing the test.
var post = linlitest.Send

// slotState is a slot's counters next to what its registrations add up to.
type slotState struct {
	capacity, taken, waitlisted, pending             int
	confirmedSeats, waitlistedSeats, pendingSeats    int
	confirmedRows, waitlistedRows, pendingRows, rows int
}

func readSlot(t *testing.T, e *linlitest.Env, slotID int) slotState {
	t.Helper()
	ctx := e.Sys()
	sl, err := e.Client.Slot.Get(ctx, slotID)
	if err != nil {
		t.Fatal(err)
	}
	regs, err := e.Client.Registration.Query().Where(registration.SlotID(slotID)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := slotState{capacity: sl.Capacity, taken: sl.Taken, waitlisted: sl.Waitlisted, pending: sl.Pending, rows: len(regs)}
	for _, r := range regs {
		switch r.Status {
		case registration.StatusCONFIRMED, registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT:
			st.confirmedRows++
			st.confirmedSeats += r.Seats
		case registration.StatusWAITLISTED:
			st.waitlistedRows++
			st.waitlistedSeats += r.Seats
		case registration.StatusPENDING_APPROVAL:
			st.pendingRows++
			st.pendingSeats += r.Seats
		}
	}
	return st
}

// consistent lists how the slot's counters disagree with its rows.
func (st slotState) consistent() []string {
	var bad []string
	if st.taken != st.confirmedSeats {
		bad = append(bad, fmt.Sprintf("taken %d but confirmed rows hold %d seats", st.taken, st.confirmedSeats))
	}
	if st.waitlisted != st.waitlistedSeats {
		bad = append(bad, fmt.Sprintf("waitlisted %d but waiting rows hold %d seats", st.waitlisted, st.waitlistedSeats))
	}
	if st.pending != st.pendingSeats {
		bad = append(bad, fmt.Sprintf("pending %d but pending rows hold %d seats", st.pending, st.pendingSeats))
	}
	if st.confirmedSeats > st.capacity {
		bad = append(bad, fmt.Sprintf("oversold: %d seats confirmed for capacity %d", st.confirmedSeats, st.capacity))
	}
	return bad
}

// recorder is a Publisher that keeps what it was given.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *recorder) Publish(evs ...events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
}

// changes returns the registration changes announced to personID.
func (r *recorder) changes(personID int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.evs {
		if ev.Kind == events.Registration && ev.PersonID == personID {
			out = append(out, ev.Change)
		}
	}
	return out
}

func (r *recorder) counts(activityID int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.evs {
		if ev.Kind == events.Counts && ev.ActivityID == activityID {
			n++
		}
	}
	return n
}

func record(e *linlitest.Env) *recorder {
	rec := &recorder{}
	service(e).SetPublisher(rec)
	return rec
}

func service(e *linlitest.Env) *ledger.Ledger { return e.App.Resolver.Ledger }
