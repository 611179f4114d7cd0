package ledger_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"linli/ent/activity"
	"linli/ledger"
	"linli/linlitest"
)

// windowCase is an activity's sign-up window relative to now.
type windowCase struct {
	name          string
	status        activity.Status
	opens, closes *time.Duration
	starts        time.Duration
	open          bool
	refusal       string
}

func ago(d time.Duration) *time.Duration { d = -d; return &d }
func in(d time.Duration) *time.Duration  { return &d }

// windowCases sit on both sides of each boundary of the window, with margin
// m: the opening, the explicit close, the start standing in for a missing
// close, an explicit close after the start, and the status.
func windowCases(m time.Duration) []windowCase {
	return []windowCase{
		{name: "opens just ahead", opens: in(m), starts: 48 * time.Hour, refusal: "SIGNUP_NOT_OPEN"},
		{name: "opened just now", opens: ago(m), starts: 48 * time.Hour, open: true},
		{name: "closes just ahead", closes: in(m), starts: 48 * time.Hour, open: true},
		{name: "closed just now", closes: ago(m), starts: 48 * time.Hour, refusal: "SIGNUP_CLOSED"},
		{name: "starts just ahead, no close", starts: m, open: true},
		{name: "started just now, no close", starts: -m, refusal: "SIGNUP_CLOSED"},
		{name: "started, closes after the start", starts: -m, closes: in(m), open: true},
		{name: "started, closed after the start", starts: -2 * m, closes: ago(m), refusal: "SIGNUP_CLOSED"},
		{name: "cancelled", status: activity.StatusCANCELLED, starts: 48 * time.Hour, refusal: "ACTIVITY_CANCELLED"},
		{name: "completed", status: activity.StatusCOMPLETED, starts: 48 * time.Hour, refusal: "SIGNUP_CLOSED"},
	}
}

// The rule's two forms agree at the exact boundaries: the Go function and
// the Ent predicate the listing filter uses, on the same activities at the
// same instant, one microsecond on either side of each boundary.
func TestOpenForSignupAgrees(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		at := time.Now().UTC().Truncate(time.Second)
		ids := map[int]windowCase{}
		for _, m := range []time.Duration{time.Microsecond, time.Hour} {
			for _, wc := range windowCases(m) {
				a := windowActivity(t, e, c.ID, at, wc)
				wc.name = fmt.Sprintf("%s (±%v)", wc.name, m)
				ids[a] = wc
			}
		}
		all, err := e.Client.Activity.Query().All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		listed, err := e.Client.Activity.Query().Where(ledger.OpenForSignupWhere(at)).IDs(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			wc := ids[a.ID]
			goRule, entRule := ledger.OpenForSignup(a, at), slices.Contains(listed, a.ID)
			if goRule != wc.open || entRule != wc.open {
				t.Errorf("%s: Go rule %v, Ent predicate %v, want %v", wc.name, goRule, entRule, wc.open)
			}
			if err := ledger.WindowError(a, at); (err == nil) != wc.open {
				t.Errorf("%s: WindowError %v, want open=%v", wc.name, err, wc.open)
			}
		}
	})
}

// Through the API: an activity is listed by where:{openForSignup:true}
// exactly when signUp accepts it, on both sides of every boundary (a
// margin of a minute, as the two requests do not share an instant), an
// explicit close after the start included.
func TestListingAgreesWithSignUp(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, alice := e.Person(t, c.ID, "Alice")
		at := time.Now().UTC()
		slotOf := map[string]int{}
		for _, wc := range windowCases(time.Minute) {
			slotOf[wc.name] = windowSlot(t, e, c.ID, at, wc)
		}
		listed := map[string]bool{}
		for _, id := range listOpen(t, e, alice, true) {
			listed[id] = true
		}
		notListed := map[string]bool{}
		for _, id := range listOpen(t, e, alice, false) {
			notListed[id] = true
		}
		for _, wc := range windowCases(time.Minute) {
			sl, err := e.Client.Slot.Get(e.Sys(), slotOf[wc.name])
			if err != nil {
				t.Fatal(err)
			}
			aid := linlitest.ID(sl.ActivityID)
			if listed[aid] != wc.open || notListed[aid] == wc.open {
				t.Errorf("%s: listed open=%v, listed not open=%v; want open=%v", wc.name, listed[aid], notListed[aid], wc.open)
			}
			res := e.Do(t, alice, signUpQuery, input(slotOf[wc.name], nil))
			switch {
			case wc.open && len(res.Errors) > 0:
				t.Errorf("%s: listed as open but signUp refused: %s", wc.name, res.Code())
			case !wc.open && res.Code() != wc.refusal:
				t.Errorf("%s: not listed as open, signUp answered %q, want %s", wc.name, res.Code(), wc.refusal)
			}
		}
	})
}

func windowActivity(t *testing.T, e *linlitest.Env, cid int, at time.Time, wc windowCase) int {
	t.Helper()
	sl := windowSlot(t, e, cid, at, wc)
	s, err := e.Client.Slot.Get(e.Sys(), sl)
	if err != nil {
		t.Fatal(err)
	}
	return s.ActivityID
}

func windowSlot(t *testing.T, e *linlitest.Env, cid int, at time.Time, wc windowCase) int {
	t.Helper()
	status := wc.status
	if status == "" {
		status = activity.StatusPUBLISHED
	}
	a, slots := e.Activity(t, cid, linlitest.ActivitySpec{Title: wc.name, Status: status, StartsAt: at.Add(wc.starts)})
	u := e.Client.Activity.UpdateOneID(a.ID)
	if wc.opens != nil {
		u.SetSignupOpensAt(at.Add(*wc.opens))
	}
	if wc.closes != nil {
		u.SetSignupClosesAt(at.Add(*wc.closes))
	}
	if err := u.Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	return slots[0].ID
}

const openListQuery = `query($w: ActivityWhereInput) { activities(first: 100, where: $w) { edges { node { id } } } }`

func listOpen(t *testing.T, e *linlitest.Env, token string, open bool) []string {
	t.Helper()
	var out struct {
		Activities struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	e.Do(t, token, openListQuery, map[string]any{"w": map[string]any{"openForSignup": open}}).Decode(t, &out)
	var ids []string
	for _, ed := range out.Activities.Edges {
		ids = append(ids, ed.Node.ID)
	}
	return ids
}
