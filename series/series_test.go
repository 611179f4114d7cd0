package series_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"linli/cst"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

const createActivity = `mutation($in: CreateActivityInput!, $slots: [SlotInput!]!) { createActivity(input: $in, slots: $slots) { id } }`

// draft creates a draft activity starting at start (China time wall clock)
// through the API and returns its id.
func draft(t *testing.T, e *linlitest.Env, token string, start time.Time, slots []map[string]any) string {
	t.Helper()
	var out struct{ CreateActivity struct{ ID string } }
	e.Do(t, token, createActivity, map[string]any{
		"in": map[string]any{"title": "文化广场演出", "category": "SQUARE", "serviceType": "CULTURE",
			"startsAt": start.UTC(), "endsAt": start.Add(2 * time.Hour).UTC()},
		"slots": slots}).Decode(t, &out)
	return out.CreateActivity.ID
}

type occurrence struct {
	ID           string
	Title        string
	Status       string
	StartsAt     time.Time
	OccurrenceAt time.Time
	Slots        []struct {
		ID       string
		Name     string
		Capacity int
		Taken    int
	}
}

const occurrencesQuery = `query($id: ID!) { series(id: $id) { id materialisedUntil occurrences {
	id title status startsAt occurrenceAt slots { id name capacity taken } } } }`

func occurrences(t *testing.T, e *linlitest.Env, token, id string) []occurrence {
	t.Helper()
	var out struct {
		Series struct{ Occurrences []occurrence }
	}
	e.Do(t, token, occurrencesQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Series.Occurrences
}

const createSeries = `mutation($in: CreateSeriesInput!) { createSeries(input: $in) { id rrule } }`

func setWindow(t *testing.T, e *linlitest.Env, token string, weeks int) {
	t.Helper()
	e.Do(t, token, `mutation($w: Int!) { setSeriesWindow(weeks: $w) }`, map[string]any{"w": weeks}).Decode(t, &struct{}{})
}

// A weekly series on Tuesdays and Saturdays at 19:00 China time over 2027
// (China keeps no daylight saving) gives exactly those 104 evenings, each
// once, however many coordinators extend the window at the same time.
func TestWeeklySeriesOverAYear(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		first := time.Date(2027, 1, 2, 19, 0, 0, 0, cst.Zone) // a Saturday
		src := draft(t, e, coord, first, []map[string]any{{"name": "观众", "capacity": 50}})

		// Bad rules are refused on the rule's field.
		for _, bad := range []string{"FREQ=HOURLY", "FREQ=WEEKLY;COUNT=5000", "FREQ=WEEKLY;BYHOUR=3", "FREQ=WEEKLY;UNTIL=20400101", "nonsense", ""} {
			res := e.Do(t, coord, createSeries, map[string]any{"in": map[string]any{"activityID": src, "rrule": bad}})
			if res.Code() != "VALIDATION_FAILED" || res.Field() != "rrule" {
				t.Errorf("rule %q: %s on %q, want VALIDATION_FAILED on rrule", bad, res.Code(), res.Field())
			}
		}
		// A volunteer may not make series.
		_, vol := e.Person(t, c.ID, "志愿者", viewer.Volunteer)
		e.Do(t, vol, createSeries, map[string]any{"in": map[string]any{"activityID": src, "rrule": "FREQ=WEEKLY"}}).WantCode(t, "FORBIDDEN")

		setWindow(t, e, coord, 1)
		in := map[string]any{"activityID": src, "rrule": "FREQ=WEEKLY;BYDAY=TU,SA;UNTIL=20271231T235959", "idempotencyKey": "year-1"}
		var made struct{ CreateSeries struct{ ID string } }
		e.Do(t, coord, createSeries, map[string]any{"in": in}).Decode(t, &made)
		var again struct{ CreateSeries struct{ ID string } }
		e.Do(t, coord, createSeries, map[string]any{"in": in}).Decode(t, &again)
		if again.CreateSeries.ID != made.CreateSeries.ID {
			t.Fatalf("a retried createSeries made another series")
		}
		in2 := map[string]any{"activityID": src, "rrule": "FREQ=DAILY", "idempotencyKey": "year-1"}
		e.Do(t, coord, createSeries, map[string]any{"in": in2}).WantCode(t, "CONFLICT")

		// Four coordinators widen the window together: every one of them
		// materialises, none makes a twin.
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.Do(t, coord, `mutation { setSeriesWindow(weeks: 60) }`, nil)
				if err := r.Err(); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()

		var want []time.Time
		for d := first; d.Year() == 2027; d = d.AddDate(0, 0, 1) {
			if d.Weekday() == time.Tuesday || d.Weekday() == time.Saturday {
				want = append(want, d.UTC())
			}
		}
		got := occurrences(t, e, coord, made.CreateSeries.ID)
		if len(got) != len(want) || len(want) != 104 {
			t.Fatalf("%d occurrences, want %d (104)", len(got), len(want))
		}
		for i, o := range got {
			if !o.StartsAt.Equal(want[i]) || !o.OccurrenceAt.Equal(want[i]) {
				t.Errorf("occurrence %d starts %v, want %v", i, o.StartsAt.In(cst.Zone), want[i].In(cst.Zone))
			}
			if o.StartsAt.In(cst.Zone).Hour() != 19 {
				t.Errorf("occurrence %d at %v, want 19:00 China time", i, o.StartsAt.In(cst.Zone))
			}
			if len(o.Slots) != 1 || o.Slots[0].Capacity != 50 {
				t.Errorf("occurrence %d slots %+v, want the plan's", i, o.Slots)
			}
		}
		if got[0].ID != src || got[0].Status != "DRAFT" || got[1].Status != "PUBLISHED" {
			t.Errorf("first occurrence %s %s (want the source draft), second %s", got[0].ID, got[0].Status, got[1].Status)
		}
		// The job's run finds nothing more to make.
		rep, err := e.App.Resolver.Recurring.MaterialiseAll(e.Sys())
		if err != nil || rep.Created != 0 {
			t.Errorf("another run: %+v, %v; want nothing made", rep, err)
		}
	})
}

