package ledger_test

import (
	"slices"
	"testing"

	"linli/linlitest"
	"linli/viewer"
)

const approveQuery = `mutation($id: ID!) { approveRegistration(registrationID: $id) { id status waitlistPosition } }`
const rejectQuery = `mutation($id: ID!) { rejectRegistration(registrationID: $id, reason: "名额已满") { id status cancelReason } }`
const capacityQuery = `mutation($id: ID!, $c: Int!) { setSlotCapacity(slotID: $id, capacity: $c) { id capacity taken waitlisted available } }`

type slotCounts struct {
	Capacity, Taken, Waitlisted, Available int
}

func setCapacity(t *testing.T, e *linlitest.Env, token string, slotID, capacity int) slotCounts {
	t.Helper()
	var out struct{ SetSlotCapacity slotCounts }
	e.Do(t, token, capacityQuery, map[string]any{"id": linlitest.ID(slotID), "c": capacity}).Decode(t, &out)
	return out.SetSlotCapacity
}

func staffDo[T any](t *testing.T, e *linlitest.Env, token, query string, id int) T {
	t.Helper()
	var out map[string]T
	e.Do(t, token, query, map[string]any{"id": linlitest.ID(id)}).Decode(t, &out)
	for _, v := range out {
		return v
	}
	t.Fatal("empty answer")
	panic("unreachable")
}

// Volunteer positions that need approval: a pending sign-up holds no seat;
// approval confirms while a seat is free and queues afterwards; rejection
// frees nothing because nothing was held; a cancellation promotes the head of
// the line with no other call. Every change someone else made is announced
// to the person after it committed.
func TestApproval(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		rec := record(e)
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		pa, a := e.Person(t, c.ID, "A", viewer.Volunteer)
		pb, b := e.Person(t, c.ID, "B", viewer.Volunteer)
		pc, cc := e.Person(t, c.ID, "C", viewer.Volunteer)
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "医生", Kind: "VOLUNTEER", Capacity: 1, RequiresApproval: true},
		}})
		doctor := slots[0].ID

		ra := signUp(t, e, a, doctor, nil)
		rb := signUp(t, e, b, doctor, nil)
		rc := signUp(t, e, cc, doctor, nil)
		for _, r := range []signUpAnswer{ra, rb, rc} {
			if r.Outcome != "PENDING_APPROVAL" || r.Registration.WaitlistPosition != nil {
				t.Fatalf("sign-up on an approval slot: %+v", r)
			}
		}
		if st := readSlot(t, e, doctor); st.pending != 3 || st.taken != 0 || len(st.consistent()) > 0 {
			t.Fatalf("pending sign-ups: %+v %v", st, st.consistent())
		}
		// Only staff decide.
		e.Do(t, a, approveQuery, map[string]any{"id": linlitest.ID(int(ra.Registration.ID))}).WantCode(t, "FORBIDDEN")

		if got := staffDo[reg](t, e, staff, approveQuery, int(ra.Registration.ID)); got.Status != "CONFIRMED" {
			t.Fatalf("approve A: %+v", got)
		}
		if got := staffDo[reg](t, e, staff, approveQuery, int(rb.Registration.ID)); got.Status != "WAITLISTED" || *got.WaitlistPosition != 1 {
			t.Fatalf("approve B on a full slot: %+v", got)
		}
		// Approving twice changes nothing.
		if got := staffDo[reg](t, e, staff, approveQuery, int(rb.Registration.ID)); got.Status != "WAITLISTED" {
			t.Fatalf("approve B again: %+v", got)
		}
		if got := staffDo[reg](t, e, staff, rejectQuery, int(rc.Registration.ID)); got.Status != "CANCELLED" || got.CancelReason == nil {
			t.Fatalf("reject C: %+v", got)
		}
		e.Do(t, staff, rejectQuery, map[string]any{"id": linlitest.ID(int(ra.Registration.ID))}).WantCode(t, "CONFLICT")
		if st := readSlot(t, e, doctor); st.pending != 0 || st.taken != 1 || st.waitlisted != 1 || len(st.consistent()) > 0 {
			t.Fatalf("after decisions: %+v %v", st, st.consistent())
		}

		// A cancels: B moves up by itself.
		if got := cancel(t, e, a, int(ra.Registration.ID)); got.Status != "CANCELLED" {
			t.Fatalf("cancel A: %+v", got)
		}
		if got := registrationOf(t, e, b, int(rb.Registration.ID)); got.Status != "CONFIRMED" || got.WaitlistPosition != nil {
			t.Fatalf("B after A cancelled: %+v", got)
		}
		if st := readSlot(t, e, doctor); st.taken != 1 || st.waitlisted != 0 || len(st.consistent()) > 0 {
			t.Fatalf("after promotion: %+v %v", st, st.consistent())
		}
		want := map[int][]string{pa.ID: {"APPROVED"}, pb.ID: {"APPROVED", "PROMOTED"}, pc.ID: {"REJECTED"}}
		for pid, w := range want {
			if got := rec.changes(pid); !slices.Equal(got, w) {
				t.Errorf("person %d was told %v, want %v", pid, got, w)
			}
		}
	})
}

