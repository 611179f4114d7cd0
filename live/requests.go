package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/privacy"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/events"
	"linli/viewer"
)

// requestSub receives request transitions: of a community (requestUpdates)
// or of one person's own requests (myRequestUpdates).
type requestSub struct {
	ch chan *ent.RequestEvent
	// v is the subscriber: each transition is read as them, so the privacy
	// rules (authz.Requests) decide what reaches them.
	v *viewer.Viewer
}

// requestSubs are a broker's request subscribers, under their own lock.
type requestSubs struct {
	mu          sync.Mutex
	byCommunity map[int]map[*requestSub]struct{}
	byPerson    map[int]map[*requestSub]struct{}
}

func (rs *requestSubs) add(ctx context.Context, byPerson bool, key int, sub *requestSub) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := &rs.byCommunity
	if byPerson {
		m = &rs.byPerson
	}
	if *m == nil {
		*m = map[int]map[*requestSub]struct{}{}
	}
	set := (*m)[key]
	if set == nil {
		set = map[*requestSub]struct{}{}
		(*m)[key] = set
	}
	set[sub] = struct{}{}
	context.AfterFunc(ctx, func() {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		delete(set, sub)
		if cur, ok := (*m)[key]; ok && len(cur) == 0 {
			delete(*m, key)
		}
	})
}

// of lists the subscribers to a transition of community cid whose
// submitter is personID, each once.
func (rs *requestSubs) of(cid, personID int) []*requestSub {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var subs []*requestSub
	for s := range rs.byCommunity[cid] {
		subs = append(subs, s)
	}
	if personID != 0 {
		for s := range rs.byPerson[personID] {
			subs = append(subs, s)
		}
	}
	return subs
}

func (b *Broker) subscribeRequests(ctx context.Context, byPerson bool, key int, v *viewer.Viewer) (<-chan *ent.RequestEvent, error) {
	sub := &requestSub{ch: make(chan *ent.RequestEvent, b.opts.SubscriberBuffer), v: v}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil {
		return nil, errClosed
	}
	b.reqs.add(ctx, byPerson, key, sub)
	return sub.ch, nil
}

// RequestUpdates subscribes the viewer to the transitions of a community's
// requests (their own community's; any for admins). Each reaches them only
// if they may read the request: staff every one, a team leader their
// teams', a resident or volunteer their own and those assigned to them.
func (b *Broker) RequestUpdates(ctx context.Context, communityID int) (<-chan *ent.RequestEvent, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk():
		return nil, apperr.New(apperr.Forbidden, "kiosks do not follow requests")
	case !v.IsAdmin() && v.CommunityID != communityID:
		return nil, apperr.New(apperr.Forbidden, "not a member of this community")
	}
	return b.subscribeRequests(ctx, false, communityID, v)
}

// MyRequestUpdates subscribes the viewer to the transitions of the requests
// submitted by or for them.
func (b *Broker) MyRequestUpdates(ctx context.Context) (<-chan *ent.RequestEvent, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk() || v.PersonID == 0:
		return nil, apperr.New(apperr.Forbidden, "kiosks do not follow requests")
	}
	return b.subscribeRequests(ctx, true, v.PersonID, v)
}

// requestScope names what reading a request depends on: unlike an
// activity, who the viewer is (submitter, assignee), so the person too.
func requestScope(v *viewer.Viewer) string {
	roles := slices.Clone(v.Roles)
	slices.Sort(roles)
	teams := slices.Clone(v.LeadTeams)
	slices.Sort(teams)
	return fmt.Sprint(v.CommunityID, v.PersonID, roles, teams, v.KioskID)
}

// dispatchRequest reads the recorded transition once per subscriber scope,
// as that subscriber, with its request: what the privacy rules hide from
// them (another's request) does not reach them.
func (b *Broker) dispatchRequest(ev events.Event) {
	if ev.RequestEventID == 0 || ev.CommunityID == 0 {
		return
	}
	scopes := map[string][]*requestSub{}
	for _, s := range b.reqs.of(ev.CommunityID, ev.PersonID) {
		k := requestScope(s.v)
		if !slices.Contains(scopes[k], s) {
			scopes[k] = append(scopes[k], s)
		}
	}
	for _, subs := range scopes {
		ctx, cancel := context.WithTimeout(viewer.NewContext(b.ctx, subs[0].v), loadTimeout)
		out, err := b.client.RequestEvent.Query().Where(requestevent.ID(ev.RequestEventID)).
			WithRequest().Only(ctx)
		cancel()
		switch {
		case ent.IsNotFound(err) || errors.Is(err, privacy.Deny):
			continue // not theirs to read
		case err != nil:
			b.log.Warn("load request event for subscribers", "event", ev.RequestEventID, "error", err.Error())
			continue
		case out.CommunityID != ev.CommunityID || out.Edges.Request == nil:
			continue // a wrong hint must not reach another community
		}
		for _, s := range subs {
			if !offerDropOldest(s.ch, out) {
				droppedEvents.Inc()
			}
		}
	}
}

// requestsChangedSince lists, as events, the transitions after since of the
// communities and people with request subscribers (the listener's re-sync
// after a reconnect: what was notified meanwhile is lost).
func (b *Broker) requestsChangedSince(ctx context.Context, since time.Time) []events.Event {
	b.reqs.mu.Lock()
	communities := make([]int, 0, len(b.reqs.byCommunity))
	for id := range b.reqs.byCommunity {
		communities = append(communities, id)
	}
	people := make([]int, 0, len(b.reqs.byPerson))
	for id := range b.reqs.byPerson {
		people = append(people, id)
	}
	b.reqs.mu.Unlock()
	if len(communities) == 0 && len(people) == 0 {
		return nil
	}
	q := b.client.RequestEvent.Query().Where(requestevent.AtGTE(since))
	if len(people) == 0 {
		q = q.Where(requestevent.CommunityIDIn(communities...))
	} else {
		q = q.Where(requestevent.Or(requestevent.CommunityIDIn(communities...),
			requestevent.HasRequestWith(request.SubmitterIDIn(people...))))
	}
	evs, err := q.WithRequest().Order(ent.Asc(requestevent.FieldID)).Limit(2000).All(ctx)
	if err != nil {
		b.log.Warn("re-sync request updates", "error", err.Error())
		return nil
	}
	out := make([]events.Event, 0, len(evs))
	for _, ev := range evs {
		e := events.Event{Kind: events.Request, CommunityID: ev.CommunityID, RequestID: ev.RequestID, RequestEventID: ev.ID}
		if r := ev.Edges.Request; r != nil && r.SubmitterID != nil {
			e.PersonID = *r.SubmitterID
		}
		out = append(out, e)
	}
	return out
}
