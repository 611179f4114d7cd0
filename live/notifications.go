package live

import (
	"context"
	"errors"
	"sync"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/notification"
	"linli/ent/privacy"
	"linli/events"
	"linli/viewer"
)

// notifSub receives the new notifications of one person (myNotifications).
type notifSub struct {
	ch chan *ent.Notification
	v  *viewer.Viewer
}

// notifSubs are a broker's inbox subscribers by person, under their own lock.
type notifSubs struct {
	mu       sync.Mutex
	byPerson map[int]map[*notifSub]struct{}
}

// MyNotifications subscribes the viewer to the notifications put in their
// inbox from now on, on every replica.
func (b *Broker) MyNotifications(ctx context.Context) (<-chan *ent.Notification, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk() || v.PersonID == 0:
		return nil, apperr.New(apperr.Forbidden, "only a person has notifications")
	}
	sub := &notifSub{ch: make(chan *ent.Notification, b.opts.SubscriberBuffer), v: v}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil {
		return nil, errClosed
	}
	ns := &b.notifs
	ns.mu.Lock()
	if ns.byPerson == nil {
		ns.byPerson = map[int]map[*notifSub]struct{}{}
	}
	set := ns.byPerson[v.PersonID]
	if set == nil {
		set = map[*notifSub]struct{}{}
		ns.byPerson[v.PersonID] = set
	}
	set[sub] = struct{}{}
	ns.mu.Unlock()
	context.AfterFunc(ctx, func() {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		delete(set, sub)
		if cur, ok := ns.byPerson[v.PersonID]; ok && len(cur) == 0 {
			delete(ns.byPerson, v.PersonID)
		}
	})
	return sub.ch, nil
}

func (ns *notifSubs) of(personID int) []*notifSub {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	subs := make([]*notifSub, 0, len(ns.byPerson[personID]))
	for s := range ns.byPerson[personID] {
		subs = append(subs, s)
	}
	return subs
}

// NotificationSubscribers counts this replica's inbox subscribers.
func (b *Broker) NotificationSubscribers() int {
	b.notifs.mu.Lock()
	defer b.notifs.mu.Unlock()
	n := 0
	for _, set := range b.notifs.byPerson {
		n += len(set)
	}
	return n
}

// dispatchNotification reads a new notification as its owner and hands it
// to their subscribers; people without a subscriber here cost nothing.
func (b *Broker) dispatchNotification(ev events.Event) {
	if ev.NotificationID == 0 || ev.PersonID == 0 {
		return
	}
	subs := b.notifs.of(ev.PersonID)
	if len(subs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(viewer.NewContext(b.ctx, subs[0].v), loadTimeout)
	n, err := b.client.Notification.Get(ctx, ev.NotificationID)
	cancel()
	switch {
	case ent.IsNotFound(err) || errors.Is(err, privacy.Deny):
		return
	case err != nil:
		b.log.Warn("load notification for subscribers", "notification", ev.NotificationID, "error", err.Error())
		return
	case n.PersonID != ev.PersonID:
		return
	}
	for _, s := range subs {
		if !offerDropOldest(s.ch, n) {
			droppedEvents.Inc()
		}
	}
}

// notificationsSince lists, as events, the notifications made after since
// for people with inbox subscribers (the listener's re-sync).
func (b *Broker) notificationsSince(ctx context.Context, since time.Time) []events.Event {
	b.notifs.mu.Lock()
	people := make([]int, 0, len(b.notifs.byPerson))
	for id := range b.notifs.byPerson {
		people = append(people, id)
	}
	b.notifs.mu.Unlock()
	if len(people) == 0 {
		return nil
	}
	ns, err := b.client.Notification.Query().Where(notification.PersonIDIn(people...), notification.CreatedAtGTE(since)).
		Order(ent.Asc(notification.FieldID)).Limit(2000).All(ctx)
	if err != nil {
		b.log.Warn("re-sync notifications", "error", err.Error())
		return nil
	}
	out := make([]events.Event, len(ns))
	for i, n := range ns {
		out[i] = events.Event{Kind: events.Notification, CommunityID: n.CommunityID, PersonID: n.PersonID, NotificationID: n.ID}
	}
	return out
}
