package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"linli/ent"
	"linli/ent/kiosk"
	"linli/ent/session"
	"linli/viewer"
)

// sessionGuard ends live connections whose credential stopped working: a
// person's session that expired or was revoked (logout), or a kiosk that
// was revoked. Revocations arrive as events and end connections at once;
// one goroutine also re-checks every watched credential in a few batched
// queries per interval (expiry, and a revocation whose event was lost),
// rather than a query per socket.
type sessionGuard struct {
	client   *ent.Client
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	watches map[liveKey]map[*sessionWatch]struct{}
	stop    chan struct{}
	done    chan struct{}
}

// liveKey is the credential a connection rests on: a person's session or a
// kiosk (exactly one is set).
type liveKey struct{ session, kiosk int }

func keyOf(v *viewer.Viewer) liveKey {
	if v.IsKiosk() {
		return liveKey{kiosk: v.KioskID}
	}
	return liveKey{session: v.SessionID}
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
		watches: map[liveKey]map[*sessionWatch]struct{}{},
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
	go g.run()
	return g
}

// watch calls end once when v's credential stops being valid; the returned
// function stops watching.
func (g *sessionGuard) watch(v *viewer.Viewer, end func()) (stop func()) {
	w := &sessionWatch{expires: v.ExpiresAt, end: end}
	k := keyOf(v)
	g.mu.Lock()
	m := g.watches[k]
	if m == nil {
		m = map[*sessionWatch]struct{}{}
		g.watches[k] = m
	}
	m[w] = struct{}{}
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if m := g.watches[k]; m != nil {
			delete(m, w)
			if len(m) == 0 {
				delete(g.watches, k)
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

// end ends every watch of a credential at once (logout, kiosk revoked).
func (g *sessionGuard) end(k liveKey) {
	g.mu.Lock()
	var ending []*sessionWatch
	for w := range g.watches[k] {
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

// check ends the watches of sessions that expired (by the clock) and of
// credentials the database no longer holds as valid.
func (g *sessionGuard) check() {
	now := g.now()
	g.mu.Lock()
	var sessions, kiosks []int
	var checked []liveKey
	var ending []*sessionWatch
	for k, m := range g.watches {
		checked = append(checked, k)
		if k.kiosk != 0 {
			kiosks = append(kiosks, k.kiosk)
		} else {
			sessions = append(sessions, k.session)
		}
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
	ctx, cancel := context.WithTimeout(viewer.System(context.Background()), 10*time.Second)
	defer cancel()
	valid := map[liveKey]bool{}
	// A database hiccup must not log everyone out: on an error nothing is
	// ended, and the next check tries again.
	err := inChunks(sessions, func(ids []int) error {
		ok, err := g.client.Session.Query().
			Where(session.IDIn(ids...), session.RevokedAtIsNil(), session.ExpiresAtGT(now.UTC())).
			IDs(ctx)
		for _, id := range ok {
			valid[liveKey{session: id}] = true
		}
		return err
	})
	if err == nil {
		err = inChunks(kiosks, func(ids []int) error {
			ok, err := g.client.Kiosk.Query().Where(kiosk.IDIn(ids...), kiosk.RevokedAtIsNil()).IDs(ctx)
			for _, id := range ok {
				valid[liveKey{kiosk: id}] = true
			}
			return err
		})
	}
	if err != nil {
		g.log.Warn("re-check live sessions", slog.String("error", err.Error()))
		return
	}
	// Only the credentials just checked: a connection that arrived since
	// waits for the next check.
	g.mu.Lock()
	ending = ending[:0]
	for _, k := range checked {
		if !valid[k] {
			for w := range g.watches[k] {
				ending = append(ending, w)
			}
		}
	}
	g.mu.Unlock()
	for _, w := range ending {
		w.fire()
	}
}

// inChunks calls fn with ids 500 at a time, stopping at the first error.
func inChunks(ids []int, fn func([]int) error) error {
	for start := 0; start < len(ids); start += 500 {
		if err := fn(ids[start:min(start+500, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}
