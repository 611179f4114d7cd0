package live_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
	"linli/viewer"
)

// replica starts one linli instance on dbURL, as a server replica would.
func replica(t *testing.T, dbURL string, opts ...linlitest.Option) *linlitest.Env {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.RateLimitPerMinute = 0
	cfg.Store.MaxOpenConns = 8 // the PostgreSQL server is shared with other suites
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.IDKey = linlitest.TestIDKey
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &linlitest.Env{Backend: "postgres", App: a, DB: a.DB, Client: a.DB.Client, Server: srv, Statements: &atomic.Int64{}}
}

func TestReplicasShareEvents(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	one, two := replica(t, dbURL), replica(t, dbURL)
	c := one.Community(t, "前进社区")
	_, token := one.Person(t, c.ID, "居民")
	_, staff := one.Person(t, c.ID, "社工", "COORDINATOR")
	a, slots := one.Activity(t, c.ID, linlitest.ActivitySpec{})
	draft, _ := one.Activity(t, c.ID, linlitest.ActivitySpec{Status: "DRAFT"})

	ws := connect(t, one.Server.URL, token)
	ws.subscribe("c", countsQuery, map[string]any{"id": id(a.ID)})
	ws.subscribe("f", `subscription($c: ID!) { activityFeed(communityID: $c) { change activity { id } } }`, map[string]any{"c": id(c.ID)})
	var m countsMsg
	ws.data(ws.nextFor("c", 5*time.Second), &m)
	waitFor(t, 2*time.Second, func() bool { return one.App.Live.Stats().FeedSubscribers == 1 }, "feed subscribed")

	// A sign-up through the other replica arrives here.
	newResidents(t, one, c.ID, 1).on(two).signUp(t, slots[0].ID)
	ws.data(ws.nextFor("c", 5*time.Second), &m)
	if m.ActivityCounts.Slots[0].Taken != 1 {
		t.Fatalf("subscriber on replica one sees %+v after a change on replica two", m)
	}
	res := two.Do(t, staff, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": id(draft.ID)})
	if len(res.Errors) > 0 {
		t.Fatalf("publish on replica two: %+v", res.Errors)
	}
	var f struct {
		ActivityFeed struct {
			Change   string
			Activity struct{ ID string }
		}
	}
	ws.data(ws.nextFor("f", 5*time.Second), &f)
	if f.ActivityFeed.Change != "PUBLISHED" || f.ActivityFeed.Activity.ID != id(draft.ID) {
		t.Fatalf("feed on replica one got %+v", f)
	}
}

// Killing the LISTEN connections while changes go on loses the events sent
// in the gap; the listeners reconnect and re-read, so subscribers still end
// on the true counts within two seconds.
func TestListenerKilledSubscribersConverge(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	// A listener reconnects at once after a long-lived connection drops, but
	// waits a second after one that dropped right after connecting: phase two
	// uses that to open a gap wide enough to put changes into.
	slowReconnect := func(c *app.Config) { c.Live.Broker.ReconnectMin = time.Second }
	one, two := replica(t, dbURL, slowReconnect), replica(t, dbURL, slowReconnect)
	c := one.Community(t, "前进社区")
	_, token := one.Person(t, c.ID, "居民")
	a, slots := one.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 100000}}})
	people := newResidents(t, one, c.ID, 1500).on(two)

	ws := connect(t, one.Server.URL, token)
	ws.subscribe("c", countsQuery, map[string]any{"id": id(a.ID)})
	var m countsMsg
	ws.data(ws.nextFor("c", 5*time.Second), &m)

	var mu sync.Mutex
	latest := m
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			msg, err := ws.read(10 * time.Second)
			if err != nil {
				return
			}
			var got struct{ Data countsMsg }
			if msg.Type != "next" || json.Unmarshal(msg.Payload, &got) != nil || len(got.Data.ActivityCounts.Slots) == 0 {
				t.Errorf("unexpected message %s %s", msg.Type, msg.Payload)
				return
			}
			mu.Lock()
			latest = got.Data
			mu.Unlock()
		}
	}()

	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := people.trySignUp(slots[0].ID); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	listeners := func() []int {
		t.Helper()
		rows, err := one.DB.SQL.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var pids []int
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			pids = append(pids, pid)
		}
		return pids
	}
	kill := func() []int {
		t.Helper()
		pids := listeners()
		if len(pids) != 2 {
			t.Fatalf("%d listener backends, want both replicas'", len(pids))
		}
		for _, pid := range pids {
			if _, err := one.DB.SQL.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
		}
		return pids
	}
	killed := kill()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	<-writerDone

	converge := func(phase string) {
		t.Helper()
		stopped := time.Now()
		var truth int
		if err := one.DB.SQL.QueryRow(`SELECT taken FROM slots WHERE id = $1`, slots[0].ID).Scan(&truth); err != nil {
			t.Fatal(err)
		}
		for {
			mu.Lock()
			got := latest.ActivityCounts.Slots[0].Taken
			mu.Unlock()
			if got == truth {
				t.Logf("%s: converged on %d seats %v after the last change", phase, truth, time.Since(stopped).Round(time.Millisecond))
				return
			}
			if time.Since(stopped) > 2*time.Second {
				t.Fatalf("%s: 2 s after the last change the subscriber shows %d seats taken, the database %d", phase, got, truth)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	converge("changes went on after the kill")

	// Now the last changes fall entirely into the gap: only the re-read
	// after reconnecting can bring them.
	// A promotion from the waitlist inside the gap must reach its person too.
	_, clinic := one.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "义诊", Capacity: 1}}})
	_, queue := one.People(t, c.ID, 2, "排队")
	var firstReg string
	for i, token := range queue {
		res := two.Do(t, token, signUpMutation, map[string]any{"slot": id(clinic[0].ID)})
		var d struct {
			SignUp struct{ Registration struct{ ID string } }
		}
		res.Decode(t, &d)
		if i == 0 {
			firstReg = d.SignUp.Registration.ID
		}
	}
	waiting := connect(t, one.Server.URL, queue[1])
	waiting.subscribe("r", `subscription { myRegistrationUpdates { change registration { status } } }`, nil)
	waitFor(t, 2*time.Second, func() bool { return one.App.Live.Stats().RegistrationSubscribers == 1 }, "subscribed")

	waitFor(t, 5*time.Second, func() bool {
		pids := listeners()
		return len(pids) == 2 && !slices.Contains(killed, pids[0]) && !slices.Contains(killed, pids[1])
	}, "both listeners back")
	kill()
	for range 5 {
		people.signUp(t, slots[0].ID)
	}
	cancelled := time.Now()
	res := two.Do(t, queue[0], `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`, map[string]any{"r": firstReg})
	if len(res.Errors) > 0 {
		t.Fatalf("cancel: %+v", res.Errors)
	}
	converge("last changes inside the gap")
	var promoted struct {
		MyRegistrationUpdates struct {
			Change       string
			Registration struct{ Status string }
		}
	}
	waiting.data(waiting.nextFor("r", 3*time.Second), &promoted)
	if promoted.MyRegistrationUpdates.Registration.Status != "CONFIRMED" {
		t.Fatalf("the promoted person got %+v", promoted)
	}
	if d := time.Since(cancelled); d > 2*time.Second {
		t.Fatalf("the promotion arrived %v after it happened", d)
	}
	ws.c.Close()
	<-readerDone
}

