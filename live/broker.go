// Package live delivers linli's committed changes to subscribers: seat counts
// of an activity, a community's activity feed, and a person's registration
// updates. A Broker is the events.Publisher that writers call after commit.
// Within one process it fans events out directly; with PostgreSQL it also
// sends them, batched, through NOTIFY so every replica sees every change, and
// after its LISTEN connection comes back it re-reads everything its
// subscribers watch, because events sent in the gap are lost.
//
// Events are hints: counts subscribers are served by one watcher per activity
// that re-reads the counters from the database (one query, at a bounded rate)
// and hands every subscriber the newest snapshot, so a burst of changes costs
// a few reads and nobody ends on a stale state.
package live

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"linli/ent"
	"linli/events"
	"linli/store"
)

// Options tune a Broker. Zero fields take the defaults in parentheses.
type Options struct {
	// MinInterval spaces the re-reads of one activity's counts (25 ms):
	// changes inside it are coalesced into one read.
	MinInterval time.Duration
	// ResyncInterval re-reads every watched activity even without events
	// (30 s), a safety net under lost notifications.
	ResyncInterval time.Duration
	// Channel is the PostgreSQL NOTIFY channel ("linli_events").
	Channel string
	// ReconnectMin and ReconnectMax bound the listener's reconnect backoff
	// (100 ms, 2 s).
	ReconnectMin, ReconnectMax time.Duration
	// SubscriberBuffer is how many feed or registration events wait for a
	// slow subscriber before the oldest is dropped (16).
	SubscriberBuffer int
	Logger           *slog.Logger
	// Revoked is called for every Session, Kiosk and Person event (a
	// credential that stopped working, a person whose roles or teams
	// changed) from this replica or another. It runs on the publisher's
	// goroutine, before Publish returns, or on the listener's, so it must
	// not block: what takes time (closing sockets) goes on a goroutine of
	// its own.
	Revoked func(events.Event)
	// Resynced is called, on a goroutine of its own, after the listener
	// reconnected: Session, Kiosk and Person events sent meanwhile are lost,
	// so whoever acts on them re-checks.
	Resynced func()
}

