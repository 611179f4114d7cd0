package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/bench/load"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// replicas measures every replica count of o on one scratch database.
func replicas(o options, bin string) {
	ctx := viewer.System(context.Background())
	dbURL, drop := load.ScratchDB(o.admin, "scale")
	var running []*replica
	load.Cleanup = func() {
		for _, r := range running {
			r.stop()
		}
		drop()
	}
	defer load.Cleanup()

	// The seeder: linli in this process (as the server builds it) makes
	// the communities, residents and their tokens, and the activities of
	// each round; the replicas share its database and its ID key.
	seeder := load.Start(ctx, "-database-url", dbURL, "-db-max-conns", "4", "-job-workers", "1")
	defer seeder.Close()
	start := time.Now()
	cids := make([]int, o.communities)
	tokens := make([][]string, o.communities)
	for i := range cids {
		c, err := seeder.DB.Client.Community.Create().SetName(fmt.Sprintf("社区%03d", i)).Save(ctx)
		check(err)
		cids[i] = c.ID
		_, toks, err := linlitest.BulkPeople(ctx, seeder.DB.Client, c.ID, o.people, fmt.Sprintf("c%d-", i))
		check(err)
		tokens[i] = toks
	}
	fmt.Printf("replicas: %d communities × %d residents seeded in %v; %d subscribers, %d sign-ups in flight\n",
		o.communities, o.people, time.Since(start).Round(time.Millisecond), o.subscribers, o.writers)

	var rows []result
	for _, n := range o.replicas {
		// 80 connections for all replicas together (max_connections is
		// 100 by default, and each replica holds one more for LISTEN).
		pool := min(32, max(2, 80/n-1)) // 32: the server's default pool
		running = running[:0]
		for range n {
			running = append(running, startReplica(bin, dbURL, pool))
		}
		r := round(ctx, seeder, running, cids, tokens, o)
		r.n = n
		rows = append(rows, r)
		for _, rep := range running {
			rep.stop()
		}
		running = running[:0]
		fmt.Printf("  %d replica(s) (pool %d each): %.0f sign-ups/s, %.1f NOTIFY/s, commit → subscriber p50 %.0f ms p99 %.0f ms (%d/%d deliveries), CPU %.0f %% of a core per replica\n",
			n, pool, r.signups, r.notifies, r.p50, r.p99, r.seen, r.wanted, r.cpu)
	}
	fmt.Printf("\n| replicas | sign-ups/s | NOTIFY/s | commit → subscriber p99 | CPU per replica |\n|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Printf("| %d | %.0f | %.1f | %.0f ms | %.0f %% |\n", r.n, r.signups, r.notifies, r.p99, r.cpu)
	}
	fmt.Println()
}

type result struct {
	n                                int
	signups, notifies, p50, p99, cpu float64
	seen, wanted                     int
}

