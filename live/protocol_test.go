package live_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/linlitest"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// sseEvents yields the data of each SSE "next" event until the stream ends.
func sseEvents(r io.Reader) <-chan string {
	out := make(chan string, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				out <- d
			}
		}
	}()
	return out
}

func fastLive(c *app.Config) {
	c.Live.InitTimeout = 300 * time.Millisecond
	c.Live.SessionCheckInterval = 100 * time.Millisecond
	c.Live.MaxFrameBytes = 4 << 10
}

func TestBadTokenCloses4403(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	for _, token := range []string{"not-a-token", ""} {
		ws, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		ws.init(token)
		if code := ws.closeCode(5 * time.Second); code != 4403 {
			t.Fatalf("token %q: want close 4403, got %d", token, code)
		}
	}
}

func TestInitTimeoutCloses4408(t *testing.T) {
	e := linlitest.New(t, "sqlite", fastLive)
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		ws, _, err := dialWS(t, e.Server.URL, proto, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if code := ws.closeCode(5 * time.Second); code != 4408 {
			t.Fatalf("%s: want close 4408 without connection_init, got %d", proto, code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("closed after %v; the timeout is 300 ms", d)
		}
	}
}

// Without configuration a socket that sends no connection_init is closed
// after 3 s, as the reference graphql-ws server does (it was 10 s).
func TestInitTimeoutDefaultsTo3s(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	ws, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if code := ws.closeCode(8 * time.Second); code != 4408 {
		t.Fatalf("want close 4408 without connection_init, got %d", code)
	}
	if d := time.Since(start); d < 2*time.Second || d > 6*time.Second {
		t.Fatalf("closed after %v; the default is 3 s", d)
	}
}

func TestForeignOriginRefused(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	refused := func(h http.Header) {
		t.Helper()
		_, resp, err := dialWS(t, e.Server.URL, "graphql-transport-ws", h)
		if err == nil {
			t.Fatalf("a socket with %v was accepted", h)
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%v: want 403, got %v (%v)", h, resp, err)
		}
	}
	refused(http.Header{"Origin": {"http://evil.example"}})
	// DNS rebinding: evil.example now resolves to this server, so the
	// page's Origin and the request's Host name the same host.
	port := strings.TrimPrefix(e.Server.URL, "http://127.0.0.1")
	refused(http.Header{"Origin": {"http://evil.example" + port}, "Host": {"evil.example" + port}})
	// The same for a real-looking name that nobody configured.
	refused(http.Header{"Origin": {"http://linli.example.org" + port}, "Host": {"linli.example.org" + port}})
	for _, h := range []http.Header{
		{"Origin": {"http://allowed.example"}}, // configured
		{"Origin": {e.Server.URL}},             // same origin on a loopback address
		{"Origin": {"http://localhost" + port}, "Host": {"localhost" + port}},
		{}, // not a browser
	} {
		if _, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", h); err != nil {
			t.Fatalf("%v refused: %v", h, err)
		}
	}
}

func TestOversizeFrameCloses1009(t *testing.T) {
	e := linlitest.New(t, "sqlite", fastLive)
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	ws := connect(t, e.Server.URL, token)
	p, _ := json.Marshal(map[string]any{"query": "subscription { myRegistrationUpdates { change } } #" + strings.Repeat("x", 8<<10)})
	// The server may stop reading mid-frame; the write's outcome is not the point.
	_ = ws.c.WriteJSON(wsMsg{ID: "1", Type: "subscribe", Payload: p})
	if code := ws.closeCode(5 * time.Second); code != websocket.CloseMessageTooBig {
		t.Fatalf("want close 1009 after an 8 KB frame (limit 4 KB), got %d", code)
	}
}

// slowSessionChecks leaves the periodic session re-check far beyond the
// test, so a socket that closes on logout was closed by the logout event.
func slowSessionChecks(c *app.Config) { c.Live.SessionCheckInterval = time.Hour }

func TestLogoutClosesSocket(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		_, other := e.Person(t, c.ID, "邻居")
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("r", `subscription { myRegistrationUpdates { change } }`, nil)
		bystander := connect(t, e.Server.URL, other)
		bystander.subscribe("r", `subscription { myRegistrationUpdates { change } }`, nil)
		ws.subscribe("c", countsQuery, map[string]any{"id": id(999999999)})
		if code := errorCode(ws.nextFor("c", 2*time.Second)); code != "NOT_FOUND" {
			t.Fatalf("socket not usable before logout: %s", code)
		}
		res := e.Do(t, token, `mutation { logout }`, nil)
		if len(res.Errors) > 0 {
			t.Fatalf("logout: %+v", res.Errors)
		}
		start := time.Now()
		if code := ws.closeCode(3 * time.Second); code != 4403 {
			t.Fatalf("want close 4403 after logout, got %d", code)
		}
		t.Logf("closed %v after logout", time.Since(start))
		// Only that session's sockets.
		bystander.subscribe("c", countsQuery, map[string]any{"id": id(999999999)})
		if code := errorCode(bystander.nextFor("c", 2*time.Second)); code != "NOT_FOUND" {
			t.Fatalf("another person's socket after the logout: %s", code)
		}
	}, slowSessionChecks)
}

