// Package scan holds check-in and check-out at the door: scans of QR codes
// online, by hand (manual.go), walk-ins (walkin.go) and offline uploads
// (offline.go, with the check-in list a kiosk validates codes against),
// undo, rotating a code, the live feed of scans for staff, and closing the
// check-outs nobody made (closer.go). The check-in decision is decide in
// decide.go, and the check-in window is Window there. A check-out of a
// volunteer position writes its service record (records.go), which package
// hours reads.
//
// Every scan is answered with a status and a message for the tablet, and
// recorded in check_in_scans under the scanning device's nonce, so a retry
// of the same scan returns the first answer and changes nothing. A scan that
// changes a registration does it through package ledger (ledger/checkin*.go,
// ledger/walkin.go), like every other counter change in linli: in one Ent
// transaction that first bumps the activity's counts_version (which orders
// it with sign-ups and cancellations), then moves the registration with a
// conditional update on its status, so two scans can never both check the
// same person in, and adjusts the slot's checked_in counter. Online scans
// go through the ledger's batcher (batch.go): those that arrive together
// share that transaction, one lock statement, one update per kind of move
// and one insert of their scans, each still decided by decide. The same
// code runs on SQLite and PostgreSQL. Events go out after commit.
//
// checked_in counts the seats of registrations that came: CHECKED_IN and
// CHECKED_OUT. A check-out leaves it alone; an undo gives it back.
package scan

import (
	"time"

	"linli/ent"
	"linli/events"
	"linli/ledger"
)

// DefaultCheckOutGrace is how long after a slot's end a check-out is still
// taken unless Options say otherwise.
const DefaultCheckOutGrace = 2 * time.Hour

// Options tune a Service. Zero fields take the defaults in parentheses.
type Options struct {
	// CheckOutGrace is how long after the end of a slot a check-out is still
	// taken, and when a missing one is closed (2 h).
	CheckOutGrace time.Duration
	// OfflineMaxAge is how old a scan made offline may be when it arrives
	// (72 h); older ones are answered TOO_LATE.
	OfflineMaxAge time.Duration
	// WalkInsPerMinute and WalkInBurst bound walk-ins per kiosk and per
	// staff member (6 a minute after a burst of 20; negative: no limit).
	WalkInsPerMinute float64
	WalkInBurst      int
	// BackEntryDays is how long after an activity ended its paper sign-in
	// sheet may be entered (DefaultBackEntryDays).
	BackEntryDays int
	// SelfCheckInKey is the secret self check-in codes are made under
	// (selfcheckin.go); without it self check-in is off.
	SelfCheckInKey []byte
	// SelfCheckInsPerMinute and SelfCheckInBurst bound self check-ins per
	// person (6 a minute after a burst of 10).
	SelfCheckInsPerMinute float64
	SelfCheckInBurst      int
}

// Service runs check-ins over a database.
type Service struct {
	client  *ent.Client
	events  events.Publisher
	ledger  *ledger.Ledger
	rules   rules
	walkIns *walkInLimiter
	now     func() time.Time

	self      *selfCodes
	selfLimit *walkInLimiter

	backEntryDays int
}

// New returns a Service over client that announces committed changes to
// pub and changes seat counters through l.
func New(client *ent.Client, pub events.Publisher, l *ledger.Ledger, o Options) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	if o.CheckOutGrace <= 0 {
		o.CheckOutGrace = DefaultCheckOutGrace
	}
	if o.OfflineMaxAge <= 0 {
		o.OfflineMaxAge = 72 * time.Hour
	}
	if o.WalkInsPerMinute == 0 {
		o.WalkInsPerMinute = 6
	}
	if o.BackEntryDays <= 0 {
		o.BackEntryDays = DefaultBackEntryDays
	}
	if o.WalkInBurst <= 0 {
		o.WalkInBurst = 20
	}
	if o.SelfCheckInsPerMinute == 0 {
		o.SelfCheckInsPerMinute = 6
	}
	if o.SelfCheckInBurst <= 0 {
		o.SelfCheckInBurst = 10
	}
	return &Service{
		client: client, events: pub, ledger: l,
		rules:   rules{grace: o.CheckOutGrace, maxAge: o.OfflineMaxAge},
		walkIns: newWalkInLimiter(o.WalkInsPerMinute, o.WalkInBurst),
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },

		backEntryDays: o.BackEntryDays,
		self:          newSelfCodes(o.SelfCheckInKey),
		selfLimit:     newWalkInLimiter(o.SelfCheckInsPerMinute, o.SelfCheckInBurst),
	}
}

func (s *Service) publish(evs ...events.Event) {
	if len(evs) > 0 {
		s.events.Publish(evs...)
	}
}

// changeEvents are what a check-in, check-out or undo announces: one
// CheckIn event, which live subscribers of the activity's counts take as a
// change of its counters too (a separate Counts event would make every
// replica re-read them twice).
func changeEvents(communityID, activityID, registrationID, personID int, change string) []events.Event {
	return []events.Event{{Kind: events.CheckIn, CommunityID: communityID, ActivityID: activityID,
		RegistrationID: registrationID, PersonID: personID, Change: change}}
}
