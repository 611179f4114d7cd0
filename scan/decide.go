package scan

import (
	"database/sql"
	"fmt"
	"time"

	"linli/ent/checkinscan"
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
)

// Kinds of scan.
const (
	In   = checkinscan.KindIN
	Out  = checkinscan.KindOUT
	Undo = checkinscan.KindUNDO
)

// target is a registration as a scan sees it.
type target struct {
	regID, personID, slotID, activityID, communityID, seats int
	status                                                  string
	checkedInAt, checkedOutAt                               sql.NullTime
	slotKind                                                string
	slotStarts, slotEnds                                    sql.NullTime
	venueID                                                 sql.NullInt64
	activityStatus                                          string
	starts, ends                                            time.Time
	opensMinutes                                            int
	name                                                    string
}

func (t *target) dest() []any {
	return []any{&t.regID, &t.personID, &t.slotID, &t.activityID, &t.communityID, &t.seats, &t.status,
		&t.checkedInAt, &t.checkedOutAt, &t.slotKind, &t.slotStarts, &t.slotEnds,
		&t.venueID, &t.activityStatus, &t.starts, &t.ends, &t.opensMinutes, &t.name}
}

// window is when check-in is open for the registration: from
// checkin_opens_minutes before the start of its slot (the activity's when
// the slot has no times of its own) to the end.
func (t *target) window() (opens, closes time.Time) {
	start, end := t.starts, t.ends
	if t.slotStarts.Valid {
		start = t.slotStarts.Time
	}
	if t.slotEnds.Valid {
		end = t.slotEnds.Time
	}
	return start.Add(-time.Duration(t.opensMinutes) * time.Minute), end
}

func (t *target) volunteer() bool { return t.slotKind == "VOLUNTEER" }

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
// where the check-in rules live; checkInByCodeCTE repeats only the plain
// OK of a fresh check-in (confirmed, this community, venue and activity,
// inside the window) and leaves everything else to decide.
//
// Every time a scan writes is inside the registration's window: a
// check-in (or an offline scan moving one earlier) from its opening to
// the end, a check-out from its opening to the end and the grace after it.
// Only scans made offline (timed by the kiosk) may move a recorded time
// earlier, and only within maxAge of now: online scans racing each other
// are decided in the order the database takes them.
func decide(kind checkinscan.Kind, t *target, who scanner, activityID int, at, now time.Time, offline bool, r rules) outcome {
	switch {
	case t == nil, !who.admin && t.communityID != who.communityID:
		return outcome{status: UnknownCode}
	case who.kioskID != 0 && (!t.venueID.Valid || int(t.venueID.Int64) != who.venueID):
		return outcome{status: WrongVenue}
	case activityID != 0 && t.activityID != activityID:
		return outcome{status: WrongActivity}
	case t.status == "CANCELLED", t.activityStatus == "CANCELLED":
		return outcome{status: Cancelled}
	case t.status == "WAITLISTED", t.status == "PENDING_APPROVAL":
		return outcome{status: NotConfirmed}
	case t.status == "NO_SHOW":
		return outcome{status: TooLate}
	case offline && at.Before(now.Add(-r.maxAge)):
		return outcome{status: TooLate, message: fmt.Sprintf("离线扫码已超过 %d 小时，不能补录；请工作人员核实", int(r.maxAge.Hours()))}
	}
	opens, closes := t.window()
	if kind == In {
		switch {
		case t.status == "CHECKED_IN" || t.status == "CHECKED_OUT":
			if offline && t.checkedInAt.Valid && at.Before(t.checkedInAt.Time) {
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
	switch {
	case t.status == "CONFIRMED":
		return outcome{status: NotCheckedIn}
	case at.Before(opens):
		return outcome{status: TooEarly}
	case t.checkedInAt.Valid && at.Before(t.checkedInAt.Time):
		return outcome{status: NotCheckedIn}
	case t.status == "CHECKED_OUT":
		// An earlier scan wins; so does a real scan over the check-out linli
		// made when nobody checked out.
		if offline && t.checkedOutAt.Valid && at.Before(t.checkedOutAt.Time) || !at.After(closes.Add(r.grace)) {
			return outcome{status: OK, earlier: true, fallback: AlreadyCheckedOut}
		}
		return outcome{status: AlreadyCheckedOut}
	case at.After(closes.Add(r.grace)):
		return outcome{status: TooLate}
	}
	return outcome{status: OK, write: true}
}

// served is the part of [in, out] inside the registration's slot (the
// activity's times when the slot has none): what a service record credits.
// Arriving early or leaving late counts nothing more; staff correct a
// record when it should (correctServiceRecord).
func (t *target) served(in, out time.Time) (start, end time.Time, minutes int) {
	from, to := t.starts, t.ends
	if t.slotStarts.Valid {
		from = t.slotStarts.Time
	}
	if t.slotEnds.Valid {
		to = t.slotEnds.Time
	}
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