// A logout on one replica closes the session's sockets on another at once
// (the event crosses replicas by NOTIFY), and that replica stops accepting
// the token without waiting for its token cache to expire.
func TestLogoutClosesSocketOnOtherReplica(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	longCache := func(c *app.Config) { c.TokenCacheTTL = time.Hour }
	one, two := replica(t, dbURL, slowSessionChecks, longCache), replica(t, dbURL, slowSessionChecks, longCache)
	c := one.Community(t, "前进社区")
	_, token := one.Person(t, c.ID, "居民")
	ws := connect(t, one.Server.URL, token)
	ws.subscribe("c", countsQuery, map[string]any{"id": id(999999999)})
	if code := errorCode(ws.nextFor("c", 2*time.Second)); code != "NOT_FOUND" {
		t.Fatalf("socket not usable before logout: %s", code)
	}
	// Replica one has the token cached now (for an hour).
	if res := one.Do(t, token, `{ viewer { id } }`, nil); len(res.Errors) > 0 {
		t.Fatalf("viewer before logout: %+v", res.Errors)
	}
	if res := two.Do(t, token, `mutation { logout }`, nil); len(res.Errors) > 0 {
		t.Fatalf("logout on replica two: %+v", res.Errors)
	}
	if code := ws.closeCode(3 * time.Second); code != 4403 {
		t.Fatalf("want close 4403 on replica one after logout on replica two, got %d", code)
	}
	waitFor(t, 2*time.Second, func() bool {
		var got struct{ Viewer *struct{ ID string } }
		res := one.Do(t, token, `{ viewer { id } }`, nil)
		return len(res.Errors) > 0 || json.Unmarshal(res.Data, &got) == nil && got.Viewer == nil
	}, "replica one refuses the token")
}

func TestExpiredSessionClosesSocket(t *testing.T) {
	e := linlitest.New(t, "sqlite", fastLive)
	c := e.Community(t, "前进社区")
	p, token := e.Person(t, c.ID, "居民")
	ws := connect(t, e.Server.URL, token)
	ws.subscribe("r", `subscription { myRegistrationUpdates { change } }`, nil)
	if _, err := e.Client.Session.Update().Where().SetExpiresAt(time.Now().Add(-time.Second)).Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	_ = p
	if code := ws.closeCode(3 * time.Second); code != 4403 {
		t.Fatalf("want close 4403 after expiry, got %d", code)
	}
}

