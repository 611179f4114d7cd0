package scan

import (
	"fmt"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/hours"
)

// Statuses of a scan, as stored and as the API names them.
const (
	OK                = checkinscan.StatusOK
	AlreadyCheckedIn  = checkinscan.StatusALREADY_CHECKED_IN
	AlreadyCheckedOut = checkinscan.StatusALREADY_CHECKED_OUT
	NotCheckedIn      = checkinscan.StatusNOT_CHECKED_IN
	NotConfirmed      = checkinscan.StatusNOT_CONFIRMED
	Cancelled         = checkinscan.StatusCANCELLED
	WrongActivity     = checkinscan.StatusWRONG_ACTIVITY
	WrongVenue        = checkinscan.StatusWRONG_VENUE
	TooEarly          = checkinscan.StatusTOO_EARLY
	TooLate           = checkinscan.StatusTOO_LATE
	UnknownCode       = checkinscan.StatusUNKNOWN_CODE
	// NoTimeServed refuses a volunteer's check-out that would credit no
	// minute (checked in less than a minute before, or both times outside
	// the window): no service record of 0 minutes is ever made.
	NoTimeServed = checkinscan.StatusNO_TIME_SERVED
	// CodeExpired refuses a self check-in with a venue code past its window
	// (selfcheckin.go).
	CodeExpired = checkinscan.StatusCODE_EXPIRED
)

// Kinds of scan.
const (
	In   = checkinscan.KindIN
	Out  = checkinscan.KindOUT
	Undo = checkinscan.KindUNDO
)

// Times is when a registration in slot sl of activity a takes place: the
// slot's own times, the activity's where the slot has none (sl may be nil:
// the activity's).
func Times(a *ent.Activity, sl *ent.Slot) (start, end time.Time) {
	start, end = a.StartsAt, a.EndsAt
	if sl != nil && sl.StartsAt != nil {
		start = *sl.StartsAt
	}
	if sl != nil && sl.EndsAt != nil {
		end = *sl.EndsAt
	}
	return start, end
}

// Window is when check-in is open for a registration in slot sl of
// activity a: from checkin_opens_minutes before its start (Times) to its
// end. This is the one place the window is written: online scans, offline
// uploads, the check-in list and closing missing check-outs all ask it.
func Window(a *ent.Activity, sl *ent.Slot) (opens, closes time.Time) {
	start, end := Times(a, sl)
	return start.Add(-time.Duration(a.CheckinOpensMinutes) * time.Minute), end
}

// target is a registration as a scan sees it, with its slot and activity.
type target struct {
	regID, personID, slotID, activityID, communityID, seats int
	code                                                    string
	status                                                  registration.Status
	checkedInAt, checkedOutAt                               *time.Time
	slot                                                    *ent.Slot
	activity                                                *ent.Activity
	// name is the person's display name, unmasked (message masks it);
	// named is false when the person is not known yet (a walk-in's).
	name  string
	named bool
}

// targetOf is the target of r, loaded with its slot, activity and person.
func targetOf(r *ent.Registration) *target {
	t := &target{
		regID: r.ID, personID: r.PersonID, slotID: r.SlotID, activityID: r.ActivityID, communityID: r.CommunityID,
		seats: r.Seats, code: r.CheckInCode, status: r.Status, checkedInAt: r.CheckedInAt, checkedOutAt: r.CheckedOutAt,
		slot: r.Edges.Slot, activity: r.Edges.Activity,
	}
	if p := r.Edges.Person; p != nil {
		t.name, t.named = p.DisplayName, true
	}
	return t
}

func (t *target) window() (opens, closes time.Time) { return Window(t.activity, t.slot) }

func (t *target) volunteer() bool { return t.slot.Kind == slot.KindVOLUNTEER }

// came reports whether the registration is checked in or out.
func (t *target) came() bool {
	return t.status == registration.StatusCHECKED_IN || t.status == registration.StatusCHECKED_OUT
}

// scanner is who scans: a kiosk at a venue, or a staff member.
type scanner struct {
	kioskID, actorID, venueID, communityID int
	admin                                  bool
}

// outcome is a decision about one scan before anything is written.
type outcome struct {
	status checkinscan.Status
	// write: the registration moves (checked in or out).
	write bool
	// earlier: the scan may move a recorded check-in or check-out (see
	// moveEarlier); it is answered fallback unless it is a check-out of its
	// own.
	earlier  bool
	fallback checkinscan.Status
	// message, when set, replaces the status's usual message.
	message string
}

// rules are the bounds decide applies besides a registration's window.
type rules struct {
	// grace is how long after the end a check-out is still taken.
	grace time.Duration
	// maxAge is how long after it was made an offline scan is still taken.
	maxAge time.Duration
}