// Capacity changes: lowering below what is taken is refused; raising
// promotes the head of the line in order; a cancellation promotes the next.
func TestCapacityAndPromotion(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		rec := record(e)
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		people, tokens := e.People(t, c.ID, 6, "居民")
		act, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 2}}})
		seat := slots[0].ID

		var regs []signUpAnswer
		for _, tok := range tokens {
			regs = append(regs, signUp(t, e, tok, seat, nil))
		}
		for i, r := range regs {
			if i < 2 && r.Outcome != "CONFIRMED" || i >= 2 && (r.Outcome != "WAITLISTED" || *r.Registration.WaitlistPosition != i-1) {
				t.Fatalf("sign-up %d: %+v", i, r)
			}
		}
		e.Do(t, tokens[0], capacityQuery, map[string]any{"id": linlitest.ID(seat), "c": 5}).WantCode(t, "FORBIDDEN")
		res := e.Do(t, staff, capacityQuery, map[string]any{"id": linlitest.ID(seat), "c": 1})
		res.WantCode(t, "VALIDATION_FAILED")
		if res.Field() != "capacity" {
			t.Fatalf("field %q", res.Field())
		}
		e.Do(t, staff, capacityQuery, map[string]any{"id": linlitest.ID(seat), "c": -1}).WantCode(t, "VALIDATION_FAILED")

		versionBefore := countsVersion(t, e, act.ID)
		if got := setCapacity(t, e, staff, seat, 4); got != (slotCounts{Capacity: 4, Taken: 4, Waitlisted: 2, Available: 0}) {
			t.Fatalf("raise to 4: %+v", got)
		}
		if countsVersion(t, e, act.ID) <= versionBefore {
			t.Fatal("counts_version did not move")
		}
		for i, want := range []string{"CONFIRMED", "CONFIRMED", "CONFIRMED", "CONFIRMED", "WAITLISTED", "WAITLISTED"} {
			if got := registrationOf(t, e, tokens[i], int(regs[i].Registration.ID)); got.Status != want {
				t.Fatalf("person %d after raise: %+v, want %s", i, got, want)
			}
		}
		if got := rec.changes(people[2].ID); !slices.Equal(got, []string{"PROMOTED"}) {
			t.Fatalf("promoted person was told %v", got)
		}
		if p := registrationOf(t, e, tokens[5], int(regs[5].Registration.ID)).WaitlistPosition; p == nil || *p != 2 {
			t.Fatalf("last in line at %v, want 2", p)
		}
		// Staff cancel someone's seat: the next in line is promoted, the
		// owner is told, and the one behind moves to position 1.
		if got := cancel(t, e, staff, int(regs[1].Registration.ID)); got.Status != "CANCELLED" {
			t.Fatalf("staff cancel: %+v", got)
		}
		if got := rec.changes(people[1].ID); !slices.Equal(got, []string{"CANCELLED"}) {
			t.Fatalf("owner was told %v", got)
		}
		if got := registrationOf(t, e, tokens[4], int(regs[4].Registration.ID)); got.Status != "CONFIRMED" {
			t.Fatalf("next in line: %+v", got)
		}
		if p := registrationOf(t, e, tokens[5], int(regs[5].Registration.ID)).WaitlistPosition; p == nil || *p != 1 {
			t.Fatalf("last in line at %v, want 1", p)
		}
		// Another resident cannot even see someone else's registration.
		e.Do(t, tokens[5], cancelQuery, map[string]any{"id": linlitest.ID(int(regs[0].Registration.ID))}).WantCode(t, "NOT_FOUND")
		if st := readSlot(t, e, seat); len(st.consistent()) > 0 || st.taken != 4 || st.waitlisted != 1 {
			t.Fatalf("slot: %+v %v", st, st.consistent())
		}
	})
}

