// Package checkin holds check-in and check-out at the door: kiosk devices
// and their tokens, scans of QR codes (online, by hand, walk-ins, offline
// uploads), undo, the service records volunteers' hours come from, star
// levels and service certificates.
//
// Every scan is answered with a status and a message for the tablet, and
// recorded in check_in_scans under the scanning device's nonce, so a retry
// of the same scan returns the first answer and changes nothing. A scan that
// changes a registration runs like every other counter change in linli: it
// first bumps the activity's counts_version (which orders it with sign-ups
// and cancellations), then moves the registration with a conditional UPDATE
// (… WHERE status = 'CONFIRMED'), so two scans can never both check the same
// person in, and adjusts the slot's checked_in counter in the same
// transaction. Events go out after commit.
//
// checked_in counts the seats of registrations that came: CHECKED_IN and
// CHECKED_OUT. A check-out leaves it alone; an undo gives it back.
package checkin

import (
	"sync"
	"time"

	"linli/ent"
	"linli/events"
	"linli/ledger"
	"linli/store"
)

// Options tune a Service. Zero fields take the defaults in parentheses.
type Options struct {
	// CheckOutGrace is how long after the end of a slot a check-out is still
	// taken, and when a missing one is closed (2 h).
	CheckOutGrace time.Duration
	// OfflineMaxAge is how old a scan made offline may be when it arrives
	// (72 h); older ones are answered TOO_LATE.
	OfflineMaxAge time.Duration
	// SingleStatement makes a check-in on PostgreSQL one statement instead
	// of a transaction of four (true on PostgreSQL).
	SingleStatement *bool
	// KioskCacheTTL is how long a kiosk token, once checked, is trusted
	// without asking the database (5 s; negative: ask every time). Revoking
	// takes effect at once on the replica that revoked, within this on the
	// others.
	KioskCacheTTL time.Duration
	// WalkInsPerMinute and WalkInBurst bound walk-ins per kiosk and per
	// staff member (6 a minute after a burst of 20; negative: no limit).
	WalkInsPerMinute float64
	WalkInBurst      int
}

// Service runs check-ins over a database.
type Service struct {
	db      *store.DB
	client  *ent.Client
	events  events.Publisher
	signups *ledger.Ledger
	rules   rules
	single  bool
	kiosks  *kioskCache
	walkIns *walkInLimiter
	now     func() time.Time

	// stmts holds prepared statements by query (*sql.Stmt).
	stmts sync.Map
}

// New returns a Service over db that announces committed changes to pub and
// registers walk-ins through signups.
func New(db *store.DB, pub events.Publisher, signups *ledger.Ledger, o Options) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	if o.CheckOutGrace <= 0 {
		o.CheckOutGrace = 2 * time.Hour
	}
	if o.OfflineMaxAge <= 0 {
		o.OfflineMaxAge = 72 * time.Hour
	}
	if o.KioskCacheTTL == 0 {
		o.KioskCacheTTL = 5 * time.Second
	}
	if o.WalkInsPerMinute == 0 {
		o.WalkInsPerMinute = 6
	}
	if o.WalkInBurst <= 0 {
		o.WalkInBurst = 20
	}
	single := !db.IsSQLite()
	if o.SingleStatement != nil {
		single = *o.SingleStatement && single
	}
	return &Service{
		db: db, client: db.Client, events: pub, signups: signups,
		rules: rules{grace: o.CheckOutGrace, maxAge: o.OfflineMaxAge}, single: single, kiosks: newKioskCache(o.KioskCacheTTL),
		walkIns: newWalkInLimiter(o.WalkInsPerMinute, o.WalkInBurst),
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
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
