package live_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A client that drops its socket with operations in flight is routine: the
// server logs no ERROR line for it and calls none of it INTERNAL (the
// attacker review wrote 659 ERROR lines with ten such sockets).
func TestHangingUpLogsNoErrors(t *testing.T) {
	logs := &lockedBuffer{}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		for i := range 5 {
			e.Activity(t, c.ID, linlitest.ActivitySpec{Title: fmt.Sprintf("活动%d", i)})
		}
		query, _ := json.Marshal(map[string]any{"query": `{ activities(first: 50) { edges { node { id title slots { id name capacity taken } } } } }`})
		for range 5 {
			ws := connect(t, e.Server.URL, token)
			for i := range 200 {
				ws.send(wsMsg{ID: fmt.Sprint(i), Type: "subscribe", Payload: query})
			}
			ws.c.Close()
		}
		time.Sleep(500 * time.Millisecond)
	}, func(c *app.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	if n := strings.Count(logs.String(), "level=ERROR"); n > 0 {
		t.Errorf("%d ERROR lines for clients hanging up:\n%.2000s", n, logs.String())
	}
	if strings.Contains(logs.String(), "INTERNAL") {
		t.Errorf("a hang-up was logged as INTERNAL:\n%.2000s", logs.String())
	}
}