// decide answers a scan of kind at time at by who, for activityID (0: any),
// of registration t (nil: no registration has the code), at now. This is
// the check-in decision, the only one: every scan, online or uploaded, by
// code, by hand or a walk-in, is decided here.
//
// Every time a scan writes is inside the registration's window: a
// check-in (or an offline scan moving one earlier) from its opening to
// the end, a check-out from its opening to the end and the grace after it.
// Only scans made offline (timed by the kiosk) may move a recorded time
// earlier, and only within maxAge of now: online scans racing each other
// are decided in the order the database takes them.
func decide(kind checkinscan.Kind, t *target, who scanner, activityID int, at, now time.Time, offline bool, r rules) outcome {
	if o, done := refuse(t, who, activityID, at, now, offline, r); done {
		return o
	}
	if kind == In {
		return decideIn(t, at, offline)
	}
	return decideOut(t, at, offline, r)
}

// refuse is what answers a scan before its kind matters: a code this
// scanner does not know (another community's registrations do not exist
// for it), the wrong door, a registration that is not coming.
func refuse(t *target, who scanner, activityID int, at, now time.Time, offline bool, r rules) (outcome, bool) {
	switch {
	case t == nil, !who.admin && t.communityID != who.communityID:
		return outcome{status: UnknownCode}, true
	case who.kioskID != 0 && (t.activity.VenueID == nil || *t.activity.VenueID != who.venueID):
		return outcome{status: WrongVenue}, true
	case activityID != 0 && t.activityID != activityID:
		return outcome{status: WrongActivity}, true
	case t.status == registration.StatusCANCELLED, t.activity.Status == activity.StatusCANCELLED:
		return outcome{status: Cancelled}, true
	case t.status == registration.StatusWAITLISTED, t.status == registration.StatusPENDING_APPROVAL,
		t.status == registration.StatusOFFERED:
		return outcome{status: NotConfirmed}, true
	case t.status == registration.StatusNO_SHOW:
		return outcome{status: TooLate}, true
	case offline && at.Before(now.Add(-r.maxAge)):
		return outcome{status: TooLate, message: fmt.Sprintf("离线扫码已超过 %d 小时，不能补录；请工作人员核实", int(r.maxAge.Hours()))}, true
	}
	return outcome{}, false
}

func decideIn(t *target, at time.Time, offline bool) outcome {
	opens, closes := t.window()
	switch {
	case t.came():
		if offline && t.checkedInAt != nil && at.Before(*t.checkedInAt) {
			if at.Before(opens) {
				return outcome{status: TooEarly}
			}
			return outcome{status: OK, earlier: true, fallback: AlreadyCheckedIn}
		}
		return outcome{status: AlreadyCheckedIn}
	case at.Before(opens):
		return outcome{status: TooEarly}
	case at.After(closes):
		return outcome{status: TooLate}
	}
	return outcome{status: OK, write: true}
}

func decideOut(t *target, at time.Time, offline bool, r rules) outcome {
	opens, closes := t.window()
	switch {
	case t.status == registration.StatusCONFIRMED:
		return outcome{status: NotCheckedIn}
	case at.Before(opens):
		return outcome{status: TooEarly}
	case t.checkedInAt != nil && at.Before(*t.checkedInAt):
		return outcome{status: NotCheckedIn}
	case t.status == registration.StatusCHECKED_OUT:
		// An earlier scan wins; so does a real scan over the check-out linli
		// made when nobody checked out.
		if offline && t.checkedOutAt != nil && at.Before(*t.checkedOutAt) || !at.After(closes.Add(r.grace)) {
			return outcome{status: OK, earlier: true, fallback: AlreadyCheckedOut}
		}
		return outcome{status: AlreadyCheckedOut}
	case at.After(closes.Add(r.grace)):
		return outcome{status: TooLate}
	case t.volunteer() && t.checkedInAt != nil && creditsNothing(t, *t.checkedInAt, at, r.grace):
		// Never a record of 0 minutes: the volunteer stays checked in and
		// checks out later (or linli closes it at the slot's end).
		return outcome{status: NoTimeServed}
	}
	return outcome{status: OK, write: true}
}

// creditsNothing reports whether a check-out at out after a check-in at in
// would credit no whole minute (served).
func creditsNothing(t *target, in, out time.Time, grace time.Duration) bool {
	_, _, m := t.served(in, out, grace)
	return m == 0
}

// served is the part of [in, out] inside the registration's door window
// (Window, plus the check-out grace): what a service record credits. A
// volunteer who comes early to set up is credited from the check-in; a
// time outside the window (a forged or mistaken one) counts only up to
// its edge, and staff correct a record when it should
// (hours.CorrectServiceRecord).
func (t *target) served(in, out time.Time, grace time.Duration) (start, end time.Time, minutes int) {
	return Served(t.activity, t.slot, grace, in, out)
}

// Served is the part of in to out that a service record of slot sl of
// activity a credits: bounded by the door's window, from check-in opening
// (Window) to the slot's end plus grace (the check-out grace). This is the
// one place that bound is written.
func Served(a *ent.Activity, sl *ent.Slot, grace time.Duration, in, out time.Time) (start, end time.Time, minutes int) {
	from, to := Window(a, sl)
	to = to.Add(grace)
	start, end = in, out
	if start.Before(from) {
		start = from
	}
	if end.After(to) {
		end = to
	}
	if end.Before(start) {
		end = start
	}
	return start, end, hours.Minutes(start, end)
}
