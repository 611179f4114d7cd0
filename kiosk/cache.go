package kiosk

import (
	"sync"
	"time"

	"linli/viewer"
)

// kioskCache remembers for a few seconds which kiosk a token belongs to: a
// tablet scanning a queue at the door sends a request a second, and each
// would otherwise cost a query before any work. Revoking a kiosk on this
// replica takes effect at once; on other replicas within the TTL.
type kioskCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[32]byte]cachedKiosk
	// revoked holds kiosks revoked within ttl, so a lookup that read the
	// kiosk just before the revocation cannot cache it just after.
	revoked map[int]time.Time
}

type cachedKiosk struct {
	v     *viewer.Viewer
	until time.Time
}

// maxCachedKiosks bounds the cache; a community has tens of kiosks.
const maxCachedKiosks = 10000

func newKioskCache(ttl time.Duration) *kioskCache {
	if ttl <= 0 {
		return nil
	}
	return &kioskCache{ttl: ttl, m: map[[32]byte]cachedKiosk{}, revoked: map[int]time.Time{}}
}

func (c *kioskCache) get(hash [32]byte, now time.Time) *viewer.Viewer {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.until) {
		delete(c.m, hash)
		return nil
	}
	return e.v
}

func (c *kioskCache) put(hash [32]byte, v *viewer.Viewer, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.revoked[v.KioskID]; ok && now.Before(t) {
		return
	}
	if len(c.m) >= maxCachedKiosks {
		clear(c.m)
	}
	c.m[hash] = cachedKiosk{v: v, until: now.Add(c.ttl)}
}

func (c *kioskCache) revoke(kioskID int, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, t := range c.revoked {
		if !now.Before(t) {
			delete(c.revoked, id)
		}
	}
	c.revoked[kioskID] = now.Add(c.ttl)
	for h, e := range c.m {
		if e.v.KioskID == kioskID {
			delete(c.m, h)
		}
	}
}