// A demotion whose NOTIFY falls into a listener's gap is lost to that
// replica; once its listener is back it re-checks every live connection,
// without waiting for the periodic re-check (an hour away here).
func TestRoleChangeInListenerGapCaught(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	slowReconnect := func(c *app.Config) { c.Live.Broker.ReconnectMin = time.Second }
	one, two := replica(t, dbURL, slowReconnect, slowSessionChecks), replica(t, dbURL, slowReconnect, slowSessionChecks)
	c := one.Community(t, "前进社区")
	_, boss := one.Person(t, c.ID, "站长", viewer.Coordinator)
	coord, token := one.Person(t, c.ID, "社工", viewer.Coordinator)
	ws := connect(t, one.Server.URL, token)
	ws.subscribe("f", feedQuery, map[string]any{"c": id(c.ID)})
	waitFor(t, 2*time.Second, func() bool { return one.App.Live.Stats().FeedSubscribers == 1 }, "feed subscribed")
	// A listener that drops right after connecting waits ReconnectMin
	// before the next attempt: kill them once, and again as soon as they
	// are back, to open a gap of a second.
	listeners := func() []int {
		var pids []int
		rows, err := one.DB.SQL.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			pids = append(pids, pid)
		}
		return pids
	}
	kill := func() []int {
		pids := listeners()
		for _, pid := range pids {
			if _, err := one.DB.SQL.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
		}
		return pids
	}
	killed := kill()
	waitFor(t, 5*time.Second, func() bool {
		pids := listeners()
		return len(pids) == 2 && !slices.Contains(killed, pids[0]) && !slices.Contains(killed, pids[1])
	}, "both listeners back")
	kill()
	two.Do(t, boss, setRoles, map[string]any{"p": id(coord.ID), "r": []string{"RESIDENT"}}).Decode(t, &struct{}{})
	if code := ws.closeCode(5 * time.Second); code != 4403 {
		t.Fatalf("want close 4403 once replica one's listener is back, got %d", code)
	}
}
