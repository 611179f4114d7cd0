package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"linli/app"
	"linli/ent"
	"linli/ent/registration"
	"linli/events"
	"linli/linlitest"
	"linli/viewer"
)

func id(n int) string { return linlitest.ID(n) }

func TestActivityCountsSnapshotThenChanges(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 12}, {Name: "医生", Capacity: 2}}})
		people := newResidents(t, e, c.ID, 4)
		people.signUp(t, slots[0].ID)

		ws := connect(t, e.Server.URL, token)
		ws.subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
		var first countsMsg
		ws.data(ws.next(5*time.Second), &first)
		got := first.ActivityCounts
		if got.ActivityID != id(a.ID) || len(got.Slots) != 2 || got.Slots[0].Taken != 1 || got.Slots[0].Capacity != 12 || got.Slots[1].Capacity != 2 {
			t.Fatalf("first message is not the current snapshot: %+v", got)
		}
		last := got.Version
		for i := 2; i <= 4; i++ {
			if outcome := people.signUp(t, slots[0].ID); outcome != "CONFIRMED" {
				t.Fatalf("sign-up %d: %s", i, outcome)
			}
			var m countsMsg
			ws.data(ws.next(5*time.Second), &m)
			if m.ActivityCounts.Version <= last {
				t.Fatalf("version went from %d to %d", last, m.ActivityCounts.Version)
			}
			last = m.ActivityCounts.Version
			if m.ActivityCounts.Slots[0].Taken != i {
				t.Fatalf("after %d seats taken the subscriber sees %d", i, m.ActivityCounts.Slots[0].Taken)
			}
		}

		// Stopping the subscription releases the activity's watcher.
		ws.complete("1")
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().Activities == 0 }, "watcher released")
	})
}

// A storm of changes reaches a subscriber coalesced, and the last message
// it gets is the final state.
func TestActivityCountsCoalesceAndEndOnLatest(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 500}}})
		people := newResidents(t, e, c.ID, 60)
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
		var m countsMsg
		ws.data(ws.next(5*time.Second), &m)

		const changes = 60
		people.signUpConcurrently(t, slots[0].ID, changes, 6)
		messages := 0
		for m.ActivityCounts.Slots[0].Taken != changes {
			ws.data(ws.next(5*time.Second), &m)
			messages++
		}
		if messages >= changes {
			t.Fatalf("%d changes produced %d messages: nothing was coalesced", changes, messages)
		}
		if msg, err := ws.read(300 * time.Millisecond); err == nil {
			t.Fatalf("a message after the final state: %s %s", msg.Type, msg.Payload)
		}
	})
}

func TestActivityCountsAuthorization(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		mine := e.Community(t, "前进社区")
		other := e.Community(t, "幸福社区")
		_, outsider := e.Person(t, other.ID, "外人")
		a, _ := e.Activity(t, mine.ID, linlitest.ActivitySpec{})

		ws := connect(t, e.Server.URL, outsider)
		ws.subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
		if code := errorCode(ws.nextFor("1", 5*time.Second)); code != "NOT_FOUND" {
			t.Fatalf("an outsider subscribing to another community's activity: want NOT_FOUND, got %s", code)
		}
		ws.subscribe("2", `subscription($c: ID!) { activityFeed(communityID: $c) { change } }`, map[string]any{"c": id(mine.ID)})
		if code := errorCode(ws.nextFor("2", 5*time.Second)); code != "FORBIDDEN" {
			t.Fatalf("an outsider subscribing to another community's feed: want FORBIDDEN, got %s", code)
		}
	})
}

