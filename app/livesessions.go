package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"linli/ent"
	"linli/ent/session"
	"linli/viewer"
)

// sessionGuard ends live connections whose session has expired or been
// revoked (logout). One goroutine re-checks every watched session in a few
// batched queries per interval, rather than a query per socket.
type sessionGuard struct {
	client   *ent.Client
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	watches map[int]map[*sessionWatch]struct{} // by session id
	stop    chan struct{}
	done    chan struct{}
}

type sessionWatch struct {
	expires time.Time
	end     func()
	once    sync.Once
}

func (w *sessionWatch) fire() { w.once.Do(w.end) }

func newSessionGuard(client *ent.Client, interval time.Duration, log *slog.Logger) *sessionGuard {
	g := &sessionGuard{
		client: client, interval: interval, log: log, now: time.Now,
		watches: map[int]map[*sessionWatch]struct{}{},
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
	go g.run()
	return g
}

// watch calls end once when v's session stops being valid; the returned
// function stops watching.
func (g *sessionGuard) watch(v *viewer.Viewer, end func()) (stop func()) {
	w := &sessionWatch{expires: v.ExpiresAt, end: end}
	g.mu.Lock()
	m := g.watches[v.SessionID]
	if m == nil {
		m = map[*sessionWatch]struct{}{}
		g.watches[v.SessionID] = m
	}
	m[w] = struct{}{}
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if m := g.watches[v.SessionID]; m != nil {
			delete(m, w)
			if len(m) == 0 {
				delete(g.watches, v.SessionID)
			}
		}
	}
}

// count is how many connections are watched.
func (g *sessionGuard) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, m := range g.watches {
		n += len(m)
	}
	return n
}

// end ends every watch of a session at once (its owner logged out).
func (g *sessionGuard) end(sessionID int) {
	g.mu.Lock()
	var ending []*sessionWatch
	for w := range g.watches[sessionID] {
		ending = append(ending, w)
	}
	g.mu.Unlock()
	for _, w := range ending {
		w.fire()
	}
}

func (g *sessionGuard) close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
}

func (g *sessionGuard) run() {
	defer close(g.done)
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.check()
		}
	}
}

// check ends the watches of sessions that expired (by the clock) or that the
// database no longer holds as valid.
func (g *sessionGuard) check() {
	now := g.now()
	g.mu.Lock()
	ids := make([]int, 0, len(g.watches))
	var ending []*sessionWatch
	for id, m := range g.watches {
		ids = append(ids, id)
		for w := range m {
			if !w.expires.IsZero() && !now.Before(w.expires) {
				ending = append(ending, w)
			}
		}
	}
	g.mu.Unlock()
	for _, w := range ending {
		w.fire()
	}
	if len(ids) == 0 {
		return
	}
	valid := make(map[int]bool, len(ids))
	ctx, cancel := context.WithTimeout(viewer.System(context.Background()), 10*time.Second)
	defer cancel()
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		ok, err := g.client.Session.Query().
			Where(session.IDIn(chunk...), session.RevokedAtIsNil(), session.ExpiresAtGT(now.UTC())).
			IDs(ctx)
		if err != nil {
			// A database hiccup must not log everyone out; try next time.
			g.log.Warn("re-check live sessions", slog.String("error", err.Error()))
			return
		}
		for _, id := range ok {
			valid[id] = true
		}
	}
	g.mu.Lock()
	ending = ending[:0]
	for _, id := range ids {
		if !valid[id] {
			for w := range g.watches[id] {
				ending = append(ending, w)
			}
		}
	}
	g.mu.Unlock()
	for _, w := range ending {
		w.fire()
	}
}
