package live_test

import (
	"testing"
	"time"

	"linli/app"
	"linli/events"
	"linli/linlitest"
)

// BenchmarkCountsFanout measures what FastCounts (graph/fastcounts.go)
// exists for: one change to an activity's counts reaching every subscriber
// of it. "fast" is the server as configured; "executor" runs the same
// subscriptions through gqlgen's stock path (the resolver's channel and the
// generated executor, Live.PlainCounts). One op is one change delivered to
// all subscribers, through real sockets; the change is a counter update
// and its event, so the sign-up path does not dilute the comparison.
//
//	go test -run '^$' -bench CountsFanout -benchtime 40x ./live/
func BenchmarkCountsFanout(b *testing.B) {
	const subscribers = 300
	for _, mode := range []struct {
		name string
		opts []linlitest.Option
	}{
		{"fast", nil},
		{"executor", []linlitest.Option{plainCounts}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			opts := append([]linlitest.Option{func(c *app.Config) {
				c.Live.MaxConnectionsPerPerson = -1
				c.Live.MaxPendingPerAddress = -1
				c.Live.Broker.MinInterval = time.Millisecond
			}}, mode.opts...)
			e := linlitest.New(b, "sqlite", opts...)
			c := e.Community(b, "前进社区")
			_, token := e.Person(b, c.ID, "居民")
			a, slots := e.Activity(b, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 1 << 30}, {Name: "医生", Capacity: 2}}})
			clients := make([]*wsClient, subscribers)
			for i := range clients {
				clients[i] = connect(b, e.Server.URL, token)
				clients[i].subscribe("c", countsQuery, map[string]any{"id": id(a.ID)})
			}
			// Everyone has the first snapshot before timing starts.
			for _, cl := range clients {
				if m := cl.nextFor("c", 10*time.Second); m.Type != "next" {
					b.Fatalf("want the first snapshot, got %+v", m)
				}
			}
			if fast := e.App.Live.Stats().FastCountsSubscribers; (fast > 0) == e.App.Config.Live.PlainCounts {
				b.Fatalf("plain=%v but %d subscribers on the fast path", e.App.Config.Live.PlainCounts, fast)
			}
			// Each client's reader counts frames and nothing else, so the
			// clients (in this process) cost as little as possible.
			got := make(chan struct{}, subscribers)
			for _, cl := range clients {
				_ = cl.c.SetReadDeadline(time.Time{})
				go func() {
					for {
						if _, _, err := cl.c.NextReader(); err != nil {
							return
						}
						got <- struct{}{}
					}
				}()
			}
			b.ResetTimer()
			for b.Loop() {
				if err := e.App.DB.Client.Slot.UpdateOneID(slots[0].ID).AddTaken(1).Exec(e.Sys()); err != nil {
					b.Fatal(err)
				}
				e.App.Live.Publish(events.Event{Kind: events.Counts, ActivityID: a.ID})
				timeout := time.After(10 * time.Second)
				for range subscribers {
					select {
					case <-got:
					case <-timeout:
						b.Fatal("not every subscriber received the change")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/subscribers, "ns/subscriber")
		})
	}
}