func TestActivityFeed(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "幸福社区")
		_, resident := e.Person(t, c.ID, "居民")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, otherStaff := e.Person(t, other.ID, "别的社工", viewer.Coordinator)
		draft, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "道德讲堂", Status: "DRAFT"})
		foreign, _ := e.Activity(t, other.ID, linlitest.ActivitySpec{Title: "外面的", Status: "DRAFT"})

		feed := `subscription($c: ID!) { activityFeed(communityID: $c) { change activity { id title status } } }`
		rs := connect(t, e.Server.URL, resident)
		rs.subscribe("f", feed, map[string]any{"c": id(c.ID)})
		st := connect(t, e.Server.URL, staff)
		st.subscribe("f", feed, map[string]any{"c": id(c.ID)})
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 2 }, "feed subscribers registered")

		// Another community's change reaches nobody here.
		e.Do(t, otherStaff, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": id(foreign.ID)})
		// A draft's change reaches staff only; its publication reaches everyone.
		e.Do(t, staff, `mutation($id: ID!) { updateActivity(id: $id, input: {title: "道德讲堂（改）"}) { id } }`, map[string]any{"id": id(draft.ID)})
		type feedMsg struct {
			ActivityFeed struct {
				Change   string
				Activity struct{ ID, Title, Status string }
			}
		}
		var m feedMsg
		st.data(st.next(5*time.Second), &m)
		if m.ActivityFeed.Change != "UPDATED" || m.ActivityFeed.Activity.ID != id(draft.ID) || m.ActivityFeed.Activity.Status != "DRAFT" {
			t.Fatalf("staff's first event: %+v", m)
		}
		res := e.Do(t, staff, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": id(draft.ID)})
		if len(res.Errors) > 0 {
			t.Fatalf("publish: %+v", res.Errors)
		}
		st.data(st.next(5*time.Second), &m)
		if m.ActivityFeed.Change != "PUBLISHED" || m.ActivityFeed.Activity.Status != "PUBLISHED" {
			t.Fatalf("staff's second event: %+v", m)
		}
		// Events are hints read when they are handed out: the draft's
		// update may reach the resident as an update of what is, by then,
		// published. What must never reach them is a draft.
		m = feedMsg{}
		for m.ActivityFeed.Change != "PUBLISHED" {
			rs.data(rs.next(5*time.Second), &m)
			if m.ActivityFeed.Activity.ID != id(draft.ID) || m.ActivityFeed.Activity.Status != "PUBLISHED" {
				t.Fatalf("the resident got %+v, want only the published activity", m)
			}
		}
		if msg, err := rs.read(300 * time.Millisecond); err == nil {
			t.Fatalf("resident got more: %s", msg.Payload)
		}
	})
}

func TestMyRegistrationUpdatesOnlyOwn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		me, token := e.Person(t, c.ID, "我")
		other, _ := e.Person(t, c.ID, "别人")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		mine := register(t, e, me, slots[0], "WAITLISTED")
		theirs := register(t, e, other, slots[0], "WAITLISTED")
		_ = a

		ws := connect(t, e.Server.URL, token)
		ws.subscribe("r", `subscription { myRegistrationUpdates { change registration { id status person { id } } } }`, nil)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 1 }, "subscriber registered")

		// A hint naming the wrong person must not leak another's registration.
		e.App.Live.Publish(
			events.Event{Kind: events.Registration, RegistrationID: theirs.ID, PersonID: other.ID, Change: "PROMOTED"},
			events.Event{Kind: events.Registration, RegistrationID: theirs.ID, PersonID: me.ID, Change: "PROMOTED"},
		)
		if err := e.Client.Registration.UpdateOneID(mine.ID).SetStatus("CONFIRMED").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.App.Live.Publish(events.Event{Kind: events.Registration, RegistrationID: mine.ID, PersonID: me.ID, Change: "PROMOTED"})

		var m struct {
			MyRegistrationUpdates struct {
				Change       string
				Registration struct {
					ID, Status string
					Person     struct{ ID string }
				}
			}
		}
		ws.data(ws.next(5*time.Second), &m)
		got := m.MyRegistrationUpdates
		if got.Change != "PROMOTED" || got.Registration.ID != id(mine.ID) || got.Registration.Status != "CONFIRMED" || got.Registration.Person.ID != id(me.ID) {
			t.Fatalf("got %+v", got)
		}
		if msg, err := ws.read(300 * time.Millisecond); err == nil {
			t.Fatalf("another person's registration leaked: %s", msg.Payload)
		}
	})
}

