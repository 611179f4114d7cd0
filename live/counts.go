package live

import (
	"context"
	"database/sql"
	"runtime"
	"slices"
	"sync"

	"time"
)

// countsWatcher serves every subscriber of one activity's counts on this
// replica: poked by events, it re-reads the counters (one query, at most once
// per MinInterval) and hands the snapshot to each subscriber.
type countsWatcher struct {
	b          *Broker
	activityID int
	poke       chan struct{}
	done       chan struct{}

	mu     sync.Mutex
	subs   map[*countsSub]struct{}
	latest *Snapshot
	// dbVersion is the counts_version of latest; version is what
	// subscribers see: counts_version, or above it when the counters moved
	// without counts_version moving, so it only grows.
	dbVersion int64
	version   int64
}

// countsSub is one subscription, receiving either plain counts (for the
// generic executor) or snapshots (for CountsSnapshots). Its channel holds at
// most one: a newer one replaces an unread older one, so a slow reader skips
// to the latest state instead of holding up anyone.
type countsSub struct {
	plain chan *ActivityCounts
	snaps chan *Snapshot
	sent  int
}

func (s *countsSub) offer(snap *Snapshot) {
	if snap.counts.Version <= s.sent {
		return
	}
	s.sent = snap.counts.Version
	if s.snaps != nil {
		// One-place channels: the newest snapshot displaces an unread one.
		offerDropOldest(s.snaps, snap)
	} else {
		offerDropOldest(s.plain, snap.counts)
	}
}

// subscribeCounts attaches a subscriber to the activity's watcher, starting
// one if needed; it leaves when ctx ends. The caller has authorized it.
func (b *Broker) subscribeCounts(ctx context.Context, activityID int) (<-chan *ActivityCounts, error) {
	sub := &countsSub{plain: make(chan *ActivityCounts, 1), sent: -1}
	if err := b.attachCounts(ctx, activityID, sub); err != nil {
		return nil, err
	}
	return sub.plain, nil
}

func (b *Broker) subscribeSnapshots(ctx context.Context, activityID int) (<-chan *Snapshot, error) {
	sub := &countsSub{snaps: make(chan *Snapshot, 1), sent: -1}
	if err := b.attachCounts(ctx, activityID, sub); err != nil {
		return nil, err
	}
	return sub.snaps, nil
}

func (b *Broker) attachCounts(ctx context.Context, activityID int, sub *countsSub) error {
	b.mu.Lock()
	if b.ctx.Err() != nil {
		b.mu.Unlock()
		return errClosed
	}
	w := b.counts[activityID]
	if w == nil {
		w = &countsWatcher{
			b: b, activityID: activityID,
			poke: make(chan struct{}, 1), done: make(chan struct{}),
			subs: map[*countsSub]struct{}{},
		}
		b.counts[activityID] = w
		w.poke <- struct{}{}
		b.wg.Add(1)
		go w.run()
	}
	w.mu.Lock()
	w.subs[sub] = struct{}{}
	if w.latest != nil {
		sub.offer(w.latest)
	}
	w.mu.Unlock()
	b.mu.Unlock()
	context.AfterFunc(ctx, func() { b.unsubscribeCounts(w, sub) })
	return nil
}

func (b *Broker) unsubscribeCounts(w *countsWatcher, sub *countsSub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w.mu.Lock()
	delete(w.subs, sub)
	empty := len(w.subs) == 0
	w.mu.Unlock()
	if empty && b.counts[w.activityID] == w {
		delete(b.counts, w.activityID)
		close(w.done)
	}
}

func (b *Broker) pokeCounts(activityID int) {
	if activityID == 0 {
		return
	}
	b.mu.Lock()
	w := b.counts[activityID]
	b.mu.Unlock()
	if w != nil {
		w.wake()
	}
}

func (b *Broker) pokeAllCounts() {
	b.mu.Lock()
	ws := make([]*countsWatcher, 0, len(b.counts))
	for _, w := range b.counts {
		ws = append(ws, w)
	}
	b.mu.Unlock()
	for _, w := range ws {
		w.wake()
	}
}

func (w *countsWatcher) wake() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

func (w *countsWatcher) size() (all, fast int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for s := range w.subs {
		if s.snaps != nil {
			fast++
		}
	}
	return len(w.subs), fast
}

func (w *countsWatcher) run() {
	defer w.b.wg.Done()
	pause := time.NewTimer(0)
	<-pause.C
	defer pause.Stop()
	failures := 0
	for {
		select {
		case <-w.done:
			return
		case <-w.b.ctx.Done():
			return
		case <-w.poke:
		}
		start := time.Now()
		// Reads start at most once per MinInterval; a change during the
		// pause is coalesced into the next read. Time spent reading and
		// handing out counts toward the pause.
		wait := w.b.opts.MinInterval
		if err := w.refresh(); err != nil {
			failures++
			wait = min(time.Duration(failures)*100*time.Millisecond, 2*time.Second)
			w.b.log.Warn("re-read activity counts", "activity", w.activityID, "error", err.Error())
			w.wake() // try again after the pause
		} else {
			failures = 0
		}
		wait -= time.Since(start)
		if wait <= 0 {
			continue
		}
		pause.Reset(wait)
		select {
		case <-w.done:
			return
		case <-w.b.ctx.Done():
			return
		case <-pause.C:
		}
	}
}

