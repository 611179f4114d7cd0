// Package kiosk holds the check-in tablets at a venue's door: registering
// one (its token is shown once), listing and revoking them, and resolving a
// kiosk token to its viewer — a device bound to a venue and a community,
// with no person and no roles. A token once checked is trusted for a few
// seconds without asking the database (cache.go); revoking takes effect at
// once on the replica that revoked and, through the Kiosk event, on the
// others.
package kiosk

import (
	"time"

	"linli/ent"
	"linli/events"
)

// Options tune a Service. Zero fields take the defaults in parentheses.
type Options struct {
	// CacheTTL is how long a kiosk token, once checked, is trusted without
	// asking the database (5 s; negative: ask every time).
	CacheTTL time.Duration
}

// Service registers, lists, revokes and authenticates kiosks.
type Service struct {
	client *ent.Client
	events events.Publisher
	cache  *kioskCache
	now    func() time.Time
}

// New returns a Service over client that announces revocations to pub.
func New(client *ent.Client, pub events.Publisher, o Options) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 5 * time.Second
	}
	return &Service{client: client, events: pub, cache: newKioskCache(o.CacheTTL),
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

func (s *Service) publish(evs ...events.Event) {
	if len(evs) > 0 {
		s.events.Publish(evs...)
	}
}
