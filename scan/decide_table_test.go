package scan

// Table tests of the check-in decision (decide) and the window it applies,
// with no database: every answer a scan can get, on both sides of each
// bound. They run in microseconds and stay in the -short loop; the tests
// beside them drive the same decision through kiosks, websockets and
// offline uploads on both databases.

import (
	"testing"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/ent/slot"
)

func TestDecideTable(t *testing.T) {
	start := time.Date(2026, 5, 9, 9, 0, 0, 0, time.UTC)
	end := start.Add(2 * time.Hour)
	venue, otherVenue := 7, 8
	r := rules{grace: 30 * time.Minute, maxAge: 24 * time.Hour}
	minute := time.Minute
	act := func() *ent.Activity {
		return &ent.Activity{ID: 10, StartsAt: start, EndsAt: end, CheckinOpensMinutes: 60,
			VenueID: &venue, Status: activity.StatusPUBLISHED}
	}
	tgt := func(status registration.Status, kind slot.Kind, in, out *time.Time) *target {
		return &target{regID: 1, personID: 2, slotID: 3, activityID: 10, communityID: 1, seats: 1,
			status: status, checkedInAt: in, checkedOutAt: out,
			slot: &ent.Slot{ID: 3, Kind: kind}, activity: act()}
	}
	at := func(d time.Duration) *time.Time { x := start.Add(d); return &x }
	confirmed := func() *target { return tgt(registration.StatusCONFIRMED, slot.KindATTENDEE, nil, nil) }
	staff := scanner{actorID: 5, communityID: 1}
	kiosk := scanner{kioskID: 4, venueID: venue, communityID: 1}
	type want struct {
		status         checkinscan.Status
		write, earlier bool
		fallback       checkinscan.Status
	}
	for _, c := range []struct {
		name     string
		kind     checkinscan.Kind
		t        *target
		who      scanner
		activity int
		at       time.Duration // from the start
		now      time.Duration // from the start; at when zero
		offline  bool
		want     want
	}{
		// Refusals before the kind matters, in the order refuse tries them.
		{name: "no registration has the code", kind: In, t: nil, who: staff, want: want{status: UnknownCode}},
		{name: "another community's code", kind: In, t: confirmed(), who: scanner{actorID: 5, communityID: 2}, want: want{status: UnknownCode}},
		{name: "an admin sees every community", kind: In, t: confirmed(), who: scanner{actorID: 5, communityID: 2, admin: true}, want: want{status: OK, write: true}},
		{name: "kiosk at another venue", kind: In, t: confirmed(), who: scanner{kioskID: 4, venueID: otherVenue, communityID: 1}, want: want{status: WrongVenue}},
		{name: "kiosk, activity without venue", kind: In, t: func() *target { x := confirmed(); x.activity.VenueID = nil; return x }(), who: kiosk, want: want{status: WrongVenue}},
		{name: "kiosk at the venue", kind: In, t: confirmed(), who: kiosk, want: want{status: OK, write: true}},
		{name: "scanned for another activity", kind: In, t: confirmed(), who: staff, activity: 11, want: want{status: WrongActivity}},
		{name: "scanned for its activity", kind: In, t: confirmed(), who: staff, activity: 10, want: want{status: OK, write: true}},
		{name: "cancelled registration", kind: In, t: tgt(registration.StatusCANCELLED, slot.KindATTENDEE, nil, nil), who: staff, want: want{status: Cancelled}},
		{name: "cancelled activity", kind: In, t: func() *target { x := confirmed(); x.activity.Status = activity.StatusCANCELLED; return x }(), who: staff, want: want{status: Cancelled}},
		{name: "waitlisted", kind: In, t: tgt(registration.StatusWAITLISTED, slot.KindATTENDEE, nil, nil), who: staff, want: want{status: NotConfirmed}},
		{name: "pending approval", kind: In, t: tgt(registration.StatusPENDING_APPROVAL, slot.KindATTENDEE, nil, nil), who: staff, want: want{status: NotConfirmed}},
		{name: "no-show", kind: In, t: tgt(registration.StatusNO_SHOW, slot.KindATTENDEE, nil, nil), who: staff, want: want{status: TooLate}},
		{name: "offline scan older than maxAge", kind: In, t: confirmed(), who: kiosk, at: 0, now: 24*time.Hour + minute, offline: true, want: want{status: TooLate}},
		{name: "offline scan just within maxAge", kind: In, t: confirmed(), who: kiosk, at: 0, now: 24 * time.Hour, offline: true, want: want{status: OK, write: true}},

		// Check-in: the window opens CheckinOpensMinutes before the start and closes at the end.
		{name: "in: before the window", kind: In, t: confirmed(), who: staff, at: -time.Hour - minute, want: want{status: TooEarly}},
		{name: "in: as the window opens", kind: In, t: confirmed(), who: staff, at: -time.Hour, want: want{status: OK, write: true}},
		{name: "in: at the end", kind: In, t: confirmed(), who: staff, at: 2 * time.Hour, want: want{status: OK, write: true}},
		{name: "in: after the end", kind: In, t: confirmed(), who: staff, at: 2*time.Hour + minute, want: want{status: TooLate}},
		{name: "in: checked in already", kind: In, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(0), nil), who: staff, at: 10 * minute, want: want{status: AlreadyCheckedIn}},
		{name: "in: checked out already", kind: In, t: tgt(registration.StatusCHECKED_OUT, slot.KindATTENDEE, at(0), at(time.Hour)), who: staff, at: 10 * minute, want: want{status: AlreadyCheckedIn}},
		{name: "in: online scan earlier than the recorded one", kind: In, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(10*minute), nil), who: staff, at: 0, want: want{status: AlreadyCheckedIn}},
		{name: "in: offline scan earlier than the recorded one", kind: In, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(10*minute), nil), who: kiosk, at: 0, now: 20 * minute, offline: true, want: want{status: OK, earlier: true, fallback: AlreadyCheckedIn}},
		{name: "in: offline scan earlier, before the window", kind: In, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(10*minute), nil), who: kiosk, at: -2 * time.Hour, now: 20 * minute, offline: true, want: want{status: TooEarly}},
		{name: "in: offline scan later than the recorded one", kind: In, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(10*minute), nil), who: kiosk, at: 20 * minute, now: 30 * minute, offline: true, want: want{status: AlreadyCheckedIn}},

		// Check-out: from the window's opening to the end plus grace.
		{name: "out: never checked in", kind: Out, t: confirmed(), who: staff, at: time.Hour, want: want{status: NotCheckedIn}},
		{name: "out: before the window", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(-time.Hour), nil), who: kiosk, at: -time.Hour - minute, now: 0, offline: true, want: want{status: TooEarly}},
		{name: "out: before the check-in", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(10*minute), nil), who: staff, at: 5 * minute, want: want{status: NotCheckedIn}},
		{name: "out: in the window", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(0), nil), who: staff, at: time.Hour, want: want{status: OK, write: true}},
		{name: "out: at the end of the grace", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(0), nil), who: staff, at: 2*time.Hour + 30*minute, want: want{status: OK, write: true}},
		{name: "out: after the grace", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(0), nil), who: staff, at: 2*time.Hour + 31*minute, want: want{status: TooLate}},
		{name: "out: checked out, within the grace", kind: Out, t: tgt(registration.StatusCHECKED_OUT, slot.KindATTENDEE, at(0), at(time.Hour)), who: staff, at: 90 * minute, want: want{status: OK, earlier: true, fallback: AlreadyCheckedOut}},
		{name: "out: checked out, after the grace", kind: Out, t: tgt(registration.StatusCHECKED_OUT, slot.KindATTENDEE, at(0), at(time.Hour)), who: staff, at: 3 * time.Hour, want: want{status: AlreadyCheckedOut}},
		{name: "out: checked out, offline scan earlier, after the grace", kind: Out, t: tgt(registration.StatusCHECKED_OUT, slot.KindATTENDEE, at(0), at(3*time.Hour)), who: kiosk, at: 2*time.Hour + 45*minute, now: 4 * time.Hour, offline: true, want: want{status: OK, earlier: true, fallback: AlreadyCheckedOut}},
		{name: "out: volunteer, under a minute served", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindVOLUNTEER, at(0), nil), who: staff, at: 30 * time.Second, want: want{status: NoTimeServed}},
		{name: "out: volunteer, a minute served", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindVOLUNTEER, at(0), nil), who: staff, at: minute, want: want{status: OK, write: true}},
		{name: "out: attendee, under a minute", kind: Out, t: tgt(registration.StatusCHECKED_IN, slot.KindATTENDEE, at(0), nil), who: staff, at: 30 * time.Second, want: want{status: OK, write: true}},
	} {
		now := c.now
		if now == 0 {
			now = c.at
		}
		got := decide(c.kind, c.t, c.who, c.activity, start.Add(c.at), start.Add(now), c.offline, r)
		w := want{got.status, got.write, got.earlier, got.fallback}
		if w != c.want {
			t.Errorf("%s: decide = %+v, want %+v", c.name, w, c.want)
		}
	}
}