func (o Options) withDefaults() Options {
	if o.MinInterval <= 0 {
		o.MinInterval = 25 * time.Millisecond
	}
	if o.ResyncInterval <= 0 {
		o.ResyncInterval = 30 * time.Second
	}
	if o.Channel == "" {
		o.Channel = "linli_events"
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = 100 * time.Millisecond
	}
	if o.ReconnectMax <= 0 {
		o.ReconnectMax = 2 * time.Second
	}
	if o.SubscriberBuffer <= 0 {
		o.SubscriberBuffer = 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Broker is linli's events.Publisher and the source of its subscriptions.
type Broker struct {
	db     *store.DB
	client *ent.Client
	opts   Options
	log    *slog.Logger
	// origin tells this replica's notifications apart from the others'.
	origin string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	counts map[int]*countsWatcher
	feeds  map[int]map[*feedSub]struct{} // by community
	regs   map[int]map[*regSub]struct{}  // by person
	reqs   requestSubs
	notifs notifSubs

	// queue holds feed and registration events for the dispatcher, which
	// loads their rows; counts events never wait behind it.
	queue *eventQueue
	// out batches events into NOTIFY; nil without PostgreSQL.
	out *notifier
	pg  *pgListener
	// counted is the prepared counts query (see countsStmt).
	counted atomic.Pointer[sql.Stmt]
}

var _ events.Publisher = (*Broker)(nil)

// New starts a broker over db. With PostgreSQL its listener connects in the
// background; Ready waits for it.
func New(db *store.DB, o Options) *Broker {
	o = o.withDefaults()
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	bctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		db:     db,
		client: db.Client,
		opts:   o,
		log:    o.Logger.With(slog.String("component", "live")),
		origin: hex.EncodeToString(id),
		ctx:    bctx,
		cancel: cancel,
		counts: map[int]*countsWatcher{},
		feeds:  map[int]map[*feedSub]struct{}{},
		regs:   map[int]map[*regSub]struct{}{},
		queue:  newEventQueue(10000),
	}
	b.wg.Add(2)
	go b.dispatchLoop()
	go b.resyncLoop()
	if db.URL != "" {
		b.out = newNotifier(b)
		b.wg.Add(1)
		go b.out.run()
		b.pg = startListener(b)
	}
	return b
}

// Ready returns once the broker receives other replicas' events (at once
// without PostgreSQL), or with the reason it cannot.
func (b *Broker) Ready(ctx context.Context) error {
	if b.pg == nil {
		return nil
	}
	select {
	case <-b.pg.ready:
		return b.pg.err
	case <-ctx.Done():
		return fmt.Errorf("live: waiting for LISTEN: %w", ctx.Err())
	}
}

// Close stops the broker; open subscriptions receive nothing more.
func (b *Broker) Close() {
	// Under mu, so no subscriber starts a watcher after Wait begins.
	b.mu.Lock()
	b.cancel()
	b.mu.Unlock()
	if b.pg != nil {
		b.pg.close()
	}
	b.wg.Wait()
	if st := b.counted.Load(); st != nil {
		st.Close()
	}
}

// Publish implements events.Publisher. It never blocks on subscribers or on
// the database.
func (b *Broker) Publish(evs ...events.Event) {
	if len(evs) == 0 || b.ctx.Err() != nil {
		return
	}
	b.deliverLocal(evs)
	if b.out != nil {
		b.out.push(evs)
	}
}

// deliverLocal hands events to this replica's subscribers: counts watchers
// are poked at once, the rest queue for the dispatcher.
func (b *Broker) deliverLocal(evs []events.Event) {
	var slow []events.Event
	for _, ev := range evs {
		switch ev.Kind {
		case events.Counts:
			b.pokeCounts(ev.ActivityID)
		case events.CheckIn:
			b.pokeCounts(ev.ActivityID)
			slow = append(slow, ev)
		case events.Activity:
			b.pokeCounts(ev.ActivityID)
			slow = append(slow, ev)
		case events.Registration, events.Request, events.Notification:
			slow = append(slow, ev)
		case events.Session, events.Kiosk, events.Person:
			if f := b.opts.Revoked; f != nil {
				f(ev)
			}
		}
	}
	if len(slow) > 0 {
		b.queue.push(slow)
	}
}

func (b *Broker) dispatchLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.queue.ready:
		}
		for _, ev := range b.queue.take() {
			if b.ctx.Err() != nil {
				return
			}
			switch ev.Kind {
			case events.Activity:
				b.dispatchActivity(ev)
			case events.Registration, events.CheckIn:
				b.dispatchRegistration(ev)
			case events.Request:
				b.dispatchRequest(ev)
			case events.Notification:
				b.dispatchNotification(ev)
			}
		}
	}
}

// resyncLoop re-reads every watched activity now and then, so a subscriber
// converges to the database even if a notification went missing.
func (b *Broker) resyncLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.opts.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			b.pokeAllCounts()
		}
	}
}

// Stats is what a broker currently serves.
type Stats struct {
	Activities, CountsSubscribers, FeedSubscribers, RegistrationSubscribers int
	// FastCountsSubscribers are the counts subscribers served snapshots
	// (CountsSnapshots), the rest plain counts (ActivityCounts).
	FastCountsSubscribers int
}

// Stats counts watchers and subscribers.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{Activities: len(b.counts)}
	for _, w := range b.counts {
		n, fast := w.size()
		s.CountsSubscribers += n
		s.FastCountsSubscribers += fast
	}
	for _, m := range b.feeds {
		s.FeedSubscribers += len(m)
	}
	for _, m := range b.regs {
		s.RegistrationSubscribers += len(m)
	}
	return s
}

// eventQueue is an unbounded-until-limit FIFO with a wake-up signal; when
// the limit is reached the oldest events are dropped (they are hints).
type eventQueue struct {
	mu    sync.Mutex
	evs   []events.Event
	limit int
	ready chan struct{}
}

func newEventQueue(limit int) *eventQueue {
	return &eventQueue{limit: limit, ready: make(chan struct{}, 1)}
}

func (q *eventQueue) push(evs []events.Event) {
	q.mu.Lock()
	q.evs = append(q.evs, evs...)
	if over := len(q.evs) - q.limit; over > 0 {
		q.evs = append(q.evs[:0], q.evs[over:]...)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take() []events.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.evs
	q.evs = nil
	return evs
}
