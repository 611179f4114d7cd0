package requests_test

import (
	"fmt"
	"sync"
	"testing"

	"linli/app"
	"linli/linlitest"
)

// Issue 18: a resident submitted 120 requests in 0.4 s. Submissions of
// one's own are bounded per person (a burst of 5, sent together or not)
// and per community (100 an hour); staff entering a resident's request
// that came by phone are not; other residents are not touched by one
// person's bound.
func TestSubmissionsRateLimited(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		const sent = 20
		codes := make([]string, sent)
		var wg sync.WaitGroup
		client := linlitest.ConcurrentClient(sent)
		for i := range sent {
			wg.Go(func() {
				res, err := linlitest.Send(client, e.Server.URL+"/graphql", w.tokens[aSubmitter], submitM, map[string]any{"in": map[string]any{
					"kind": "OTHER", "title": fmt.Sprintf("刷单%d", i), "description": ""}})
				if err != nil {
					t.Error(err)
					return
				}
				codes[i] = res.Code()
			})
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case "":
				ok++
			case "RATE_LIMITED":
			default:
				t.Fatalf("codes %v", codes)
			}
		}
		if ok != 5 {
			t.Fatalf("%d of %d submissions at once accepted, want 5 (%v)", ok, sent, codes)
		}
		// Staff record what the same resident said on the phone.
		var sub struct{ SubmitRequest struct{ ID string } }
		w.e.Do(t, w.tokens[aStaff], submitM, map[string]any{"in": map[string]any{"kind": "REPAIR", "title": "电话报修",
			"description": "", "channel": "PHONE", "onBehalfOfID": e.ID(w.sub.ID)}}).Decode(t, &sub)
		// The community's bound: 100 an hour, whoever sends them.
		_, tokens := e.People(t, w.c.ID, 96, "居民")
		for i, tok := range tokens[:95] {
			if err := e.Do(t, tok, submitM, map[string]any{"in": map[string]any{"kind": "OTHER", "title": fmt.Sprintf("诉求%d", i), "description": ""}}).Err(); err != nil {
				t.Fatalf("submission %d of the community: %v", i+6, err)
			}
		}
		e.Do(t, tokens[95], submitM, map[string]any{"in": map[string]any{"kind": "OTHER", "title": "第101件", "description": ""}}).WantCode(t, "RATE_LIMITED")
		w.e.Do(t, w.tokens[aStaff], submitM, map[string]any{"in": map[string]any{"kind": "REPAIR", "title": "上门登记",
			"description": "", "channel": "WALK_IN", "onBehalfOfID": e.ID(w.sub.ID)}}).Decode(t, &sub)
	}, func(c *app.Config) { c.RateLimitPerMinute = 10 })
}
