package live_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/ent"
	"linli/ent/session"
	"linli/ent/teammembership"
	"linli/events"
	"linli/linlitest"
	"linli/viewer"
)

// sseStream is one SSE subscription: its events and whether it has ended.
type sseStream struct {
	status int
	body   []byte // the answer when it was refused
	events <-chan string
	close  func()
}

// openSSE posts a subscription with Accept: text/event-stream.
func openSSE(t testing.TB, serverURL, token, query string, vars map[string]any) *sseStream {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, serverURL+"/graphql", bytesReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s := &sseStream{status: resp.StatusCode, close: func() { resp.Body.Close() }}
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		var buf [4096]byte
		n, _ := resp.Body.Read(buf[:])
		s.body = buf[:n]
		return s
	}
	s.events = sseEvents(resp.Body)
	return s
}

// ends waits up to d for the stream to end, failing the test if it delivers
// anything meanwhile or stays open.
func (s *sseStream) ends(t testing.TB, d time.Duration, what string) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			t.Fatalf("%s: the SSE stream delivered %s", what, ev)
		case <-timeout:
			t.Fatalf("%s: the SSE stream is still open after %v", what, d)
		}
	}
}

const (
	feedQuery      = `subscription($c: ID!) { activityFeed(communityID: $c) { change activity { id title status } } }`
	createTeam     = `mutation($n: String!) { createTeam(input: {name: $n}) { id } }`
	registrationsQ = `query($a: ID!) { activityRegistrations(activityID: $a, first: 10) { totalCount } }`
	setRoles       = `mutation($p: ID!, $r: [Role!]!) { setRoles(personID: $p, roles: $r) { id roles } }`
)

type feedMsg struct {
	ActivityFeed struct {
		Change   string
		Activity struct{ ID, Title, Status string }
	}
}

// quiet fails the test if subscription id delivers anything within d.
func (c *wsClient) quiet(id string, d time.Duration, what string) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			return
		}
		if m.ID == id && m.Type != "complete" {
			c.t.Fatalf("%s: %s %s", what, m.Type, m.Payload)
		}
	}
}

// op runs a query or mutation over the socket and returns its answer.
func (c *wsClient) op(id, query string, vars map[string]any) wsMsg {
	c.t.Helper()
	c.subscribe(id, query, vars)
	return c.nextFor(id, 5*time.Second)
}

// A coordinator demoted while a websocket and an SSE stream are open loses
// both within a second (the change's event, not the periodic re-check, which
// is an hour away here); reconnecting with the same token gives the new
// viewer: no staff mutations, no drafts in the feed.
func TestDemotionEndsLiveConnections(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, boss := e.Person(t, c.ID, "站长", viewer.Coordinator)
		coord, token := e.Person(t, c.ID, "社工", viewer.Coordinator)
		draft, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "草稿", Status: "DRAFT"})
		vars := map[string]any{"c": id(c.ID)}

		ws := connect(t, e.Server.URL, token)
		var team struct{ CreateTeam struct{ ID string } }
		ws.data(ws.op("t1", createTeam, map[string]any{"n": "一队"}), &team)
		ws.subscribe("f", feedQuery, vars)
		sse := openSSE(t, e.Server.URL, token, feedQuery, vars)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 2 }, "feed subscribed twice")

		e.Do(t, boss, setRoles, map[string]any{"p": id(coord.ID), "r": []string{"RESIDENT"}}).Decode(t, &struct{}{})
		if code := ws.closeCode(time.Second); code != 4403 {
			t.Fatalf("want close 4403 within a second of the demotion, got %d", code)
		}
		sse.ends(t, time.Second, "after the demotion")

		// graphql-ws reconnects after a 4403; the new socket has the new viewer.
		again := connect(t, e.Server.URL, token)
		if code := errorCode(again.op("t2", createTeam, map[string]any{"n": "二队"})); code != "FORBIDDEN" {
			t.Fatalf("createTeam after the demotion: want FORBIDDEN, got %s", code)
		}
		if code := errorCode(again.op("r", registrationsQ, map[string]any{"a": id(draft.ID)})); code != "FORBIDDEN" && code != "NOT_FOUND" {
			t.Fatalf("activityRegistrations after the demotion: want a refusal, got %s", code)
		}
		again.subscribe("f", feedQuery, vars)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 1 }, "feed subscribed again")
		e.Do(t, boss, `mutation($id: ID!) { updateActivity(id: $id, input: {title: "草稿（改）"}) { id } }`, map[string]any{"id": id(draft.ID)}).Decode(t, &struct{}{})
		again.quiet("f", 300*time.Millisecond, "a demoted coordinator's feed got a draft")
	}, slowSessionChecks)
}

