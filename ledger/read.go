package ledger

import (
	"context"
	"sync"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/viewer"
)

// Page is a Relay page request.
type Page struct {
	After  *entgql.Cursor[int]
	First  *int
	Before *entgql.Cursor[int]
	Last   *int
}

// MyRegistrations lists the viewer's registrations, newest first.
func (l *Ledger) MyRegistrations(ctx context.Context, p Page) (*ent.RegistrationConnection, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if v.PersonID == 0 {
		return nil, apperr.New(apperr.Forbidden, "only a person has registrations")
	}
	return l.client.Registration.Query().Where(registration.PersonID(v.PersonID)).
		Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithRegistrationOrder(&ent.RegistrationOrder{
			Direction: entgql.OrderDirectionDesc, Field: ent.RegistrationOrderFieldCreatedAt,
		}))
}

// Filter narrows an activity's registrations. Its fields match the GraphQL
// input ActivityRegistrationsFilter, so the resolver converts it directly.
type Filter struct {
	Status []registration.Status
	SlotID *int
	// Search matches part of the person's display name.
	Search *string
}

// ActivityRegistrations lists an activity's registrations in sign-up order,
// for staff of its community.
func (l *Ledger) ActivityRegistrations(ctx context.Context, activityID int, p Page, f *Filter) (*ent.RegistrationConnection, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	a, err := l.client.Activity.Get(ctx, activityID)
	if err != nil {
		return nil, err
	}
	if err := authz.ListRegistrations(v, a); err != nil {
		return nil, err
	}
	q := l.client.Registration.Query().Where(registration.ActivityID(activityID))
	if f != nil {
		if len(f.Status) > 0 {
			q.Where(registration.StatusIn(f.Status...))
		}
		if f.SlotID != nil {
			q.Where(registration.SlotID(*f.SlotID))
		}
		if f.Search != nil && *f.Search != "" {
			if utf8.RuneCountInString(*f.Search) > 50 {
				return nil, apperr.Invalid("filter.search", "search must be at most 50 characters")
			}
			q.Where(registration.HasPersonWith(person.DisplayNameContains(*f.Search)))
		}
	}
	return q.Paginate(ctx, p.After, p.First, p.Before, p.Last)
}

// CheckInCode returns a registration's QR payload to its owner and to staff
// of its community, and nil to anyone else.
func CheckInCode(ctx context.Context, r *ent.Registration) *string {
	if !authz.SeesCheckInCode(viewer.FromContext(ctx), r) || r.CheckInCode == "" {
		return nil
	}
	return &r.CheckInCode
}

// Waitlist positions are not stored: they are ranks in WaitlistOrder,
// computed when read, so they are always 1..N without gaps. A single
// registration costs one COUNT; a list costs one query per slot per
// response, through a cache that WithResponseCache puts in the context of
// each GraphQL response. They count other people's registrations, so they
// are read as the system; only the rank is told.

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
// inList says r is an element of a list, where reading the whole waitlist
// once (through the response cache) beats one count per element.
func (l *Ledger) WaitlistPosition(ctx context.Context, r *ent.Registration, inList bool) (*int, error) {
	if r.Status != registration.StatusWAITLISTED {
		return nil, nil
	}
	sys := viewer.System(ctx)
	if c, ok := ctx.Value(responseCacheKey{}).(*responseCache); ok && inList {
		w := c.waitlist(r.SlotID)
		w.once.Do(func() { w.pos, w.err = l.loadWaitlist(sys, r.SlotID) })
		if w.err != nil {
			return nil, w.err
		}
		if p, ok := w.pos[r.ID]; ok {
			return &p, nil
		}
		// r stopped waiting after the list was read; the count below says so.
	}
	n, err := l.client.Registration.Query().Where(AheadOf(r)).Count(sys)
	if err != nil {
		return nil, err
	}
	p := n + 1
	return &p, nil
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

func (l *Ledger) loadWaitlist(ctx context.Context, slotID int) (map[int]int, error) {
	ids, err := l.client.Registration.Query().
		Where(registration.SlotID(slotID), registration.StatusEQ(registration.StatusWAITLISTED)).
		Order(WaitlistOrder()...).IDs(ctx)
	if err != nil {
		return nil, err
	}
	pos := make(map[int]int, len(ids))
	for i, id := range ids {
		pos[id] = i + 1
	}
	return pos, nil
}
