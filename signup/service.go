// Package signup holds sign-ups: taking seats in a slot, the first-come
// first-served waitlist that promotes by itself, approval by staff, consent
// for health activities, idempotent retries, and the reads that go with them.
//
// Capacity is enforced by the database, never by Go: every change to a slot's
// counters is one conditional UPDATE (taken + n <= capacity), with the CHECK
// constraint on slots as a backstop. Every writing transaction first bumps
// its activity's counts_version, which serialises the writers of one activity
// (a row lock on PostgreSQL, the single writer on SQLite), gives live
// subscribers a version, and gives each queued registration its place
// (queue_seq) in commit order.
//
// Counters are sums of seats: taken over CONFIRMED, CHECKED_IN and
// CHECKED_OUT registrations, waitlisted over WAITLISTED, pending over
// PENDING_APPROVAL. A pending sign-up holds no seat: approval takes one if it
// is free and nobody waits, and joins the waitlist otherwise. So rejecting
// never has to promote anyone, and seats are not blocked by sign-ups staff
// may still turn down.
//
// Nobody overtakes the line: a new sign-up is confirmed only while nobody
// waits, and promotion stops at the first waiting registration whose seats do
// not fit.
package signup

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"linli/ent"
	"linli/events"
	"linli/store"
)

// Service runs sign-ups over a database.
type Service struct {
	db     *store.DB
	client *ent.Client
	events events.Publisher
	now    func() time.Time

	// SingleStatement makes a sign-up on PostgreSQL one statement (a CTE that
	// checks the rules, bumps the activity, takes the seats and inserts the
	// registration) instead of a transaction of several: 1.4–1.8× the
	// sign-ups per second on a hot slot (bench/signup -tx). SQLite always
	// uses the transaction.
	SingleStatement bool

	// write replaces the sign-up's write step in tests (the negative control).
	write func(ctx context.Context, p *writeParams) (writeResult, error)

	lastPurge    atomic.Int64
	sqliteWriter sync.Mutex
}

// New returns a Service over db that announces committed changes to pub
// (nil discards them).
func New(db *store.DB, pub events.Publisher) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	return &Service{
		db:              db,
		client:          db.Client,
		events:          pub,
		now:             func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SingleStatement: !db.IsSQLite(),
	}
}

// SetPublisher replaces where committed changes are announced.
func (s *Service) SetPublisher(pub events.Publisher) {
	if pub == nil {
		pub = events.Discard{}
	}
	s.events = pub
}

func (s *Service) publish(evs []events.Event) {
	if len(evs) > 0 {
		s.events.Publish(evs...)
	}
}

func countsEvent(communityID, activityID int) events.Event {
	return events.Event{Kind: events.Counts, CommunityID: communityID, ActivityID: activityID}
}

// Changes announced to the person whose registration someone else changed.
const (
	ChangePromoted  = "PROMOTED"
	ChangeApproved  = "APPROVED"
	ChangeRejected  = "REJECTED"
	ChangeCancelled = "CANCELLED"
)

func registrationEvent(communityID, activityID, registrationID, personID int, change string) events.Event {
	return events.Event{
		Kind: events.Registration, CommunityID: communityID, ActivityID: activityID,
		RegistrationID: registrationID, PersonID: personID, Change: change,
	}
}