// A team leader removed from their team loses their live connections at
// once too; their feed carried their team's drafts until then (the feed
// obeys the read rule: leaders see their own teams' drafts).
func TestLeaderRemovedFromTeamEndsLiveConnections(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, boss := e.Person(t, c.ID, "站长", viewer.Coordinator)
		leader, token := e.Person(t, c.ID, "队长", viewer.TeamLeader)
		team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName("医疗健康服务队").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Client.TeamMembership.Create().SetCommunityID(c.ID).SetTeamID(team.ID).SetPersonID(leader.ID).
			SetRole(teammembership.RoleLEADER).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		draft, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊草稿", Status: "DRAFT"})
		if err := draft.Update().SetTeamID(team.ID).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("f", feedQuery, map[string]any{"c": id(c.ID)})
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 1 }, "feed subscribed")
		e.Do(t, boss, `mutation($id: ID!) { updateActivity(id: $id, input: {title: "义诊（改）"}) { id } }`, map[string]any{"id": id(draft.ID)}).Decode(t, &struct{}{})
		var m feedMsg
		ws.data(ws.nextFor("f", 5*time.Second), &m)
		if m.ActivityFeed.Activity.ID != id(draft.ID) || m.ActivityFeed.Activity.Status != "DRAFT" {
			t.Fatalf("the leader's feed: %+v", m)
		}
		e.Do(t, boss, `mutation($t: ID!, $p: ID!) { removeTeamMember(teamID: $t, personID: $p) }`,
			map[string]any{"t": id(team.ID), "p": id(leader.ID)}).Decode(t, &struct{}{})
		if code := ws.closeCode(time.Second); code != 4403 {
			t.Fatalf("want close 4403 within a second of leaving the team, got %d", code)
		}
	}, slowSessionChecks)
}

// Over a socket still open, every operation runs as the token's current
// viewer: with the event gone missing (roles changed in the database
// behind linli's back) and no token cache, a demoted coordinator's next
// createTeam and activityRegistrations are refused, and the socket closes.
func TestSocketOperationsRunAsCurrentViewer(t *testing.T) {
	noCache := func(c *app.Config) { c.TokenCacheTTL = 0 }
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		coord, token := e.Person(t, c.ID, "社工", viewer.Coordinator)
		a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		ws := connect(t, e.Server.URL, token)
		var out struct {
			ActivityRegistrations struct{ TotalCount int }
		}
		ws.data(ws.op("r1", registrationsQ, map[string]any{"a": id(a.ID)}), &out)

		demoteBehindTheBack(t, e, coord)
		// The socket closes as soon as the operation sees the new viewer,
		// so the refusal may or may not make it out before the close frame.
		ws.subscribe("t", createTeam, map[string]any{"n": "一队"})
		ws.subscribe("r2", registrationsQ, map[string]any{"a": id(a.ID)})
		for {
			m, err := ws.read(time.Second)
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if ce.Code != 4403 {
					t.Fatalf("want close 4403 once an operation saw the new viewer, got %d", ce.Code)
				}
				break
			}
			if err != nil {
				t.Fatalf("want close 4403 once an operation saw the new viewer: %v", err)
			}
			if m.Type != "complete" {
				if code := errorCode(m); code != "FORBIDDEN" {
					t.Fatalf("%s over the open socket after the demotion: want FORBIDDEN, got %s", m.ID, code)
				}
			}
		}
		if n, err := e.Client.Team.Query().Count(e.Sys()); err != nil || n != 0 {
			t.Fatalf("%d teams (%v)", n, err)
		}
	}, slowSessionChecks, noCache)
}

func demoteBehindTheBack(t testing.TB, e *linlitest.Env, p *ent.Person) {
	t.Helper()
	if err := e.Client.Person.UpdateOneID(p.ID).SetRoles([]string{"RESIDENT"}).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
}

// The periodic re-check catches a change whose event was lost: roles
// changed straight in the database end the person's socket and SSE stream.
func TestLostRoleChangeCaughtByRecheck(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		coord, token := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, other := e.Person(t, c.ID, "另一个社工", viewer.Coordinator)
		vars := map[string]any{"c": id(c.ID)}
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("f", feedQuery, vars)
		bystander := connect(t, e.Server.URL, other)
		bystander.subscribe("f", feedQuery, vars)
		sse := openSSE(t, e.Server.URL, token, feedQuery, vars)
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 3 }, "feed subscribed")
		// Several re-checks pass while nothing changed.
		time.Sleep(300 * time.Millisecond)
		if n := e.App.Live.Stats().FeedSubscribers; n != 3 {
			t.Fatalf("%d feed subscribers left while nothing changed", n)
		}
		demoteBehindTheBack(t, e, coord)
		if code := ws.closeCode(2 * time.Second); code != 4403 {
			t.Fatalf("want close 4403 after the re-check, got %d", code)
		}
		sse.ends(t, 2*time.Second, "after the re-check")
		waitFor(t, time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 1 }, "only the bystander left")
	}, fastLive)
}

