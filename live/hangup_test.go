package live_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"linli/linlitest"
)

// A client that drops its socket with operations in flight is routine: the
// server logs no ERROR line for it and calls none of it INTERNAL (the
// attacker review wrote 659 ERROR lines with ten such sockets).
func TestHangingUpLogsNoErrors(t *testing.T) {
	logs, logTo := linlitest.CaptureLogs()
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
	}, logTo)
	if n := strings.Count(logs.String(), "level=ERROR"); n > 0 {
		t.Errorf("%d ERROR lines for clients hanging up:\n%.2000s", n, logs.String())
	}
	if strings.Contains(logs.String(), "INTERNAL") {
		t.Errorf("a hang-up was logged as INTERNAL:\n%.2000s", logs.String())
	}
}
