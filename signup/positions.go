package signup

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"linli/ent"
	"linli/ent/registration"
)

// Waitlist positions are not stored: they are ranks in queue order, computed
// when read, so they are always 1..N without gaps. A single registration
// costs one COUNT; a list costs one query per slot per response, through a
// cache that WithResponseCache puts in the context of each GraphQL response.

const (
	positionOf = `SELECT COUNT(*) + 1 FROM registrations
WHERE slot_id = ? AND status = 'WAITLISTED' AND (queue_seq < ? OR (queue_seq = ? AND id < ?))`

	waitlistOrder = `SELECT id FROM registrations WHERE slot_id = ? AND status = 'WAITLISTED' ORDER BY queue_seq, id`
)

type responseCacheKey struct{}

// responseCache holds the waitlists of the slots one response has read.
type responseCache struct {
	mu    sync.Mutex
	slots map[int]*waitlist
}

type waitlist struct {
	once sync.Once
	pos  map[int]int
	err  error
}

// WithResponseCache returns ctx with a cache for one GraphQL response (a
// query, or one event of a subscription), so a list of registrations
// resolves its waitlist positions in one query per slot.
func WithResponseCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, responseCacheKey{}, &responseCache{slots: map[int]*waitlist{}})
}

// WaitlistPosition is 1 for the head of the waitlist, nil unless r waits.
func (s *Service) WaitlistPosition(ctx context.Context, r *ent.Registration) (*int, error) {
	if r.Status != registration.StatusWAITLISTED {
		return nil, nil
	}
	if c, ok := ctx.Value(responseCacheKey{}).(*responseCache); ok && inList(ctx) {
		w := c.waitlist(r.SlotID)
		w.once.Do(func() { w.pos, w.err = s.loadWaitlist(ctx, r.SlotID) })
		if w.err != nil {
			return nil, w.err
		}
		if p, ok := w.pos[r.ID]; ok {
			return &p, nil
		}
		// r stopped waiting after the list was read; the count below says so.
	}
	var p int
	rows, err := s.client.QueryContext(ctx, s.db.Rebind(positionOf), r.SlotID, r.QueueSeq, r.QueueSeq, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
	}
	return &p, closeRows(rows)
}

func (c *responseCache) waitlist(slotID int) *waitlist {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.slots[slotID]
	if !ok {
		w = &waitlist{}
		c.slots[slotID] = w
	}
	return w
}

func (s *Service) loadWaitlist(ctx context.Context, slotID int) (map[int]int, error) {
	rows, err := s.client.QueryContext(ctx, s.db.Rebind(waitlistOrder), slotID)
	if err != nil {
		return nil, err
	}
	pos := map[int]int{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		pos[id] = len(pos) + 1
	}
	return pos, closeRows(rows)
}

// inList reports whether the field being resolved belongs to an element of
// a list, where loading the whole waitlist once beats one count per element.
func inList(ctx context.Context) bool {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Index != nil {
			return true
		}
	}
	return false
}