// Concurrent materialisations of one series (two replicas, a retried job)
// make each occurrence once: the unique (series, occurrence).
func TestMaterialiseConcurrently(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		start := time.Date(2027, 3, 1, 9, 0, 0, 0, cst.Zone)
		src := draft(t, e, coord, start, []map[string]any{{"name": "观众", "capacity": 5}})
		setWindow(t, e, coord, 1)
		var made struct{ CreateSeries struct{ ID string } }
		e.Do(t, coord, createSeries, map[string]any{"in": map[string]any{"activityID": src, "rrule": "FREQ=DAILY;COUNT=40"}}).Decode(t, &made)
		id := e.IntID(t, made.CreateSeries.ID)
		if err := e.Client.Community.UpdateOneID(c.ID).SetSeriesWindowWeeks(60).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.App.Resolver.Recurring.Materialise(e.Sys(), id); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n, err := e.Client.Activity.Query().Where(activity.SeriesID(id)).Count(e.Sys())
		if err != nil || n != 40 {
			t.Fatalf("%d occurrences (%v), want 40", n, err)
		}
	})
}

const editSeries = `mutation($in: EditSeriesInput!) { editSeries(input: $in) {
	changed { id } refused { activity { id } code field } } }`

type editResult struct {
	EditSeries struct {
		Changed []struct{ ID string }
		Refused []struct {
			Activity struct{ ID string }
			Code     string
			Field    *string
		}
	}
}