func TestShutdownCloses1001(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	var clients []*wsClient
	for i := range 20 {
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("1", countsQuery, map[string]any{"id": id(a.ID)})
		var m countsMsg
		ws.data(ws.next(5*time.Second), &m)
		if i%2 == 0 {
			ws.subscribe("2", `subscription { myRegistrationUpdates { change } }`, nil)
		}
		clients = append(clients, ws)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	e.App.Shutdown(ctx)
	for _, ws := range clients {
		if code := ws.closeCode(5 * time.Second); code != websocket.CloseGoingAway {
			t.Fatalf("want close 1001 at shutdown, got %d", code)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	// New sockets are refused while shutting down.
	if _, _, err := dialWS(t, e.Server.URL, "graphql-transport-ws", nil); err == nil {
		t.Fatal("a socket was accepted after shutdown")
	}
}

// A peer that stops answering pings is dropped and its subscriptions end;
// one that answers stays.
func TestDeadPeerIsReaped(t *testing.T) {
	e := linlitest.New(t, "sqlite", func(c *app.Config) { c.Live.PingInterval = 100 * time.Millisecond })
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{})
	var alive, dead *wsClient
	for i, ws := range []**wsClient{&alive, &dead} {
		*ws = connect(t, e.Server.URL, token)
		(*ws).subscribe(fmt.Sprint(i), countsQuery, map[string]any{"id": id(a.ID)})
		(*ws).nextFor(fmt.Sprint(i), 5*time.Second)
	}
	// The dead peer keeps its TCP connection but answers no ping.
	dead.c.SetPingHandler(func(string) error { return nil })
	go func() {
		for {
			if _, _, err := dead.c.NextReader(); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			if _, _, err := alive.c.NextReader(); err != nil {
				return
			}
		}
	}()
	waitFor(t, 3*time.Second, func() bool { return e.App.Live.Stats().CountsSubscribers == 1 }, "the silent peer reaped")
	time.Sleep(500 * time.Millisecond)
	if n := e.App.Live.Stats().CountsSubscribers; n != 1 {
		t.Fatalf("%d subscribers left; the peer answering pings should stay", n)
	}
}

// A kiosk at the door can watch live counts over a websocket with its own
// token. Revoking it on one replica closes its socket on another at once
// and makes that replica refuse the token without waiting out its cache.
func TestKioskSocketEndsWhenRevoked(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	one, two := replica(t, dbURL, slowSessionChecks), replica(t, dbURL, slowSessionChecks)
	c := one.Community(t, "前进社区")
	_, staff := one.Person(t, c.ID, "社工", "COORDINATOR")
	venue, err := one.Client.Venue.Create().SetCommunityID(c.ID).SetName("道德讲堂").Save(one.Sys())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := one.Activity(t, c.ID, linlitest.ActivitySpec{})
	if err := a.Update().SetVenueID(venue.ID).Exec(one.Sys()); err != nil {
		t.Fatal(err)
	}
	var reg struct {
		RegisterKiosk struct {
			Token string
			Kiosk struct{ ID string }
		}
	}
	one.Do(t, staff, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "前台平板") { token kiosk { id } } }`,
		map[string]any{"v": id(venue.ID)}).Decode(t, &reg)
	kioskToken := reg.RegisterKiosk.Token

	ws := connect(t, one.Server.URL, kioskToken)
	ws.subscribe("c", countsQuery, map[string]any{"id": id(a.ID)})
	var m countsMsg
	ws.data(ws.nextFor("c", 5*time.Second), &m)
	if m.ActivityCounts.ActivityID != id(a.ID) {
		t.Fatalf("kiosk's counts: %+v", m)
	}
	list := `query($a: ID!) { checkInList(activityID: $a) { version } }`
	if res := one.Do(t, kioskToken, list, map[string]any{"a": id(a.ID)}); len(res.Errors) > 0 {
		t.Fatalf("kiosk on replica one: %+v", res.Errors) // and now cached there
	}

	two.Do(t, staff, `mutation($k: ID!) { revokeKiosk(id: $k) { id } }`, map[string]any{"k": reg.RegisterKiosk.Kiosk.ID})
	if code := ws.closeCode(3 * time.Second); code != 4403 {
		t.Fatalf("want close 4403 on replica one after the kiosk was revoked on replica two, got %d", code)
	}
	// Its cache would trust the token for 5 s; the event drops it at once.
	waitFor(t, time.Second, func() bool {
		return one.Do(t, kioskToken, list, map[string]any{"a": id(a.ID)}).Code() == "UNAUTHENTICATED"
	}, "replica one refuses the revoked kiosk")
}

// The periodic re-check is the safety net: a kiosk revoked without an
// event (here, straight in the database) still loses its socket.
func TestRevokedKioskCaughtByRecheck(t *testing.T) {
	e := linlitest.New(t, "sqlite", fastLive)
	c := e.Community(t, "前进社区")
	_, staff := e.Person(t, c.ID, "社工", "COORDINATOR")
	venue, err := e.Client.Venue.Create().SetCommunityID(c.ID).SetName("社区广场").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ RegisterKiosk struct{ Token string } }
	e.Do(t, staff, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "广场平板") { token } }`,
		map[string]any{"v": id(venue.ID)}).Decode(t, &reg)
	ws := connect(t, e.Server.URL, reg.RegisterKiosk.Token)
	ws.subscribe("c", countsQuery, map[string]any{"id": id(999999999)})
	if code := errorCode(ws.nextFor("c", 2*time.Second)); code != "NOT_FOUND" {
		t.Fatalf("kiosk socket not usable: %s", code)
	}
	// Several re-checks pass while the kiosk is valid.
	time.Sleep(300 * time.Millisecond)
	ws.subscribe("d", countsQuery, map[string]any{"id": id(999999999)})
	if code := errorCode(ws.nextFor("d", 2*time.Second)); code != "NOT_FOUND" {
		t.Fatalf("kiosk socket closed while valid: %s", code)
	}
	if _, err := e.Client.Kiosk.Update().SetRevokedAt(time.Now()).Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if code := ws.closeCode(3 * time.Second); code != 4403 {
		t.Fatalf("want close 4403 after the kiosk was revoked, got %d", code)
	}
}

// A subscription of two root fields is refused as invalid, over the
// websocket as over anything else, and nothing is subscribed (gqlgen's
// executor answered it INTERNAL).
func TestSubscriptionOfTwoFieldsIsInvalid(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("two", `subscription { a: myRegistrationUpdates { change } b: myRegistrationUpdates { change } }`, nil)
		if code := errorCode(ws.nextFor("two", 5*time.Second)); code != "VALIDATION_FAILED" {
			t.Fatalf("two root fields: %s, want VALIDATION_FAILED", code)
		}
		if n := e.App.Live.Stats().RegistrationSubscribers; n != 0 {
			t.Errorf("%d registration subscribers, want 0", n)
		}
	})
}
