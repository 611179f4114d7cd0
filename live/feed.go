package live

import (
	"context"
	"errors"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/events"
	"linli/graph/model"
	"linli/viewer"
)

var errClosed = errors.New("live: broker closed")

// loadTimeout bounds the read of one event's row.
const loadTimeout = 5 * time.Second

// feedSub receives the activity events of one community.
type feedSub struct {
	ch chan *model.ActivityEvent
	// staff also see changes to drafts.
	staff bool
}

// regSub receives one person's registration events.
type regSub struct {
	ch chan *model.RegistrationEvent
}

// offerDropOldest sends v without blocking; when the subscriber has fallen
// a full buffer behind, its oldest value makes room (for a one-place
// channel: the newest value displaces an unread one). It reports whether
// nothing was dropped. Each channel has one sender (the dispatcher, or an
// activity's counts watcher), so the second send cannot race another.
func offerDropOldest[T any](ch chan T, v T) bool {
	select {
	case ch <- v:
		return true
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- v:
	default:
	}
	return false
}

func (b *Broker) subscribeFeed(ctx context.Context, communityID int, staff bool) (<-chan *model.ActivityEvent, error) {
	sub := &feedSub{ch: make(chan *model.ActivityEvent, b.opts.SubscriberBuffer), staff: staff}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil {
		return nil, errClosed
	}
	m := b.feeds[communityID]
	if m == nil {
		m = map[*feedSub]struct{}{}
		b.feeds[communityID] = m
	}
	m[sub] = struct{}{}
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(m, sub)
		// m may have been dropped and replaced meanwhile; only an empty
		// current set is removed.
		if cur, ok := b.feeds[communityID]; ok && len(cur) == 0 {
			delete(b.feeds, communityID)
		}
	})
	return sub.ch, nil
}

func (b *Broker) subscribeRegistrations(ctx context.Context, personID int) (<-chan *model.RegistrationEvent, error) {
	sub := &regSub{ch: make(chan *model.RegistrationEvent, b.opts.SubscriberBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil {
		return nil, errClosed
	}
	m := b.regs[personID]
	if m == nil {
		m = map[*regSub]struct{}{}
		b.regs[personID] = m
	}
	m[sub] = struct{}{}
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(m, sub)
		// m may have been dropped and replaced meanwhile; only an empty
		// current set is removed.
		if cur, ok := b.regs[personID]; ok && len(cur) == 0 {
			delete(b.regs, personID)
		}
	})
	return sub.ch, nil
}

func (b *Broker) feedSubscribers(communityID int) []*feedSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := make([]*feedSub, 0, len(b.feeds[communityID]))
	for s := range b.feeds[communityID] {
		subs = append(subs, s)
	}
	return subs
}

func (b *Broker) regSubscribers(personID int) []*regSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := make([]*regSub, 0, len(b.regs[personID]))
	for s := range b.regs[personID] {
		subs = append(subs, s)
	}
	return subs
}

func (b *Broker) anyFeeds() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.feeds) > 0
}

func (b *Broker) anyRegs() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.regs) > 0
}

// dispatchActivity loads the activity once and hands it to the feed
// subscribers of its community (the row's community, not the hint's).
func (b *Broker) dispatchActivity(ev events.Event) {
	if ev.CommunityID != 0 && len(b.feedSubscribers(ev.CommunityID)) == 0 || !b.anyFeeds() {
		return
	}
	ctx, cancel := context.WithTimeout(viewer.System(b.ctx), loadTimeout)
	defer cancel()
	a, err := b.client.Activity.Get(ctx, ev.ActivityID)
	if err != nil {
		if !ent.IsNotFound(err) {
			b.log.Warn("load activity for feed", "activity", ev.ActivityID, "error", err.Error())
		}
		return
	}
	change := model.ActivityChange(ev.Change)
	if !change.IsValid() {
		change = activityChangeFor(a.Status)
	}
	out := &model.ActivityEvent{Change: change, Activity: a}
	for _, s := range b.feedSubscribers(a.CommunityID) {
		if a.Status == activity.StatusDRAFT && !s.staff {
			continue
		}
		if !offerDropOldest(s.ch, out) {
			droppedEvents.Inc()
		}
	}
}

// dispatchRegistration loads the registration once and hands it to its
// person's subscribers only.
func (b *Broker) dispatchRegistration(ev events.Event) {
	if ev.RegistrationID == 0 {
		return
	}
	if ev.PersonID != 0 && len(b.regSubscribers(ev.PersonID)) == 0 || !b.anyRegs() {
		return
	}
	ctx, cancel := context.WithTimeout(viewer.System(b.ctx), loadTimeout)
	defer cancel()
	r, err := b.client.Registration.Get(ctx, ev.RegistrationID)
	if err != nil {
		if !ent.IsNotFound(err) {
			b.log.Warn("load registration for subscribers", "registration", ev.RegistrationID, "error", err.Error())
		}
		return
	}
	change := model.RegistrationChange(ev.Change)
	if !change.IsValid() {
		var ok bool
		if change, ok = registrationChangeFor(string(r.Status)); !ok {
			return
		}
	}
	out := &model.RegistrationEvent{Change: change, Registration: r}
	for _, s := range b.regSubscribers(r.PersonID) {
		if !offerDropOldest(s.ch, out) {
			droppedEvents.Inc()
		}
	}
}

func activityChangeFor(s activity.Status) model.ActivityChange {
	switch s {
	case activity.StatusCANCELLED:
		return model.ActivityChangeCancelled
	case activity.StatusCOMPLETED:
		return model.ActivityChangeCompleted
	}
	return model.ActivityChangeUpdated
}

// registrationChangeFor names a registration's current status as a change,
// for events that did not say what happened (re-syncs, check-ins).
func registrationChangeFor(status string) (model.RegistrationChange, bool) {
	c := model.RegistrationChange(status)
	return c, c.IsValid()
}
