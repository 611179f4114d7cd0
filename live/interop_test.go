package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"linli/linlitest"
	"linli/viewer"
)

type nodeLine struct {
	Event   string `json:"event"`
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Data    *struct {
		ActivityCounts struct {
			ActivityID string
			Version    int
			Slots      []struct {
				SlotID          string
				Taken, Capacity int
			}
		}
	} `json:"data"`
	Feed *feedMsg `json:"feed"`
}

// runNode starts client.mjs and returns its output lines as they come.
func runNode(t *testing.T, env ...string) <-chan nodeLine {
	t.Helper()
	node, dir := linlitest.NodeProject(t, filepath.Join("testdata", "interop"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan nodeLine, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l nodeLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = nodeLine{Event: "unparsable", Message: sc.Text()}
			}
			lines <- l
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Wait()
		cancel()
	})
	return lines
}

func nextLine(t *testing.T, lines <-chan nodeLine) nodeLine {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the node client ended early")
		}
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("no output from the node client")
	}
	return nodeLine{}
}

func TestGraphqlWSClientInterop(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		url := wsURL(e.Server.URL)

		lines := runNode(t, "LINLI_WS_URL="+url, "LINLI_TOKEN="+token, "LINLI_ACTIVITY="+id(a.ID), "LINLI_TARGET=3")
		first := nextLine(t, lines)
		if first.Event != "next" || first.Data == nil || first.Data.ActivityCounts.ActivityID != id(a.ID) || first.Data.ActivityCounts.Slots[0].Taken != 0 {
			t.Fatalf("first message from graphql-ws: %+v", first)
		}
		version := first.Data.ActivityCounts.Version
		people := newResidents(t, e, c.ID, 3)
		for taken := 1; taken <= 3; taken++ {
			people.signUp(t, slots[0].ID)
			l := nextLine(t, lines)
			if l.Event != "next" || l.Data.ActivityCounts.Slots[0].Taken != taken || l.Data.ActivityCounts.Version <= version {
				t.Fatalf("after %d seats graphql-ws got %+v", taken, l)
			}
			version = l.Data.ActivityCounts.Version
		}

		if e.Backend != "sqlite" {
			return
		}
		// Refusals, as the npm client reports them.
		lines = runNode(t, "LINLI_WS_URL="+url, "LINLI_TOKEN=wrong", "LINLI_ACTIVITY="+id(a.ID))
		for l := nextLine(t, lines); ; l = nextLine(t, lines) {
			if l.Event == "closed" {
				if l.Code != 4403 {
					t.Fatalf("bad token: graphql-ws saw close %d %q, want 4403", l.Code, l.Reason)
				}
				break
			}
		}
		lines = runNode(t, "LINLI_WS_URL="+url, "LINLI_TOKEN="+token, "LINLI_ORIGIN=http://evil.example", "LINLI_ACTIVITY="+id(a.ID))
		sawRefusal := false
		for l := nextLine(t, lines); ; l = nextLine(t, lines) {
			if l.Event == "error" && strings.Contains(l.Message, "403") {
				sawRefusal = true
			}
			if l.Event == "closed" {
				if !sawRefusal || l.Code != 1006 {
					t.Fatalf("foreign origin: graphql-ws saw close %d (refusal seen: %v), want the handshake refused with 403", l.Code, sawRefusal)
				}
				break
			}
			if l.Event == "next" {
				t.Fatalf("foreign origin got data: %+v", l)
			}
		}
	})
}

// The real graphql-ws client, demoted while subscribed to the feed, sees the
// 4403, reconnects by itself and resubscribes, and from then on gets what a
// resident gets: the publication, not the draft's change.
func TestGraphqlWSClientReconnectsAfterDemotion(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, boss := e.Person(t, c.ID, "站长", viewer.Coordinator)
		coord, token := e.Person(t, c.ID, "社工", viewer.Coordinator)
		draft, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "草稿", Status: "DRAFT"})
		next, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "道德讲堂", Status: "DRAFT"})
		rename := func(title string) {
			e.Do(t, boss, `mutation($id: ID!, $t: String!) { updateActivity(id: $id, input: {title: $t}) { id } }`,
				map[string]any{"id": id(draft.ID), "t": title}).Decode(t, &struct{}{})
		}
		vars, _ := json.Marshal(map[string]any{"c": id(c.ID)})
		lines := runNode(t, "LINLI_WS_URL="+wsURL(e.Server.URL), "LINLI_TOKEN="+token, "LINLI_QUERY="+feedQuery,
			"LINLI_VARS="+string(vars), "LINLI_RETRY=5", "LINLI_EXIT_AFTER=2")
		if l := nextLine(t, lines); l.Event != "connected" {
			t.Fatalf("graphql-ws: %+v", l)
		}
		waitFor(t, 5*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 1 }, "subscribed")
		rename("草稿一")
		if l := nextLine(t, lines); l.Event != "next" || l.Feed == nil || l.Feed.ActivityFeed.Activity.Title != "草稿一" {
			t.Fatalf("the coordinator's feed: %+v", l)
		}

		e.Do(t, boss, setRoles, map[string]any{"p": id(coord.ID), "r": []string{"RESIDENT"}}).Decode(t, &struct{}{})
		if l := nextLine(t, lines); l.Event != "closed" || l.Code != 4403 {
			t.Fatalf("after the demotion graphql-ws saw %+v, want close 4403", l)
		}
		if l := nextLine(t, lines); l.Event != "connected" {
			t.Fatalf("graphql-ws did not reconnect: %+v", l)
		}
		waitFor(t, 5*time.Second, func() bool { return e.App.Live.Stats().FeedSubscribers == 1 }, "resubscribed")
		rename("草稿二")
		e.Do(t, boss, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": id(next.ID)}).Decode(t, &struct{}{})
		l := nextLine(t, lines)
		if l.Event != "next" || l.Feed == nil || l.Feed.ActivityFeed.Activity.ID != id(next.ID) || l.Feed.ActivityFeed.Change != "PUBLISHED" {
			t.Fatalf("after reconnecting as a resident graphql-ws got %+v, want only the publication", l)
		}
	})
}