func countsVersion(t *testing.T, e *linlitest.Env, activityID int) int64 {
	t.Helper()
	a, err := e.Client.Activity.Get(e.Sys(), activityID)
	if err != nil {
		t.Fatal(err)
	}
	return a.CountsVersion
}

// Cancelling an activity (the staff mutation) cancels its open
// registrations in the same transaction, tells their owners, and empties the
// counters; later sign-ups are refused.
func TestActivityCancelCascade(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		rec := record(e)
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		people, tokens := e.People(t, c.ID, 4, "居民", viewer.Volunteer)
		act, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "座位", Capacity: 2}, {Name: "引导员", Kind: "VOLUNTEER", Capacity: 1, RequiresApproval: true},
		}})
		var ids []int
		for _, tok := range tokens[:3] {
			ids = append(ids, int(signUp(t, e, tok, slots[0].ID, nil).Registration.ID))
		}
		ids = append(ids, int(signUp(t, e, tokens[3], slots[1].ID, nil).Registration.ID))

		e.Do(t, staff, `mutation($id: ID!) { cancelActivity(id: $id, reason: "暴雨") { status } }`,
			map[string]any{"id": linlitest.ID(act.ID)}).Decode(t, &struct{}{})
		for i, id := range ids {
			if got := registrationOf(t, e, tokens[i], id); got.Status != "CANCELLED" {
				t.Fatalf("registration %d after the activity was cancelled: %+v", i, got)
			}
			if got := rec.changes(people[i].ID); !slices.Equal(got, []string{"CANCELLED"}) {
				t.Fatalf("person %d was told %v", i, got)
			}
		}
		for _, sl := range slots {
			if st := readSlot(t, e, sl.ID); st.taken != 0 || st.waitlisted != 0 || st.pending != 0 || len(st.consistent()) > 0 {
				t.Fatalf("slot %s: %+v %v", sl.Name, st, st.consistent())
			}
		}
		if rec.counts(act.ID) == 0 {
			t.Fatal("no counts event for the cancelled activity")
		}
		_, late := e.Person(t, c.ID, "Late")
		refuse(t, e, late, slots[0].ID, nil, "ACTIVITY_CANCELLED")
	})
}