// The window and what a record credits: the slot's own times over the
// activity's, the opening before the start, the grace after the end.
func TestWindowAndServedTable(t *testing.T) {
	start := time.Date(2026, 5, 9, 9, 0, 0, 0, time.UTC)
	a := &ent.Activity{StartsAt: start, EndsAt: start.Add(3 * time.Hour), CheckinOpensMinutes: 30}
	slotStart, slotEnd := start.Add(time.Hour), start.Add(2*time.Hour)
	own := &ent.Slot{StartsAt: &slotStart, EndsAt: &slotEnd}
	for _, c := range []struct {
		name          string
		sl            *ent.Slot
		opens, closes time.Time
	}{
		{"no slot", nil, start.Add(-30 * time.Minute), start.Add(3 * time.Hour)},
		{"slot without times", &ent.Slot{}, start.Add(-30 * time.Minute), start.Add(3 * time.Hour)},
		{"slot with its own times", own, slotStart.Add(-30 * time.Minute), slotEnd},
		{"slot with its own start", &ent.Slot{StartsAt: &slotStart}, slotStart.Add(-30 * time.Minute), start.Add(3 * time.Hour)},
	} {
		o, cl := Window(a, c.sl)
		if !o.Equal(c.opens) || !cl.Equal(c.closes) {
			t.Errorf("%s: Window = %v–%v, want %v–%v", c.name, o, cl, c.opens, c.closes)
		}
	}
	grace := 15 * time.Minute
	for _, c := range []struct {
		name    string
		in, out time.Duration // from the slot's start
		minutes int
	}{
		{"inside", 0, time.Hour, 60},
		{"early arrival counts from the opening", -time.Hour, time.Hour, 90},
		{"late leaving counts to the end plus grace", 0, 2 * time.Hour, 75},
		{"both before the window", -3 * time.Hour, -2 * time.Hour, 0},
		{"out before in", time.Hour, 0, 0},
		{"59 seconds", 0, 59 * time.Second, 0},
	} {
		_, _, m := Served(a, own, grace, slotStart.Add(c.in), slotStart.Add(c.out))
		if m != c.minutes {
			t.Errorf("%s: Served = %d minutes, want %d", c.name, m, c.minutes)
		}
	}
}
