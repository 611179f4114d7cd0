package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/lib/pq"

	"linli/ent/activity"
	"linli/ent/registration"
	"linli/events"
	"linli/viewer"
)

// maxPayload keeps one NOTIFY under PostgreSQL's 8000-byte payload limit.
const maxPayload = 7900

// wireBatch is one NOTIFY payload: the sending replica and its events.
type wireBatch struct {
	Origin string         `json:"o"`
	Events []events.Event `json:"e"`
}

// notifier sends this replica's events to the others through NOTIFY, after
// the writers' commits and outside their transactions. One NOTIFY is in
// flight at a time; events arriving meanwhile wait and go out together, and
// repeated counts events of one activity collapse into one.
type notifier struct {
	b     *Broker
	ready chan struct{}

	mu      sync.Mutex
	pending []events.Event
	counts  map[int]bool // activities with a counts event in pending
}

func newNotifier(b *Broker) *notifier {
	return &notifier{b: b, ready: make(chan struct{}, 1), counts: map[int]bool{}}
}

func (n *notifier) push(evs []events.Event) {
	n.mu.Lock()
	for _, ev := range evs {
		if ev.Kind == events.Counts {
			if n.counts[ev.ActivityID] {
				continue
			}
			n.counts[ev.ActivityID] = true
		}
		n.pending = append(n.pending, ev)
	}
	if over := len(n.pending) - 20000; over > 0 {
		// Only a long database outage gets here; listeners re-read on reconnect.
		n.pending = append(n.pending[:0], n.pending[over:]...)
		n.counts = map[int]bool{}
		for _, ev := range n.pending {
			if ev.Kind == events.Counts {
				n.counts[ev.ActivityID] = true
			}
		}
	}
	n.mu.Unlock()
	select {
	case n.ready <- struct{}{}:
	default:
	}
}

func (n *notifier) take() []events.Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	evs := n.pending
	n.pending = nil
	clear(n.counts)
	return evs
}

func (n *notifier) run() {
	defer n.b.wg.Done()
	for {
		select {
		case <-n.b.ctx.Done():
			return
		case <-n.ready:
		}
		for _, payload := range encodeBatches(n.b.origin, n.take()) {
			if !n.send(payload) {
				return
			}
		}
	}
}

// send retries a payload for up to 30 s: a replica whose listener stayed
// up would otherwise miss it.
func (n *notifier) send(payload string) bool {
	backoff := 50 * time.Millisecond
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(n.b.ctx, 5*time.Second)
		_, err := n.b.db.SQL.ExecContext(ctx, "SELECT pg_notify($1, $2)", n.b.opts.Channel, payload)
		cancel()
		if err == nil {
			notifies.Inc()
			return true
		}
		if n.b.ctx.Err() != nil {
			return false
		}
		if time.Now().After(deadline) {
			n.b.log.Error("notify failed; events dropped", "error", err.Error())
			return true
		}
		n.b.log.Warn("notify failed; retrying", "error", err.Error())
		select {
		case <-n.b.ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// encodeBatches packs events into as few payloads under maxPayload as they fit.
func encodeBatches(origin string, evs []events.Event) []string {
	var out []string
	head := `{"o":` + quote(origin) + `,"e":[`
	buf := []byte(head)
	n := 0
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			continue
		}
		if n > 0 && len(buf)+1+len(b)+2 > maxPayload {
			out = append(out, string(append(buf, "]}"...)))
			buf, n = []byte(head), 0
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
		n++
	}
	if n > 0 {
		out = append(out, string(append(buf, "]}"...)))
	}
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pgListener receives every replica's events through LISTEN.
type pgListener struct {
	b     *Broker
	l     *pq.Listener
	ready chan struct{}
	err   error

	mu        sync.Mutex
	downSince time.Time
}

// startListener connects in the background; ready closes once LISTEN is in
// place (or failed: err says which).
func startListener(b *Broker) *pgListener {
	pl := &pgListener{b: b, ready: make(chan struct{})}
	pl.l = pq.NewListener(b.db.ListenURL, b.opts.ReconnectMin, b.opts.ReconnectMax, pl.event)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		// Listen returns once the first connection is up, however long that takes.
		pl.err = pl.l.Listen(b.opts.Channel)
		close(pl.ready)
		if pl.err != nil {
			b.log.Error("LISTEN failed", "error", pl.err.Error())
			return
		}
		pl.run()
	}()
	return pl
}

func (pl *pgListener) close() { _ = pl.l.Close() }

func (pl *pgListener) event(t pq.ListenerEventType, err error) {
	switch t {
	case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
		pl.mu.Lock()
		if pl.downSince.IsZero() {
			pl.downSince = time.Now()
		}
		pl.mu.Unlock()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		pl.b.log.Warn("listener lost its connection", "event", t.String(), "error", msg)
	case pq.ListenerEventReconnected:
		listenerReconnects.Inc()
		pl.b.log.Info("listener reconnected")
	}
}

func (pl *pgListener) run() {
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-pl.b.ctx.Done():
			return
		case <-ping.C:
			// Ping blocks until the listener's own goroutine reads the reply,
			// so it must not run on the goroutine that drains Notify.
			go func() { _ = pl.l.Ping() }()
		case n, ok := <-pl.l.Notify:
			if !ok {
				return
			}
			if n == nil {
				pl.resync()
				continue
			}
			var batch wireBatch
			if err := json.Unmarshal([]byte(n.Extra), &batch); err != nil {
				pl.b.log.Warn("undecodable notification", "error", err.Error())
				continue
			}
			if batch.Origin == pl.b.origin {
				continue // delivered locally when published
			}
			pl.b.deliverLocal(batch.Events)
		}
	}
}