// Reading: my registrations with their activity and position; staff list an
// activity's registrations filtered by status, slot and name, and the list
// costs the same number of statements whatever its length; the check-in
// code goes to the owner and staff only.
func TestReading(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, tokens := e.People(t, c.ID, 40, "居民")
		_, zhang := e.Person(t, c.ID, "张三")
		act, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "道德讲堂", Slots: []linlitest.SlotSpec{
			{Name: "前排", Capacity: 3}, {Name: "后排", Capacity: 2},
		}})
		for i, tok := range tokens {
			signUp(t, e, tok, slots[i%2].ID, nil)
		}
		signUp(t, e, zhang, slots[0].ID, nil)

		var mine struct {
			MyRegistrations struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						reg
						Activity struct{ Title string }
						Slot     struct{ Name string }
					}
				}
			}
		}
		e.Do(t, tokens[39], `{ myRegistrations(first: 10) { totalCount edges { node {
			id status waitlistPosition checkInCode activity { title } slot { name } } } } }`, nil).Decode(t, &mine)
		if mine.MyRegistrations.TotalCount != 1 {
			t.Fatalf("myRegistrations: %+v", mine)
		}
		n := mine.MyRegistrations.Edges[0].Node
		if n.Activity.Title != "道德讲堂" || n.Slot.Name != "后排" || n.WaitlistPosition == nil || *n.WaitlistPosition != 18 ||
			n.CheckInCode == nil || len(*n.CheckInCode) != 26 {
			t.Fatalf("my registration: %+v", n)
		}

		list := func(token string, filter map[string]any) listPage {
			var page listPage
			e.Do(t, token, listQuery, map[string]any{"a": linlitest.ID(act.ID), "f": filter}).Decode(t, &page)
			return page
		}
		e.Do(t, tokens[0], listQuery, map[string]any{"a": linlitest.ID(act.ID)}).WantCode(t, "FORBIDDEN")
		if got := list(staff, nil).ActivityRegistrations.TotalCount; got != 41 {
			t.Fatalf("all registrations: %d", got)
		}
		front := list(staff, map[string]any{"slotID": linlitest.ID(slots[0].ID), "status": []string{"WAITLISTED"}})
		if front.ActivityRegistrations.TotalCount != 18 || len(gaps("front", positionsOf(front), 18)) > 0 {
			t.Fatalf("front waitlist: %d, positions %v", front.ActivityRegistrations.TotalCount, positionsOf(front))
		}
		if got := list(staff, map[string]any{"status": []string{"CONFIRMED"}}).ActivityRegistrations.TotalCount; got != 5 {
			t.Fatalf("confirmed: %d", got)
		}
		named := list(staff, map[string]any{"search": "张"})
		if named.ActivityRegistrations.TotalCount != 1 || named.ActivityRegistrations.Edges[0].Node.Person.DisplayName != "张三" {
			t.Fatalf("search: %+v", named)
		}
		if code := named.ActivityRegistrations.Edges[0].Node.CheckInCode; code != nil {
			t.Fatalf("the list query did not ask for codes but got %v", *code)
		}
		var withCode struct{ Node reg }
		e.Do(t, staff, registrationQuery, map[string]any{"id": linlitest.ID(int(named.ActivityRegistrations.Edges[0].Node.ID))}).Decode(t, &withCode)
		if withCode.Node.CheckInCode == nil {
			t.Fatal("staff cannot see the check-in code")
		}

		// Statements for a page of 5 and a page of 20 waiting registrations.
		cost := func(first int) int64 {
			before := e.Statements.Load()
			e.Do(t, staff, `query($a: ID!, $n: Int) { activityRegistrations(activityID: $a, first: $n,
				filter: {status: [WAITLISTED]}) { edges { node { id waitlistPosition activity { title } slot { name } person { displayName } } } } }`,
				map[string]any{"a": linlitest.ID(act.ID), "n": first}).Decode(t, &struct{}{})
			return e.Statements.Load() - before
		}
		if small, large := cost(5), cost(20); small != large {
			t.Fatalf("a page of 5 took %d statements, a page of 20 took %d", small, large)
		}
	})
}

func positionsOf(p listPage) []int {
	var out []int
	for _, e := range p.ActivityRegistrations.Edges {
		if e.Node.WaitlistPosition != nil {
			out = append(out, *e.Node.WaitlistPosition)
		}
	}
	return out
}