// refresh reads the counters and, if they moved, hands them out.
func (w *countsWatcher) refresh() error {
	started := time.Now()
	ctx, cancel := context.WithTimeout(w.b.ctx, 5*time.Second)
	defer cancel()
	dbVersion, slots, found, err := w.b.readCounts(ctx, w.activityID)
	if err != nil || !found {
		return err
	}
	snap, subs := w.advance(dbVersion, slots)
	// Every offer readies a subscriber's goroutine. Readied all at once,
	// thousands of them spill into the scheduler's global queue, and the
	// goroutines that bring the next change (the listener, this watcher,
	// the database driver) wait behind all of them. Yielding every few
	// dozen offers keeps that queue short without slowing the hand-out.
	// A subscriber that joins meanwhile gets the snapshot as it joins; one
	// that leaves is offered it with nobody left to read it.
	for i, s := range subs {
		s.offer(snap)
		if i%64 != 63 {
			continue
		}
		runtime.Gosched()
		// When a newer change is waiting and the rate bound allows a read,
		// the subscribers not yet served get the newer state instead of
		// waiting for this one to reach everybody; they are first in line
		// next time, so none is passed over twice.
		if len(w.poke) > 0 && time.Since(started) >= w.b.opts.MinInterval {
			return nil
		}
	}
	return nil
}

// advance records a reading and returns the latest snapshot with the
// subscribers that do not have it yet: first those an earlier hand-out, cut
// short by a newer reading, did not reach, then the rest.
func (w *countsWatcher) advance(dbVersion int64, slots []*SlotCounts) (*Snapshot, []*countsSub) {
	w.mu.Lock()
	defer w.mu.Unlock()
	previous := 0
	if w.latest != nil {
		previous = w.latest.counts.Version
	}
	moved := true
	switch {
	case w.latest == nil:
		w.version = dbVersion
	case dbVersion > w.version:
		w.version = dbVersion
	case dbVersion > w.dbVersion || !slices.EqualFunc(slots, w.latest.counts.Slots, sameCounts):
		w.version++
	default:
		moved = false
	}
	if moved {
		w.dbVersion = dbVersion
		w.latest = &Snapshot{counts: &ActivityCounts{ActivityID: w.activityID, Version: int(w.version), Slots: slots}}
	}
	latest := w.latest.counts.Version
	var behind, rest []*countsSub
	for s := range w.subs {
		switch {
		case s.sent >= latest:
		case s.sent < previous:
			behind = append(behind, s)
		default:
			rest = append(rest, s)
		}
	}
	return w.latest, append(behind, rest...)
}

func sameCounts(a, b *SlotCounts) bool { return *a == *b }

// countsQuery reads an activity's counts_version and its slots' counters in
// one statement, so they are consistent with each other.
const countsQuery = `SELECT a.counts_version, s.id, s.capacity, s.taken, s.waitlisted, s.checked_in
FROM activities a LEFT JOIN slots s ON s.activity_id = a.id
WHERE a.id = ? ORDER BY s.id`

// countsStmt is countsQuery prepared once: every change to a watched
// activity re-reads it, and planning it each time cost a fifth of a
// check-in's time through the stack.
func (b *Broker) countsStmt(ctx context.Context) (*sql.Stmt, error) {
	if st := b.counted.Load(); st != nil {
		return st, nil
	}
	st, err := b.db.SQL.PrepareContext(ctx, b.db.Rebind(countsQuery))
	if err != nil {
		return nil, err
	}
	if !b.counted.CompareAndSwap(nil, st) {
		st.Close()
	}
	return b.counted.Load(), nil
}

// readCounts reads an activity's counts (see countsQuery).
func (b *Broker) readCounts(ctx context.Context, activityID int) (version int64, slots []*SlotCounts, found bool, err error) {
	var rows *sql.Rows
	if b.db.Pooled {
		// Behind a transaction-mode pooler a prepared statement does not
		// outlive its transaction (store/pooling.go).
		rows, err = b.db.SQL.QueryContext(ctx, b.db.Rebind(countsQuery), activityID)
	} else {
		var st *sql.Stmt
		if st, err = b.countsStmt(ctx); err != nil {
			return 0, nil, false, err
		}
		rows, err = st.QueryContext(ctx, activityID)
	}
	if err != nil {
		return 0, nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		found = true
		var id, capacity, taken, waitlisted, checkedIn *int64
		if err := rows.Scan(&version, &id, &capacity, &taken, &waitlisted, &checkedIn); err != nil {
			return 0, nil, false, err
		}
		if id == nil {
			continue // an activity without slots
		}
		slots = append(slots, &SlotCounts{
			SlotID: int(*id), Capacity: int(*capacity), Taken: int(*taken),
			Waitlisted: int(*waitlisted), CheckedIn: int(*checkedIn),
		})
	}
	return version, slots, found, rows.Err()
}
