// Package ledger owns every change to seat counters: sign-ups, cancelling,
// approval and rejection, the first-come first-served waitlist that promotes
// by itself, capacity changes, cancelling an activity's registrations, and
// (ledger/checkin*.go, ledger/walkin*.go) check-ins and walk-ins. It runs
// the same code on SQLite and PostgreSQL.
//
// Each rule lives once, in rules.go: the sign-up window (a Go function and
// the Ent predicate the listing filter uses, side by side), eligibility,
// capacity and the waitlist order. Who may act is decided by authz (Ent
// privacy, and authz/ledger.go for the ledger's own steps).
//
// Capacity is enforced by the database as well as by Go: every change to a
// slot's counters is one conditional UPDATE (taken + n <= capacity), with
// the CHECK constraint on slots as a backstop. Every writing transaction
// first bumps its activity's counts_version (Lock), which serialises the
// writers of one activity across processes (a row lock on PostgreSQL, the
// single writer on SQLite), gives live subscribers a version, and gives
// each queued registration its place (queue_seq) in commit order.
//
// Writes are batched (batcher.go): requests that arrive while a write is in
// flight are decided together, in arrival order, in one transaction that
// locks each of their activities once (one statement for all), writes the
// changed slots' counters in one guarded statement and inserts the new
// registrations in one statement. An idle system runs a request alone at
// once. If a batch fails as a whole, its requests run again one at a time.
// Scans at the door batch the same way (checkinbatch.go): the scanner
// decides each, the ledger writes their moves set-wise, checked_in in the
// same guarded counter statement and their scans in one insert.
//
// Counters are sums of seats: taken over CONFIRMED, CHECKED_IN,
// CHECKED_OUT and OFFERED (offer.go) registrations, waitlisted over WAITLISTED, pending over
// PENDING_APPROVAL. A pending sign-up holds no seat: approval takes one if
// it is free and nobody waits, and joins the waitlist otherwise. Nobody
// overtakes the line: a new sign-up is confirmed only while nobody waits,
// and promotion stops at the first waiting registration whose seats do not
// fit.
package ledger

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"linli/ent"
	"linli/events"
	"linli/store"
)

// Ledger changes seat counters over one database.
type Ledger struct {
	db     *store.DB
	client *ent.Client
	events events.Publisher

	batches batcher
	stats   stats

	lastPurge atomic.Int64
	// slotActivity caches each slot's activity (immutable).
	slotActivity sync.Map

	// bypass, nil in production, replaces the batched, locked write (the
	// storm test's negative control sets it in export_test.go).
	bypass func(ctx context.Context, o Op) error
}

// New returns a Ledger over db that announces committed changes to pub
// (nil discards them).
func New(db *store.DB, pub events.Publisher) *Ledger {
	if pub == nil {
		pub = events.Discard{}
	}
	l := &Ledger{db: db, client: db.Client, events: pub}
	l.batches.queues = map[int]*queue{}
	return l
}

// now is the ledger's clock, at the precision both databases store.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (l *Ledger) publish(evs []events.Event) {
	if len(evs) > 0 {
		l.events.Publish(evs...)
	}
}

// Stats counts the ledger's transactions since it was made.
type Stats struct {
	// Batches is how many batched transactions committed, Ops how many
	// operations they carried (Ops/Batches is the mean batch size).
	Batches, Ops int64
	// MaxBatch is the largest batch committed.
	MaxBatch int64
	// Fallbacks counts batches that failed as a whole and were run again
	// one operation at a time.
	Fallbacks int64
}

type stats struct{ batches, ops, maxBatch, fallbacks atomic.Int64 }

// Stats returns the ledger's counts so far.
func (l *Ledger) Stats() Stats {
	return Stats{Batches: l.stats.batches.Load(), Ops: l.stats.ops.Load(),
		MaxBatch: l.stats.maxBatch.Load(), Fallbacks: l.stats.fallbacks.Load()}
}

func (s *stats) committed(n int) {
	s.batches.Add(1)
	s.ops.Add(int64(n))
	for {
		m := s.maxBatch.Load()
		if int64(n) <= m || s.maxBatch.CompareAndSwap(m, int64(n)) {
			return
		}
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
