package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"linli/linlitest"
)

// nodeClient locates node and installs the interop project's locked
// dependencies when they are missing. Without node the test is skipped on a
// developer's machine and fails under CI.
func nodeClient(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is required in CI for the graphql-ws interop test")
		}
		t.Skip("node not installed")
	}
	dir, _ = filepath.Abs(filepath.Join("testdata", "interop"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return node, dir
}

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
}

// runNode starts client.mjs and returns its output lines as they come.
func runNode(t *testing.T, env ...string) <-chan nodeLine {
	t.Helper()
	node, dir := nodeClient(t)
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