// clientFamilies are the client families clients.mjs runs, in its order.
var clientFamilies = []string{"graphql-ws", "apollo", "urql", "urql-defaults", "subscriptions-transport-ws", "graphql-sse-distinct", "graphql-sse-single"}

// Each real npm client family, unmodified, runs a query, a query with an
// Int variable, a mutation and a subscription against linli, and the
// subscription receives the change its own mutation made: graphql-ws,
// Apollo Client (HttpLink and GraphQLWsLink), urql (fetch and graphql-ws),
// urql with its default options (queries over GET and subscriptions over
// SSE, every operation accepting JSON and an event stream alike),
// subscriptions-transport-ws, and graphql-sse in both modes.
func TestNpmClientsInterop(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		var tokens, names []string
		for i := range clientFamilies {
			name := fmt.Sprintf("居民%d", i)
			_, token := e.Person(t, c.ID, name)
			tokens, names = append(tokens, token), append(names, name)
		}
		node, dir := linlitest.NodeProject(t, filepath.Join("testdata", "interop"))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "clients.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LINLI_HTTP_URL="+e.Server.URL+"/graphql", "LINLI_WS_URL="+wsURL(e.Server.URL),
			"LINLI_TOKENS="+strings.Join(tokens, ","), "LINLI_ACTIVITY="+id(a.ID), "LINLI_SLOT="+id(slots[0].ID))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("clients.mjs: %v\n%s", err, out)
		}
		type counts struct {
			Data *struct {
				ActivityCounts struct {
					ActivityID string
					Slots      []struct{ Taken int }
				}
			}
		}
		var seen []string
		for line := range strings.Lines(string(out)) {
			var r struct {
				Client string
				Error  string
				Query  struct {
					Data struct {
						Viewer struct{ ID, DisplayName string }
					}
				}
				Vars struct {
					Data struct {
						Activities *struct{ TotalCount int }
					}
				}
				Mutation struct {
					Data struct{ SignUp struct{ Outcome string } }
				}
				Before, After counts
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("clients.mjs printed %q", line)
			}
			i := len(seen)
			seen = append(seen, r.Client)
			if i >= len(clientFamilies) || r.Client != clientFamilies[i] {
				t.Fatalf("clients.mjs ran %v, want %v", seen, clientFamilies)
			}
			if r.Error != "" {
				t.Fatalf("%s: %s", r.Client, r.Error)
			}
			if r.Query.Data.Viewer.DisplayName != names[i] || r.Query.Data.Viewer.ID == "" {
				t.Errorf("%s: the query answered %+v, want viewer %s", r.Client, r.Query, names[i])
			}
			if a := r.Vars.Data.Activities; a == nil || a.TotalCount != 1 {
				t.Errorf("%s: the query with an Int variable answered %+v, want 1 activity", r.Client, r.Vars)
			}
			if r.Mutation.Data.SignUp.Outcome != "CONFIRMED" {
				t.Errorf("%s: the mutation answered %+v", r.Client, r.Mutation)
			}
			// Family i signs the i+1st seat up.
			if r.Before.Data == nil || r.Before.Data.ActivityCounts.ActivityID != id(a.ID) || r.Before.Data.ActivityCounts.Slots[0].Taken != i {
				t.Errorf("%s: the subscription's first result %+v, want %d seats taken", r.Client, r.Before.Data, i)
			}
			if r.After.Data == nil || r.After.Data.ActivityCounts.Slots[0].Taken != i+1 {
				t.Errorf("%s: after its sign-up the subscription got %+v, want %d seats taken", r.Client, r.After.Data, i+1)
			}
		}
		if len(seen) != len(clientFamilies) {
			t.Fatalf("clients.mjs ran %v, want %v", seen, clientFamilies)
		}
	})
}
