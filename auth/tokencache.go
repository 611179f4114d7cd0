package auth

import (
	"sync"
	"time"

	"linli/viewer"
)

// tokenCache remembers for a few seconds which viewer a token hash belongs
// to, so that a client making many requests does not cost two queries
// (session, person) on every one of them.
//
// What it trades: a session revoked other than by Logout on this replica
// (Logout on another replica, expiry edited in the database) and a change of
// the person's roles take effect here up to ttl later. Logout on this replica
// takes effect at once. Entries never outlive their session's expiry.
type tokenCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[[32]byte]cachedViewer
	// loggedOut holds sessions logged out within ttl: a request that read
	// the session just before Logout must not cache it just after.
	loggedOut map[int]time.Time
	// changed likewise holds people whose roles or teams changed within
	// ttl: a viewer read just before the change must not be cached after it.
	changed map[int]time.Time
}

type cachedViewer struct {
	v     *viewer.Viewer
	until time.Time
}

func newTokenCache(ttl time.Duration, max int) *tokenCache {
	if ttl <= 0 {
		return nil
	}
	return &tokenCache{ttl: ttl, max: max, entries: map[[32]byte]cachedViewer{}, loggedOut: map[int]time.Time{}, changed: map[int]time.Time{}}
}

// get returns the viewer cached for hash, if still fresh at now. Viewers are
// shared between requests and must not be changed.
func (c *tokenCache) get(hash [32]byte, now time.Time) *viewer.Viewer {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok {
		return nil
	}
	if !now.Before(e.until) {
		delete(c.entries, hash)
		return nil
	}
	return e.v
}

func (c *tokenCache) put(hash [32]byte, v *viewer.Viewer, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if v.ExpiresAt.Before(until) {
		until = v.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.loggedOut[v.SessionID]; ok && now.Before(t) {
		return
	}
	if t, ok := c.changed[v.PersonID]; ok && now.Before(t) {
		return
	}
	if len(c.entries) >= c.max {
		for h, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= c.max {
			// Many live tokens at once: start over rather than track age.
			clear(c.entries)
		}
	}
	c.entries[hash] = cachedViewer{v: v, until: until}
}

// loggedOutSession drops the entries of a session and keeps it from being
// cached again.
func (c *tokenCache) loggedOutSession(sessionID int, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.mark(c.loggedOut, sessionID, now)
	c.mu.Unlock()
	c.forget(func(v *viewer.Viewer) bool { return v.SessionID == sessionID })
}

// ForgetPerson drops the cached sessions of a person whose viewer changed
// (roles, teams led), so the next request reads the new one, and keeps
// viewers read before the change from being cached after it.
func (s *Service) ForgetPerson(personID int) { s.cache.changedPerson(personID, s.now()) }

func (c *tokenCache) changedPerson(personID int, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.mark(c.changed, personID, now)
	c.mu.Unlock()
	c.forget(func(v *viewer.Viewer) bool { return v.PersonID == personID })
}

// mark records id in marks for one TTL from now, dropping the marks that
// have run out. c.mu must be held.
func (c *tokenCache) mark(marks map[int]time.Time, id int, now time.Time) {
	for k, t := range marks {
		if !now.Before(t) {
			delete(marks, k)
		}
	}
	marks[id] = now.Add(c.ttl)
}

func (c *tokenCache) forget(match func(*viewer.Viewer) bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.entries {
		if match(e.v) {
			delete(c.entries, h)
		}
	}
}