// A demotion on one replica ends the person's socket and SSE stream on the
// other within a second, and that replica stops trusting its cached viewer.
func TestDemotionReachesOtherReplica(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	longCache := func(c *app.Config) { c.TokenCacheTTL = time.Hour }
	one, two := replica(t, dbURL, slowSessionChecks, longCache), replica(t, dbURL, slowSessionChecks, longCache)
	c := one.Community(t, "前进社区")
	_, boss := one.Person(t, c.ID, "站长", viewer.Coordinator)
	coord, token := one.Person(t, c.ID, "社工", viewer.Coordinator)
	a, _ := one.Activity(t, c.ID, linlitest.ActivitySpec{})
	vars := map[string]any{"c": id(c.ID)}
	// Replica one caches the coordinator's viewer (for an hour).
	one.Do(t, token, registrationsQ, map[string]any{"a": id(a.ID)}).Decode(t, &struct{}{})
	ws := connect(t, one.Server.URL, token)
	ws.subscribe("f", feedQuery, vars)
	sse := openSSE(t, one.Server.URL, token, feedQuery, vars)
	waitFor(t, 2*time.Second, func() bool { return one.App.Live.Stats().FeedSubscribers == 2 }, "feed subscribed")

	two.Do(t, boss, setRoles, map[string]any{"p": id(coord.ID), "r": []string{"RESIDENT"}}).Decode(t, &struct{}{})
	if code := ws.closeCode(time.Second); code != 4403 {
		t.Fatalf("want close 4403 on replica one within a second of the demotion on replica two, got %d", code)
	}
	sse.ends(t, time.Second, "on replica one after the demotion on replica two")
	waitFor(t, time.Second, func() bool {
		return one.Do(t, token, registrationsQ, map[string]any{"a": id(a.ID)}).Code() == "FORBIDDEN"
	}, "replica one refuses the demoted coordinator")
}

// The feed reads each change as its subscribers, one read per group of
// subscribers who read alike: staff and the draft's team leader get a
// draft's change, residents and another team's leader never do.
func TestFeedObeysReadRule(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		lead := func(name, teamName string) (string, int) {
			p, token := e.Person(t, c.ID, name, viewer.TeamLeader)
			team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName(teamName).Save(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Client.TeamMembership.Create().SetCommunityID(c.ID).SetTeamID(team.ID).SetPersonID(p.ID).
				SetRole(teammembership.RoleLEADER).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
			return token, team.ID
		}
		ours, ourTeam := lead("医疗队长", "医疗健康服务队")
		theirs, _ := lead("文艺队长", "文化文艺服务队")
		_, residents := e.People(t, c.ID, 10, "居民")
		draft, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊草稿", Status: "DRAFT"})
		if err := draft.Update().SetTeamID(ourTeam).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		vars := map[string]any{"c": id(c.ID)}
		sub := func(token string) *wsClient {
			ws := connect(t, e.Server.URL, token)
			ws.subscribe("f", feedQuery, vars)
			return ws
		}
		getters := []*wsClient{sub(staff), sub(ours)}
		others := []*wsClient{sub(theirs)}
		for _, r := range residents {
			others = append(others, sub(r))
		}
		waitFor(t, 2*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 13 }, "feed subscribed")

		change := func(title string) {
			for i, ws := range getters {
				var m feedMsg
				ws.data(ws.nextFor("f", 5*time.Second), &m)
				if m.ActivityFeed.Activity.ID != id(draft.ID) || m.ActivityFeed.Activity.Title != title {
					t.Fatalf("subscriber %d got %+v", i, m)
				}
			}
			for _, ws := range others {
				ws.quiet("f", 100*time.Millisecond, "a subscriber who may not read the draft got it")
			}
		}
		e.Do(t, staff, `mutation($id: ID!) { updateActivity(id: $id, input: {title: "义诊（改）"}) { id } }`, map[string]any{"id": id(draft.ID)}).Decode(t, &struct{}{})
		change("义诊（改）")

		// Four groups read alike (staff, each leader, the residents): a
		// change costs one read per group, not one per subscriber.
		before := e.Statements.Load()
		e.App.Live.Publish(events.Event{Kind: events.Activity, CommunityID: c.ID, ActivityID: draft.ID, Change: "UPDATED"})
		change("义诊（改）")
		if n := e.Statements.Load() - before; n > 4 {
			t.Fatalf("%d statements to hand one change to 13 subscribers in 4 groups", n)
		}
	}, slowSessionChecks)
}

// A connection ends when its session expires, by the clock, not at the
// next re-check (an hour away here).
func TestLiveConnectionsEndAtExpiry(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, token := e.Person(t, c.ID, "居民")
		expires := time.Now().Add(time.Second)
		if err := e.Client.Session.Update().Where(session.PersonID(p.ID)).SetExpiresAt(expires).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("r", regUpdates, nil)
		sse := openSSE(t, e.Server.URL, token, regUpdates, nil)
		waitFor(t, time.Second, func() bool { return e.App.Live.Stats().RegistrationSubscribers == 2 }, "subscribed")
		if code := ws.closeCode(2 * time.Second); code != 4403 {
			t.Fatalf("want close 4403 at expiry, got %d", code)
		}
		sse.ends(t, time.Second, "at expiry")
		if late := time.Since(expires); late > time.Second {
			t.Fatalf("ended %v after the session expired", late)
		}
	}, slowSessionChecks)
}