func register(t testing.TB, e *linlitest.Env, p *ent.Person, s *ent.Slot, status string) *ent.Registration {
	t.Helper()
	r, err := e.Client.Registration.Create().SetCommunityID(s.CommunityID).SetSlotID(s.ID).SetActivityID(s.ActivityID).
		SetPersonID(p.ID).SetStatus("WAITLISTED").SetCheckInCode(fmt.Sprintf("code-%d-%d", s.ID, p.ID)).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if status != "WAITLISTED" {
		if r, err = r.Update().SetStatus(registration.Status(status)).Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func waitFor(t testing.TB, d time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The legacy subscriptions-transport-ws protocol works on the same endpoint.
func TestLegacyProtocol(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	ws, _, err := dialWS(t, e.Server.URL, "graphql-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.init(token)
	if m := ws.next(5 * time.Second); m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	ws.subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
	var m countsMsg
	ws.data(ws.next(5*time.Second), &m)
	people := newResidents(t, e, c.ID, 3)
	for range 3 {
		people.signUp(t, slots[0].ID)
	}
	for m.ActivityCounts.Slots[0].Taken != 3 {
		ws.data(ws.next(5*time.Second), &m)
	}
}

// Server-sent events carry the same subscription.
func TestSSE(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	body, _ := json.Marshal(map[string]any{"query": countsQuery, "variables": map[string]any{"id": id(a.ID)}})
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", bytesReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := sseEvents(resp.Body)
	first := <-events
	var m struct{ Data countsMsg }
	if err := json.Unmarshal([]byte(first), &m); err != nil || m.Data.ActivityCounts.ActivityID != id(a.ID) {
		t.Fatalf("first SSE event %q (%v)", first, err)
	}
	newResidents(t, e, c.ID, 1).signUp(t, slots[0].ID)
	select {
	case ev := <-events:
		if err := json.Unmarshal([]byte(ev), &m); err != nil || m.Data.ActivityCounts.Slots[0].Taken != 1 {
			t.Fatalf("second SSE event %q", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no SSE event after a sign-up")
	}

	// Shutdown ends the stream.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.App.Shutdown(ctx)
	select {
	case _, ok := <-events:
		for ok {
			_, ok = <-events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SSE stream still open after shutdown")
	}
}

func plainCounts(c *app.Config) { c.Live.PlainCounts = true }

// The fast path renders exactly what the executor would, whatever the
// selection: aliases, fragments, __typename, @include/@skip.
func TestFastCountsMatchesExecutor(t *testing.T) {
	queries := []string{
		countsQuery,
		`subscription($id: ID!) { live: activityCounts(activityID: $id) { __typename v: version id: activityID slots { __typename free: capacity taken } } }`,
		`subscription($id: ID!, $more: Boolean!) { activityCounts(activityID: $id) { ...C } }
		 fragment C on ActivityCounts { version slots { slotID ... on SlotCounts { checkedIn waitlisted @include(if: $more) } taken @skip(if: $more) } }`,
		`subscription($id: ID!) { activityCounts(activityID: $id) { version } }`,
	}
	fast := linlitest.New(t, "sqlite")
	plain := linlitest.New(t, "sqlite", plainCounts)
	payloads := func(e *linlitest.Env) []string {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 12}, {Name: "医生", Capacity: 2}}})
		newResidents(t, e, c.ID, 1).signUp(t, slots[1].ID)
		ws := connect(t, e.Server.URL, token)
		var out []string
		for i, q := range queries {
			ws.subscribe(fmt.Sprint(i), q, map[string]any{"id": id(a.ID), "more": i%2 == 0})
			out = append(out, string(ws.nextFor(fmt.Sprint(i), 5*time.Second).Payload))
		}
		if fast := e.App.Live.Stats().FastCountsSubscribers; (fast > 0) == e.App.Config.Live.PlainCounts {
			t.Fatalf("plain=%v but %d subscribers on the fast path", e.App.Config.Live.PlainCounts, fast)
		}
		return out
	}
	got, want := payloads(fast), payloads(plain)
	for i := range queries {
		var g, w any
		if err := json.Unmarshal([]byte(got[i]), &g); err != nil {
			t.Fatalf("query %d: fast path sent invalid JSON %s", i, got[i])
		}
		_ = json.Unmarshal([]byte(want[i]), &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Fatalf("query %d:\nfast path %s\nexecutor  %s", i, got[i], want[i])
		}
	}
}

// The executor path (used when the fast path is off) behaves the same.
func TestActivityCountsThroughExecutor(t *testing.T) {
	e := linlitest.New(t, "sqlite", plainCounts)
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	ws := connect(t, e.Server.URL, token)
	ws.subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
	var m countsMsg
	ws.data(ws.next(5*time.Second), &m)
	people := newResidents(t, e, c.ID, 3)
	for i := 1; i <= 3; i++ {
		people.signUp(t, slots[0].ID)
		ws.data(ws.next(5*time.Second), &m)
		if m.ActivityCounts.Slots[0].Taken != i {
			t.Fatalf("executor path: %d taken, subscriber sees %+v", i, m)
		}
	}
}

// A freed seat promotes the head of the waitlist; that person, and only
// that person, hears of it at once.
func TestWaitlistPromotionReachesThatPerson(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "义诊", Capacity: 1}}})
		people, tokens := e.People(t, c.ID, 3, "排队")
		signUp := func(token string) string {
			res := e.Do(t, token, signUpMutation, map[string]any{"slot": id(slots[0].ID)})
			var d struct {
				SignUp struct {
					Outcome      string
					Registration struct{ ID string }
				}
			}
			res.Decode(t, &d)
			return d.SignUp.Registration.ID
		}
		first := signUp(tokens[0])
		second := signUp(tokens[1])
		const updates = `subscription { myRegistrationUpdates { change registration { id status person { id } } } }`
		waiting := connect(t, e.Server.URL, tokens[1])
		waiting.subscribe("r", updates, nil)
		bystander := connect(t, e.Server.URL, tokens[2])
		bystander.subscribe("r", updates, nil)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 2 }, "subscribed")

		res := e.Do(t, tokens[0], `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`, map[string]any{"r": first})
		if len(res.Errors) > 0 {
			t.Fatalf("cancel: %+v", res.Errors)
		}
		var m struct {
			MyRegistrationUpdates struct {
				Change       string
				Registration struct {
					ID, Status string
					Person     struct{ ID string }
				}
			}
		}
		waiting.data(waiting.next(5*time.Second), &m)
		got := m.MyRegistrationUpdates
		if got.Change != "PROMOTED" || got.Registration.ID != second || got.Registration.Status != "CONFIRMED" || got.Registration.Person.ID != id(people[1].ID) {
			t.Fatalf("the promoted person got %+v", got)
		}
		if msg, err := bystander.read(300 * time.Millisecond); err == nil {
			t.Fatalf("a bystander heard of someone else's promotion: %s", msg.Payload)
		}
	})
}

// Under a storm of sign-ups every one of many subscribers ends on the final
// counts, however the hand-outs were cut short by newer readings.
func TestManySubscribersAllEndOnLatest(t *testing.T) {
	linlitest.Slow(t)
	e := linlitest.New(t, "sqlite", func(c *app.Config) {
		c.Live.Broker.MinInterval = 2 * time.Millisecond
		c.Live.MaxConnectionsPerPerson = -1 // one token, 300 sockets
	})
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 1000}}})
	const subscribers, signups = 300, 80
	clients := make([]*wsClient, subscribers)
	for i := range clients {
		clients[i] = connect(t, e.Server.URL, token)
		clients[i].subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
	}
	people := newResidents(t, e, c.ID, signups)
	people.signUpConcurrently(t, slots[0].ID, signups, 4)
	for i, ws := range clients {
		var m countsMsg
		for m.ActivityCounts.Slots == nil || m.ActivityCounts.Slots[0].Taken != signups {
			msg, err := ws.read(5 * time.Second)
			if err != nil {
				t.Fatalf("subscriber %d stopped at %+v: %v", i, m.ActivityCounts, err)
			}
			ws.data(msg, &m)
		}
	}
}