// resync runs after the listener reconnected: whatever was notified while it
// was away is lost, so every watched activity is re-read, and feed and
// registration subscribers get what changed since the connection dropped.
func (pl *pgListener) resync() {
	pl.mu.Lock()
	since := pl.downSince
	pl.downSince = time.Time{}
	pl.mu.Unlock()
	if since.IsZero() {
		since = time.Now().Add(-time.Minute)
	}
	// Rows carry the writer's clock; allow for skew between replicas.
	since = since.Add(-5 * time.Second)
	pl.b.pokeAllCounts()
	if f := pl.b.opts.Resynced; f != nil {
		go f()
	}
	pl.b.wg.Add(1)
	go func() {
		defer pl.b.wg.Done()
		if evs := pl.b.changedSince(since); len(evs) > 0 {
			pl.b.queue.push(evs)
		}
	}()
}

// changedSince lists, as events, the activities of watched communities and
// the registrations of watched people that changed after since.
func (b *Broker) changedSince(since time.Time) []events.Event {
	b.mu.Lock()
	communities := make([]int, 0, len(b.feeds))
	for id := range b.feeds {
		communities = append(communities, id)
	}
	people := make([]int, 0, len(b.regs))
	for id := range b.regs {
		people = append(people, id)
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(viewer.System(b.ctx), 10*time.Second)
	defer cancel()
	var evs []events.Event
	if len(communities) > 0 {
		as, err := b.client.Activity.Query().
			Where(activity.CommunityIDIn(communities...), activity.UpdatedAtGTE(since)).
			Limit(500).All(ctx)
		if err != nil {
			b.log.Warn("re-sync activity feed", "error", err.Error())
		}
		for _, a := range as {
			evs = append(evs, events.Event{Kind: events.Activity, ActivityID: a.ID, CommunityID: a.CommunityID})
		}
	}
	if len(people) > 0 {
		rs, err := b.client.Registration.Query().
			Where(registration.PersonIDIn(people...), registration.UpdatedAtGTE(since)).
			Limit(2000).All(ctx)
		if err != nil {
			b.log.Warn("re-sync registrations", "error", err.Error())
		}
		for _, r := range rs {
			evs = append(evs, events.Event{Kind: events.Registration, RegistrationID: r.ID, PersonID: r.PersonID})
		}
	}
	evs = append(evs, b.requestsChangedSince(ctx, since)...)
	return append(evs, b.notificationsSince(ctx, since)...)
}