// round runs one round over reps: fresh activities, subscribers, the
// sign-ups, and the figures.
func round(ctx context.Context, seeder *app.App, reps []*replica, cids []int, tokens [][]string, o options) result {
	client := seeder.DB.Client
	acts, slots := make([]string, len(cids)), make([]string, len(cids))
	starts := time.Now().UTC().Add(7 * 24 * time.Hour)
	for i, cid := range cids {
		a, err := client.Activity.Create().SetCommunityID(cid).SetTitle("议事会").SetCategory(activity.CategoryHALL).
			SetServiceType(activity.ServiceTypeCULTURE).SetStatus(activity.StatusPUBLISHED).SetPublishedAt(time.Now().UTC()).
			SetStartsAt(starts).SetEndsAt(starts.Add(2 * time.Hour)).Save(ctx)
		check(err)
		sl, err := client.Slot.Create().SetCommunityID(cid).SetActivityID(a.ID).SetName("座位").SetKind(slot.KindATTENDEE).
			SetCapacity(2 * o.people).Save(ctx)
		check(err)
		acts[i], slots[i] = seeder.IDs.Encode(a.ID), seeder.IDs.Encode(sl.ID)
	}

	// Subscribers: subscriber j watches community j % C through replica j % N.
	subs := make([]*subscriber, o.subscribers)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var failed atomic.Pointer[error]
	for j := range subs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := j % len(cids)
			s, err := subscribe(reps[j%len(reps)].url, tokens[c][j%len(tokens[c])], acts[c])
			if err != nil {
				failed.Store(&err)
				return
			}
			s.community = c
			subs[j] = s
		}()
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		check(fmt.Errorf("subscribe: %w", *e))
	}
	for _, s := range subs {
		go s.read()
	}

	notifies0, ticks0 := 0.0, make([]int64, len(reps))
	for i, r := range reps {
		notifies0 += r.counter("linli_live_notifies_total")
		ticks0[i] = r.cpuTicks()
	}
	// The k-th sign-up of community c returned at returned[c][k].
	returned := make([][]time.Time, len(cids))
	var mu sync.Mutex
	http := linlitest.ConcurrentClient(o.writers)
	total := len(cids) * o.people
	began := time.Now()
	_, _, err := load.Storm(o.writers, total, func(_, i int) (bool, error) {
		c, p := i%len(cids), i/len(cids)
		res, err := linlitest.Send(http, reps[i%len(reps)].url+"/graphql", tokens[c][p],
			`mutation($s: ID!) { signUp(input: {slotID: $s}) { registration { status } } }`, map[string]any{"s": slots[c]})
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			return false, err
		}
		at := time.Now()
		mu.Lock()
		returned[c] = append(returned[c], at)
		mu.Unlock()
		return true, nil
	})
	check(err)
	elapsed := time.Since(began)
	notifies, cpu := 0.0, 0.0
	for i, r := range reps {
		notifies += r.counter("linli_live_notifies_total")
		cpu += float64(r.cpuTicks()-ticks0[i]) / 100 / elapsed.Seconds()
	}
	// Wait for the last counts to reach every subscriber.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && slices.ContainsFunc(subs, func(s *subscriber) bool { return s.taken.Load() < int64(o.people) }) {
		time.Sleep(20 * time.Millisecond)
	}
	var lat []time.Duration
	seen := 0
	for _, s := range subs {
		s.close()
		rs := s.receipts()
		ret := returned[s.community]
		// Sign-up k (1-based) is shown by the first receipt with taken ≥ k.
		ri := 0
		for k := 1; k <= len(ret); k++ {
			for ri < len(rs) && rs[ri].taken < k {
				ri++
			}
			if ri == len(rs) {
				break
			}
			seen++
			lat = append(lat, max(0, rs[ri].at.Sub(ret[k-1])))
		}
	}
	slices.Sort(lat)
	pct := func(p int) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, (len(lat)*p+99)/100-1)]) / float64(time.Millisecond)
	}
	return result{
		signups: float64(total) / elapsed.Seconds(), notifies: (notifies - notifies0) / elapsed.Seconds(),
		p50: pct(50), p99: pct(99), cpu: 100 * cpu / float64(len(reps)),
		seen: seen, wanted: total / len(cids) * len(subs),
	}
}

// subscriber is one activityCounts subscription over graphql-transport-ws.
type subscriber struct {
	conn      *websocket.Conn
	community int
	taken     atomic.Int64
	mu        sync.Mutex
	got       []receipt
}

type receipt struct {
	taken int
	at    time.Time
}

func subscribe(serverURL, token, activityID string) (*subscriber, error) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 30 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(serverURL, "http")+"/graphql", http.Header{})
	if err != nil {
		return nil, err
	}
	if err := c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	var ack struct{ Type string }
	if err := c.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		c.Close()
		return nil, fmt.Errorf("connection_init: %v %q", err, ack.Type)
	}
	err = c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($a: ID!) { activityCounts(activityID: $a) { slots { taken } } }`,
		"variables": map[string]any{"a": activityID}}})
	if err != nil {
		return nil, err
	}
	s := &subscriber{conn: c}
	// The first message is the snapshot (nothing taken yet).
	if _, err := s.next(); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func (s *subscriber) next() (int, error) {
	for {
		var msg struct {
			Type    string
			Payload struct {
				Data struct {
					ActivityCounts struct{ Slots []struct{ Taken int } }
				}
			}
		}
		if err := s.conn.ReadJSON(&msg); err != nil {
			return 0, err
		}
		switch msg.Type {
		case "next":
			taken := 0
			for _, sl := range msg.Payload.Data.ActivityCounts.Slots {
				taken += sl.Taken
			}
			return taken, nil
		case "ping":
			_ = s.conn.WriteJSON(map[string]string{"type": "pong"})
		case "error", "complete":
			return 0, fmt.Errorf("subscription ended: %s", msg.Type)
		}
	}
}

func (s *subscriber) read() {
	for {
		taken, err := s.next()
		if err != nil {
			return
		}
		at := time.Now()
		s.mu.Lock()
		s.got = append(s.got, receipt{taken, at})
		s.mu.Unlock()
		s.taken.Store(int64(taken))
	}
}

func (s *subscriber) receipts() []receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

func (s *subscriber) close() { s.conn.Close() }
