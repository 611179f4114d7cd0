package live

import (
	"context"
	"sync"
	"sync/atomic"
)

// Snapshot is one reading of an activity's counts as handed to every
// subscriber of the activity at once. Rendered caches what a caller made
// of it, so a transport that writes the same selection for thousands of
// subscribers renders it once per snapshot (graph's FastCounts does).
type Snapshot struct {
	counts *ActivityCounts

	// rendered is the first shape rendered; others holds the rest.
	rendered atomic.Pointer[rendering]
	mu       sync.Mutex
	others   map[string][]byte // by shape
}

type rendering struct {
	key  string
	data []byte
}

// Counts is the reading. It is shared: do not change it.
func (s *Snapshot) Counts() *ActivityCounts { return s.counts }

// Rendered returns render(s.Counts()) for the shape named key, calling
// render only the first time a key is asked for. Thousands of subscribers
// ask at the same moment, so the common case (one shape, already rendered)
// reads without locking. render must depend on nothing but the counts and
// what key names.
func (s *Snapshot) Rendered(key string, render func(*ActivityCounts) []byte) []byte {
	if r := s.rendered.Load(); r != nil && r.key == key {
		return r.data
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rendered.Load(); r != nil && r.key == key {
		return r.data
	}
	if b, ok := s.others[key]; ok {
		return b
	}
	b := render(s.counts)
	if s.rendered.Load() == nil {
		s.rendered.Store(&rendering{key: key, data: b})
		return b
	}
	if s.others == nil {
		s.others = map[string][]byte{}
	}
	s.others[key] = b
	return b
}

// CountsSnapshots is ActivityCounts for a caller that renders the counts
// itself: the same authorization, the same watcher and the same rate, but
// each value is the Snapshot shared by every subscriber, so what is made of
// it can be shared too (Rendered).
func (b *Broker) CountsSnapshots(ctx context.Context, activityID int) (<-chan *Snapshot, error) {
	if _, err := b.authorizeCounts(ctx, activityID); err != nil {
		return nil, err
	}
	return b.subscribeSnapshots(ctx, activityID)
}
