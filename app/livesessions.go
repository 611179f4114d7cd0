package app

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"linli/auth"
	"linli/ent"
	"linli/ent/kiosk"
	"linli/viewer"
)

// sessionGuard ends live connections (websockets and SSE streams) whose
// viewer stopped being true: a person's session that expired (a timer per
// connection) or was revoked
// (logout), a person whose roles or teams changed, or a kiosk that was
// revoked. Changes arrive as events and end connections at once; one
// goroutine also re-checks every watched viewer against the database in a
// few batched queries per interval (expiry, and a change whose event was
// lost), rather than a query per connection. It also bounds the
// connections one credential holds on this replica.
type sessionGuard struct {
	auth     *auth.Service
	client   *ent.Client
	interval time.Duration
	// perPerson bounds the watches of one person, or of one kiosk
	// (0: unbounded).
	perPerson int
	log       *slog.Logger
	now       func() time.Time

	mu      sync.Mutex
	watches map[liveKey]map[*sessionWatch]struct{}
	people  map[int]map[*sessionWatch]struct{}
	// changed holds people whose viewer changed recently: a connection
	// that authenticated just before the change and is watched just after
	// it is re-checked at once.
	changed map[int]time.Time
	stop    chan struct{}
	done    chan struct{}
	checks  sync.WaitGroup
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

// Why a watch ended, as the close reason a websocket client sees.
const (
	reasonSessionEnded  = "Session ended"
	reasonViewerChanged = "Roles changed; reconnect"
)

type sessionWatch struct {
	v    *viewer.Viewer
	end  func(reason string)
	once sync.Once
	// expiry ends the watch when its session expires.
	expiry *time.Timer
}

func (w *sessionWatch) fire(reason string) { w.once.Do(func() { w.end(reason) }) }

// recentChange is how long a person's change makes new watches of them be
// re-checked: longer than any token cache keeps a viewer.
const recentChange = 10 * time.Second

func newSessionGuard(a *auth.Service, client *ent.Client, interval time.Duration, perPerson int, log *slog.Logger) *sessionGuard {
	g := &sessionGuard{
		auth: a, client: client, interval: interval, perPerson: perPerson, log: log, now: time.Now,
		watches: map[liveKey]map[*sessionWatch]struct{}{},
		people:  map[int]map[*sessionWatch]struct{}{},
		changed: map[int]time.Time{},
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
	go g.run()
	return g
}

// watch calls end once when v stops being the viewer of its credential
// (expired, revoked, changed); the returned function stops watching. It
// refuses (ok false) a person or kiosk that already holds perPerson
// connections here.
func (g *sessionGuard) watch(v *viewer.Viewer, end func(reason string)) (stop func(), ok bool) {
	w := &sessionWatch{v: v, end: end}
	k := keyOf(v)
	g.mu.Lock()
	m := g.watches[k]
	// A person's connections count together, whichever of their sessions
	// (each login is a new one) they came with; a kiosk's by the kiosk.
	held := len(m)
	if v.PersonID != 0 {
		held = len(g.people[v.PersonID])
	}
	if g.perPerson > 0 && held >= g.perPerson {
		g.mu.Unlock()
		return nil, false
	}
	if m == nil {
		m = map[*sessionWatch]struct{}{}
		g.watches[k] = m
	}
	m[w] = struct{}{}
	if v.PersonID != 0 {
		add(g.people, v.PersonID, w)
	}
	if !v.ExpiresAt.IsZero() {
		w.expiry = time.AfterFunc(v.ExpiresAt.Sub(g.now()), func() { w.fire(reasonSessionEnded) })
	}
	recheck := false
	if t, ok := g.changed[v.PersonID]; ok && v.PersonID != 0 && g.now().Sub(t) < recentChange && !g.stopping() {
		recheck = true
		g.checks.Add(1)
	}
	g.mu.Unlock()
	if recheck {
		go func() {
			defer g.checks.Done()
			g.verify([]liveKey{k})
		}()
	}
	return func() {
		if w.expiry != nil {
			w.expiry.Stop()
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		remove(g.watches, k, w)
		if v.PersonID != 0 {
			remove(g.people, v.PersonID, w)
		}
	}, true
}

func add[K comparable](m map[K]map[*sessionWatch]struct{}, k K, w *sessionWatch) {
	s := m[k]
	if s == nil {
		s = map[*sessionWatch]struct{}{}
		m[k] = s
	}
	s[w] = struct{}{}
}

func remove[K comparable](m map[K]map[*sessionWatch]struct{}, k K, w *sessionWatch) {
	if s := m[k]; s != nil {
		delete(s, w)
		if len(s) == 0 {
			delete(m, k)
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
	ending := slices.Collect(maps.Keys(g.watches[k]))
	g.mu.Unlock()
	for _, w := range ending {
		w.fire(reasonSessionEnded)
	}
}

// endPerson ends every connection of a person whose roles or teams
// changed: their viewer is out of date, and the client reconnects with the
// new one.
func (g *sessionGuard) endPerson(personID int) {
	now := g.now()
	g.mu.Lock()
	for id, t := range g.changed {
		if now.Sub(t) >= recentChange {
			delete(g.changed, id)
		}
	}
	g.changed[personID] = now
	ending := slices.Collect(maps.Keys(g.people[personID]))
	g.mu.Unlock()
	for _, w := range ending {
		w.fire(reasonViewerChanged)
	}
}

func (g *sessionGuard) close() {
	// Under mu, so no re-check starts once Wait has begun.
	g.mu.Lock()
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.mu.Unlock()
	<-g.done
	g.checks.Wait()
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

// stopping reports whether close has begun; g.mu is held.
func (g *sessionGuard) stopping() bool {
	select {
	case <-g.stop:
		return true
	default:
		return false
	}
}

// checkSoon re-checks every watched credential now, outside the schedule.
func (g *sessionGuard) checkSoon() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping() {
		return
	}
	g.checks.Add(1)
	go func() {
		defer g.checks.Done()
		g.check()
	}()
}

// check re-checks every watched credential.
func (g *sessionGuard) check() {
	g.mu.Lock()
	keys := slices.Collect(maps.Keys(g.watches))
	g.mu.Unlock()
	g.verify(keys)
}

// verify ends the watches of keys whose session expired (by the clock),
// whose credential the database no longer holds as valid, or whose viewer
// differs from what the database says now (roles, community, teams led,
// a kiosk's venue).
func (g *sessionGuard) verify(keys []liveKey) {
	now := g.now()
	sessions, kiosks := g.endExpired(keys, now)
	ctx, cancel := context.WithTimeout(viewer.System(context.Background()), 10*time.Second)
	defer cancel()
	current, err := g.current(ctx, sessions, kiosks, now)
	if err != nil {
		// A database hiccup must not log everyone out: on an error nothing
		// is ended, and the next check tries again.
		g.log.Warn("re-check live sessions", slog.String("error", err.Error()))
		return
	}
	g.endChanged(keys, current)
}

// endExpired ends the connections of keys whose viewer expired by now, and
// splits keys into the sessions and kiosks to look up.
func (g *sessionGuard) endExpired(keys []liveKey, now time.Time) (sessions, kiosks []int) {
	var ending []*sessionWatch
	g.mu.Lock()
	for _, k := range keys {
		if k.kiosk != 0 {
			kiosks = append(kiosks, k.kiosk)
		} else {
			sessions = append(sessions, k.session)
		}
		for w := range g.watches[k] {
			if !w.v.ExpiresAt.IsZero() && !now.Before(w.v.ExpiresAt) {
				ending = append(ending, w)
			}
		}
	}
	g.mu.Unlock()
	for _, w := range ending {
		w.fire(reasonSessionEnded)
	}
	return sessions, kiosks
}

// current reads the viewers the sessions and kiosks stand for now; one
// missing from the answer no longer works.
func (g *sessionGuard) current(ctx context.Context, sessions, kiosks []int, now time.Time) (map[liveKey]*viewer.Viewer, error) {
	current := map[liveKey]*viewer.Viewer{}
	err := inChunks(sessions, func(ids []int) error {
		vs, err := g.auth.CurrentViewers(ctx, ids, now)
		for id, v := range vs {
			current[liveKey{session: id}] = v
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = inChunks(kiosks, func(ids []int) error {
		ks, err := g.client.Kiosk.Query().Where(kiosk.IDIn(ids...), kiosk.RevokedAtIsNil()).
			Select(kiosk.FieldCommunityID, kiosk.FieldVenueID).All(ctx)
		for _, k := range ks {
			current[liveKey{kiosk: k.ID}] = &viewer.Viewer{KioskID: k.ID, VenueID: k.VenueID, CommunityID: k.CommunityID}
		}
		return err
	})
	return current, err
}

// endChanged ends the connections of keys whose credential stopped working
// or now stands for a viewer with other rights. Only the credentials just
// checked: a connection that arrived since waits for the next check.
func (g *sessionGuard) endChanged(keys []liveKey, current map[liveKey]*viewer.Viewer) {
	type end struct {
		w      *sessionWatch
		reason string
	}
	var ends []end
	g.mu.Lock()
	for _, k := range keys {
		cur := current[k]
		for w := range g.watches[k] {
			switch {
			case cur == nil:
				ends = append(ends, end{w, reasonSessionEnded})
			case !sameAuthority(w.v, cur):
				ends = append(ends, end{w, reasonViewerChanged})
			}
		}
	}
	g.mu.Unlock()
	for _, e := range ends {
		e.w.fire(e.reason)
	}
}

// sameAuthority reports whether two viewers of one credential may do the
// same: the same person or kiosk, community, venue, roles and teams led.
func sameAuthority(a, b *viewer.Viewer) bool {
	return a.PersonID == b.PersonID && a.KioskID == b.KioskID && a.CommunityID == b.CommunityID &&
		a.VenueID == b.VenueID && sameSet(a.Roles, b.Roles) && sameSet(a.LeadTeams, b.LeadTeams)
}

func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
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