// Edits by scope change exactly their occurrences and keep sign-ups; a
// capacity cut below the seats taken is refused for that occurrence as
// updateActivity refuses it, and the others change.
func TestEditByScope(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, res := e.Person(t, c.ID, "居民")
		start := time.Date(2027, 3, 6, 19, 0, 0, 0, cst.Zone)
		src := draft(t, e, coord, start, []map[string]any{{"name": "观众", "capacity": 10}})
		setWindow(t, e, coord, 30)
		var made struct{ CreateSeries struct{ ID string } }
		e.Do(t, coord, createSeries, map[string]any{"in": map[string]any{"activityID": src, "rrule": "FREQ=WEEKLY;COUNT=6"}}).Decode(t, &made)
		sid := made.CreateSeries.ID
		occ := occurrences(t, e, coord, sid)
		if len(occ) != 6 {
			t.Fatalf("%d occurrences, want 6", len(occ))
		}
		e.Do(t, coord, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": occ[0].ID}).Decode(t, &struct{}{})
		// A resident signs up for the third and the fifth.
		for _, i := range []int{2, 4} {
			e.Do(t, res, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`, map[string]any{"s": occ[i].Slots[0].ID}).Decode(t, &struct{}{})
		}
		edit := func(in map[string]any) editResult {
			t.Helper()
			in["seriesID"] = sid
			var out editResult
			e.Do(t, coord, editSeries, map[string]any{"in": in}).Decode(t, &out)
			return out
		}
		ids := func(r editResult) []string {
			var out []string
			for _, a := range r.EditSeries.Changed {
				out = append(out, a.ID)
			}
			return out
		}
		same := func(what string, got []string, want ...occurrence) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s changed %d occurrences, want %d", what, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].ID {
					t.Errorf("%s changed %v, want occurrence %s", what, got, want[i].ID)
				}
			}
		}

		same("ONE", ids(edit(map[string]any{"scope": "ONE", "activityID": occ[1].ID, "title": "特别场"})), occ[1])
		r := edit(map[string]any{"scope": "FOLLOWING", "activityID": occ[2].ID, "startTime": "20:00",
			"slots": []map[string]any{{"position": 0, "capacity": 8}}})
		same("FOLLOWING", ids(r), occ[2:]...)
		same("ALL", ids(edit(map[string]any{"scope": "ALL", "description": "新说明"})), occ...)

		got := occurrences(t, e, coord, sid)
		for i, o := range got {
			wantTitle, wantHour, wantCap := "文化广场演出", 19, 10
			if i == 1 {
				wantTitle = "特别场"
			}
			if i >= 2 {
				wantHour, wantCap = 20, 8
			}
			if o.Title != wantTitle || o.StartsAt.In(cst.Zone).Hour() != wantHour || o.Slots[0].Capacity != wantCap {
				t.Errorf("occurrence %d: %q at %v capacity %d; want %q at %d:00 capacity %d",
					i, o.Title, o.StartsAt.In(cst.Zone), o.Slots[0].Capacity, wantTitle, wantHour, wantCap)
			}
			if !o.OccurrenceAt.Equal(occ[i].OccurrenceAt) {
				t.Errorf("occurrence %d's key moved", i)
			}
			wantTaken := 0
			if i == 2 || i == 4 {
				wantTaken = 1
			}
			if o.Slots[0].Taken != wantTaken {
				t.Errorf("occurrence %d taken %d, want %d (sign-ups kept)", i, o.Slots[0].Taken, wantTaken)
			}
		}
		n, err := e.Client.Registration.Query().Where(registration.StatusEQ(registration.StatusCONFIRMED)).Count(e.Sys())
		if err != nil || n != 2 {
			t.Errorf("%d confirmed registrations (%v), want 2", n, err)
		}

		// Cutting every occurrence to 0 seats: refused where a seat is taken.
		r = edit(map[string]any{"scope": "ALL", "slots": []map[string]any{{"position": 0, "capacity": 0}}})
		if len(r.EditSeries.Refused) != 2 || len(r.EditSeries.Changed) != 4 {
			t.Fatalf("capacity cut: changed %d, refused %d; want 4 and 2", len(r.EditSeries.Changed), len(r.EditSeries.Refused))
		}
		for _, x := range r.EditSeries.Refused {
			if x.Code != "VALIDATION_FAILED" || x.Field == nil || *x.Field != "slots[0].capacity" {
				t.Errorf("refusal %+v, want VALIDATION_FAILED on slots[0].capacity", x)
			}
			if x.Activity.ID != occ[2].ID && x.Activity.ID != occ[4].ID {
				t.Errorf("refused %s, want the occurrences with sign-ups", x.Activity.ID)
			}
		}

		// Skipping a date cancels that occurrence (its sign-up too); a date
		// off the rule is refused.
		skip := `mutation($s: ID!, $d: String!) { skipSeriesDate(seriesID: $s, date: $d, reason: "清明节") { cancelled { id status } } }`
		e.Do(t, coord, skip, map[string]any{"s": sid, "d": "2027-03-21"}).WantCode(t, "VALIDATION_FAILED")
		var sk struct {
			SkipSeriesDate struct{ Cancelled []struct{ ID, Status string } }
		}
		e.Do(t, coord, skip, map[string]any{"s": sid, "d": cst.Date(occ[2].OccurrenceAt)}).Decode(t, &sk)
		if len(sk.SkipSeriesDate.Cancelled) != 1 || sk.SkipSeriesDate.Cancelled[0].ID != occ[2].ID {
			t.Errorf("skip cancelled %+v, want occurrence 2", sk.SkipSeriesDate.Cancelled)
		}
		// Cancelling from the fifth cancels the fifth and sixth.
		var cs struct {
			CancelSeries struct{ Cancelled []struct{ ID, Status string } }
		}
		e.Do(t, coord, `mutation($s: ID!, $d: String!) { cancelSeries(seriesID: $s, from: $d, reason: "场地维修") { cancelled { id status } } }`,
			map[string]any{"s": sid, "d": cst.Date(occ[4].OccurrenceAt)}).Decode(t, &cs)
		if len(cs.CancelSeries.Cancelled) != 2 {
			t.Errorf("cancelSeries cancelled %d, want 2", len(cs.CancelSeries.Cancelled))
		}
		got = occurrences(t, e, coord, sid)
		for i, o := range got {
			cancelled := i == 2 || i >= 4
			if (o.Status == "CANCELLED") != cancelled {
				t.Errorf("occurrence %d is %s", i, o.Status)
			}
		}
		if n, _ := e.Client.Registration.Query().Where(registration.StatusEQ(registration.StatusCONFIRMED)).Count(e.Sys()); n != 0 {
			t.Errorf("%d registrations still confirmed in cancelled occurrences", n)
		}
	})
}

// A recurring sign-up books every future occurrence once through the
// ledger, also those made later; the cap keeps seats for newcomers; one
// cancellation cancels them all.
func TestRecurringSignUp(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		vp, vol := e.Person(t, c.ID, "王老师", viewer.Volunteer)
		_, vol2 := e.Person(t, c.ID, "李老师", viewer.Volunteer)
		_, res := e.Person(t, c.ID, "居民")
		start := time.Now().In(cst.Zone).AddDate(0, 0, 2).Truncate(time.Hour)
		src := draft(t, e, coord, start, []map[string]any{{"name": "辅导老师", "kind": "VOLUNTEER", "capacity": 4}})
		e.Do(t, coord, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": src}).Decode(t, &struct{}{})
		setWindow(t, e, coord, 2)
		var made struct{ CreateSeries struct{ ID string } }
		e.Do(t, coord, createSeries, map[string]any{"in": map[string]any{"activityID": src, "rrule": "FREQ=WEEKLY;COUNT=6",
			"recurringSignup": true, "standingCap": 1}}).Decode(t, &made)
		sid := made.CreateSeries.ID

		signUp := `mutation($s: ID!, $k: String) { signUpRecurring(seriesID: $s, position: 0, idempotencyKey: $k) {
			standing { id position } bookings { activity { id } registration { id status } refusal { code } } } }`
		// A resident is not eligible for a volunteer slot: each occurrence
		// reports it, none is booked.
		var rr struct {
			SignUpRecurring struct {
				Bookings []struct {
					Registration *struct{ ID, Status string }
					Refusal      *struct{ Code string }
				}
			}
		}
		e.Do(t, res, signUp, map[string]any{"s": sid}).Decode(t, &rr)
		for _, b := range rr.SignUpRecurring.Bookings {
			if b.Registration != nil || b.Refusal == nil || b.Refusal.Code != "NOT_ELIGIBLE" {
				t.Errorf("resident's booking %+v, want NOT_ELIGIBLE", b)
			}
		}
		e.Do(t, res, `mutation($s: ID!) { cancelRecurring(seriesID: $s, position: 0) }`, map[string]any{"s": sid}).Decode(t, &struct{}{})

		var got struct {
			SignUpRecurring struct {
				Standing struct{ ID string }
				Bookings []struct {
					Activity     struct{ ID string }
					Registration *struct{ ID, Status string }
					Refusal      *struct{ Code string }
				}
			}
		}
		e.Do(t, vol, signUp, map[string]any{"s": sid, "k": "r1"}).Decode(t, &got)
		firstBooked := len(got.SignUpRecurring.Bookings)
		if firstBooked < 2 || firstBooked >= 6 {
			t.Fatalf("booked %d occurrences in a 2-week window, want 2 or 3", firstBooked)
		}
		for _, b := range got.SignUpRecurring.Bookings {
			if b.Registration == nil || b.Registration.Status != "CONFIRMED" {
				t.Errorf("booking %+v, want CONFIRMED", b)
			}
		}
		// A retry answers the same; again without the key: already registered.
		var again struct {
			SignUpRecurring struct{ Standing struct{ ID string } }
		}
		e.Do(t, vol, signUp, map[string]any{"s": sid, "k": "r1"}).Decode(t, &again)
		if again.SignUpRecurring.Standing.ID != got.SignUpRecurring.Standing.ID {
			t.Errorf("a retry made another standing sign-up")
		}
		e.Do(t, vol, signUp, map[string]any{"s": sid}).WantCode(t, "ALREADY_REGISTERED")
		// The cap (1) keeps the other seats for single sign-ups.
		e.Do(t, vol2, signUp, map[string]any{"s": sid}).WantCode(t, "CAPACITY_FULL")

		// Occurrences made later are booked as they are made.
		setWindow(t, e, coord, 10)
		regs := func(status registration.Status) int {
			n, err := e.Client.Registration.Query().Where(registration.PersonID(vp.ID), registration.StatusEQ(status),
				registration.HasSlotWith(slot.HasActivityWith(activity.SeriesIDNotNil()))).Count(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := regs(registration.StatusCONFIRMED); n != 6 {
			t.Fatalf("%d occurrences booked after the window widened, want all 6", n)
		}
		for i, o := range occurrences(t, e, coord, sid) {
			if o.Slots[0].Taken != 1 {
				t.Errorf("occurrence %d taken %d, want 1 (booked once)", i, o.Slots[0].Taken)
			}
		}
		// Running the job again books nothing twice.
		if _, err := e.App.Resolver.Recurring.MaterialiseAll(e.Sys()); err != nil {
			t.Fatal(err)
		}
		if n := regs(registration.StatusCONFIRMED); n != 6 {
			t.Fatalf("%d booked after another run, want 6", n)
		}

		var cancelled struct{ CancelRecurring int }
		e.Do(t, vol, `mutation($s: ID!) { cancelRecurring(seriesID: $s, position: 0) }`, map[string]any{"s": sid}).Decode(t, &cancelled)
		if cancelled.CancelRecurring != 6 || regs(registration.StatusCONFIRMED) != 0 || regs(registration.StatusCANCELLED) != 6 {
			t.Errorf("cancelRecurring cancelled %d; confirmed %d, cancelled %d; want 6, 0, 6",
				cancelled.CancelRecurring, regs(registration.StatusCONFIRMED), regs(registration.StatusCANCELLED))
		}
		e.Do(t, vol, `mutation($s: ID!) { cancelRecurring(seriesID: $s, position: 0) }`, map[string]any{"s": sid}).WantCode(t, "NOT_FOUND")
		// Now the other volunteer fits under the cap.
		e.Do(t, vol2, signUp, map[string]any{"s": sid}).Decode(t, &struct{}{})
		_ = fmt.Sprint
	})
}
