package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/privacy"
	"linli/events"
	"linli/viewer"
)

var errClosed = errors.New("live: broker closed")

// loadTimeout bounds the read of one event's row.
const loadTimeout = 5 * time.Second

// feedSub receives the activity events of one community.
type feedSub struct {
	ch chan *ActivityEvent
	// v is the subscriber: each changed activity is read as them, so the
	// privacy rules decide what reaches them (drafts only to those who may
	// read drafts), as on every other path.
	v *viewer.Viewer
	// scope groups subscribers who read activities alike (readScope).
	scope string
}

// readScope names what the privacy rules look at when a viewer reads
// activities: everything of the viewer except who they are (person,
// session), so that one read per scope serves every subscriber in it. If
// reading an activity ever depends on the person, PersonID belongs here.
func readScope(v *viewer.Viewer) string {
	roles := slices.Clone(v.Roles)
	slices.Sort(roles)
	teams := slices.Clone(v.LeadTeams)
	slices.Sort(teams)
	return fmt.Sprint(v.CommunityID, roles, teams, v.KioskID != 0, v.VenueID)
}

// regSub receives one person's registration events.
type regSub struct {
	ch chan *RegistrationEvent
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

func (b *Broker) subscribeFeed(ctx context.Context, communityID int, v *viewer.Viewer) (<-chan *ActivityEvent, error) {
	sub := &feedSub{ch: make(chan *ActivityEvent, b.opts.SubscriberBuffer), v: v, scope: readScope(v)}
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

func (b *Broker) subscribeRegistrations(ctx context.Context, personID int) (<-chan *RegistrationEvent, error) {
	sub := &regSub{ch: make(chan *RegistrationEvent, b.opts.SubscriberBuffer)}
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

// dispatchActivity hands a changed activity to the feed subscribers of its
// community who may read it: it is read once per read scope, as a viewer of
// that scope, so the privacy rules, not a copy of them, decide who gets it.
func (b *Broker) dispatchActivity(ev events.Event) {
	if !b.anyFeeds() {
		return
	}
	cid := ev.CommunityID
	if cid == 0 {
		ids, err := b.client.Activity.Query().Where(activity.ID(ev.ActivityID)).
			Select(activity.FieldCommunityID).Ints(viewer.System(b.ctx))
		if err != nil || len(ids) == 0 {
			return
		}
		cid = ids[0]
	}
	scopes := map[string][]*feedSub{}
	for _, s := range b.feedSubscribers(cid) {
		scopes[s.scope] = append(scopes[s.scope], s)
	}
	for _, subs := range scopes {
		ctx, cancel := context.WithTimeout(viewer.NewContext(b.ctx, subs[0].v), loadTimeout)
		a, err := b.client.Activity.Get(ctx, ev.ActivityID)
		cancel()
		switch {
		case ent.IsNotFound(err) || errors.Is(err, privacy.Deny):
			continue // not theirs to read (or gone)
		case err != nil:
			b.log.Warn("load activity for feed", "activity", ev.ActivityID, "error", err.Error())
			continue
		case a.CommunityID != cid:
			continue // a wrong hint must not put it on another community's feed
		}
		change := ActivityChange(ev.Change)
		if !change.IsValid() {
			change = activityChangeFor(a.Status)
		}
		out := &ActivityEvent{Change: change, Activity: a}
		for _, s := range subs {
			if !offerDropOldest(s.ch, out) {
				droppedEvents.Inc()
			}
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
	change := RegistrationChange(ev.Change)
	if !change.IsValid() {
		var ok bool
		if change, ok = registrationChangeFor(string(r.Status)); !ok {
			return
		}
	}
	out := &RegistrationEvent{Change: change, Registration: r}
	for _, s := range b.regSubscribers(r.PersonID) {
		if !offerDropOldest(s.ch, out) {
			droppedEvents.Inc()
		}
	}
}

func activityChangeFor(s activity.Status) ActivityChange {
	switch s {
	case activity.StatusCANCELLED:
		return ActivityCancelled
	case activity.StatusCOMPLETED:
		return ActivityCompleted
	}
	return ActivityUpdated
}

// registrationChangeFor names a registration's current status as a change,
// for events that did not say what happened (re-syncs, check-ins).
func registrationChangeFor(status string) (RegistrationChange, bool) {
	c := RegistrationChange(status)
	return c, c.IsValid()
}
