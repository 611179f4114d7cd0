package live_test

import (
	"strings"
	"testing"
	"time"

	"linli/linlitest"
)

// TestSubscriptionIDsOpaque: a subscription takes and shows the same opaque
// IDs as queries, on the fast path for activityCounts too (which writes its
// payload without the executor), and refuses a raw internal number.
func TestSubscriptionIDsOpaque(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "居民")
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		ws := connect(t, e.Server.URL, token)
		ws.subscribe("raw", countsQuery, map[string]any{"id": a.ID})
		if code := errorCode(ws.nextFor("raw", 5*time.Second)); code != "VALIDATION_FAILED" {
			t.Fatalf("activityCounts with a raw number: %s, want VALIDATION_FAILED", code)
		}
		ws.subscribe("c", countsQuery, map[string]any{"id": e.ID(a.ID)})
		var m countsMsg
		ws.data(ws.nextFor("c", 5*time.Second), &m)
		if m.ActivityCounts.ActivityID != e.ID(a.ID) || len(m.ActivityCounts.Slots) != len(slots) || m.ActivityCounts.Slots[0].SlotID != e.ID(slots[0].ID) {
			t.Fatalf("counts %+v, want activity %s and slot %s", m.ActivityCounts, e.ID(a.ID), e.ID(slots[0].ID))
		}
		sse := openSSE(t, e.Server.URL, token, countsQuery, map[string]any{"id": a.ID})
		select {
		case ev := <-sse.events:
			if !strings.Contains(ev, `"VALIDATION_FAILED"`) || strings.Contains(ev, `"data":{`) {
				t.Fatalf("SSE with a raw number: %s", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("SSE with a raw number: no answer")
		}
	})
}
