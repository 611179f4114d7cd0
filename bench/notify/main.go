// Command notify measures notifications (issue 19), in one run:
//
//	(a) sign-up throughput on one hot slot with notifications on ÷ the
//	    same with them off (-notifications=false, the operator's switch):
//	    each round signs 400 people up for a slot of 200 seats (200 wait)
//	    and then cancels the 200 confirmed, so every cancellation promotes
//	    one waiting person (a WAITLIST_PROMOTED notification each, enqueued
//	    with the ledger's batch); the switch is process-wide, so the side
//	    with notifications off runs its rounds first, then the other;
//	(b) 10,000 reminders falling due in the same minute: the time from
//	    their due moment until all are in inboxes, and p99 due → in the inbox;
//	(c) 1,000 myNotifications subscribers (graphql-transport-ws): one
//	    activity moved, each subscriber told; p99 commit → pushed.
//
//	go run ./bench/notify
//	go run ./bench/notify -rounds 5 -clients 32
//
// Each side gets a scratch database on the PostgreSQL server of -postgres,
// dropped afterwards. linli is built as the server builds it (load.Start),
// from operator flags only.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"linli/app"
	"linli/bench/load"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

func main() {
	admin := flag.String("postgres", linlitest.AdminURL(), "PostgreSQL server to create the scratch databases on")
	rounds := flag.Int("rounds", 3, "measured rounds per side for (a), after one warm-up")
	clients := flag.Int("clients", 32, "concurrent clients for (a)")
	reminders := flag.Int("reminders", 10000, "reminders falling due together for (b)")
	subscribers := flag.Int("subscribers", 1000, "inbox subscribers for (c)")
	sweep := flag.String("reminder-sweep", "1s", "the server's -reminder-sweep for (b)")
	flag.Parse()
	ctx := viewer.System(context.Background())

	onURL, dropOn := load.ScratchDB(*admin, "notify_on")
	offURL, dropOff := load.ScratchDB(*admin, "notify_off")
	var servers []*server
	load.Cleanup = func() {
		for _, s := range servers {
			s.close()
		}
		dropOn()
		dropOff()
	}
	defer load.Cleanup()
	flags := []string{"-login-rate", "0", "-max-connections-per-person", "-1", "-max-pending-sockets-per-address", "-1",
		"-db-max-conns", "32", "-reminder-sweep", *sweep, "-request-timeout", "1m"}
	// -notifications is process-wide: the side with them off runs its
	// rounds first, then the side with them on (started after it).
	fmt.Printf("(a) hot slot: %d clients, 400 sign-ups + 200 cancellations (each promoting one) per round\n", *clients)
	off := start(ctx, append([]string{"-database-url", offURL, "-notifications=false"}, flags...))
	servers = append(servers, off)
	var onRates, offRates []float64
	for r := range *rounds + 1 {
		if rate := off.hotSlotRound(ctx, r, *clients); r > 0 {
			offRates = append(offRates, rate)
		}
	}
	off.close()
	servers = servers[:0]
	on := start(ctx, append([]string{"-database-url", onURL}, flags...))
	servers = append(servers, on)
	for r := range *rounds + 1 {
		if rate := on.hotSlotRound(ctx, r, *clients); r > 0 {
			onRates = append(onRates, rate)
		}
	}
	mOn, mOff := load.Median(onRates), load.Median(offRates)
	promoted, err := on.app.DB.Client.Notification.Query().Where(notification.KindEQ(notification.KindWAITLIST_PROMOTED)).Count(ctx)
	check(err)
	fmt.Printf("    notifications on:  %.0f ops/s (median of %d)\n    notifications off: %.0f ops/s\n    ratio on ÷ off: %.2f (goal ≥ 0.9); %d promotions notified\n",
		mOn, len(onRates), mOff, mOn/mOff, promoted)

	// (b)
	total, p99 := on.reminders(ctx, *reminders)
	fmt.Printf("(b) %d reminders due in the same minute (-reminder-sweep %s): all in inboxes %.2f s after they fell due (goal ≤ 10 s); p99 due → in the inbox %.2f s\n",
		*reminders, *sweep, total.Seconds(), p99.Seconds())

	// (c)
	c99, c50, got := on.subscribers(ctx, *subscribers)
	fmt.Printf("(c) %d myNotifications subscribers: %d pushed; commit → pushed p50 %.0f ms, p99 %.0f ms\n",
		*subscribers, got, c50.Seconds()*1000, c99.Seconds()*1000)
	os.Exit(0)
}

type server struct {
	app   *app.App
	url   string
	close func()
	cid   int
	n     atomic.Int64
}

func start(ctx context.Context, flags []string) *server {
	a := load.Start(ctx, flags...)
	srv := newHTTP(a)
	s := &server{app: a, url: srv.URL, close: func() { srv.Close(); a.Close() }}
	// No quiet hours (the community's default), so that (b) measures
	// reminders at their due time whatever the hour of the run.
	c, err := a.DB.Client.Community.Create().SetName("前进社区").SetQuietHoursStart("00:00").SetQuietHoursEnd("00:00").Save(ctx)
	check(err)
	s.cid = c.ID
	return s
}

func (s *server) activity(ctx context.Context, title string, starts time.Time, capacity int) (*ent.Activity, *ent.Slot) {
	client := s.app.DB.Client
	a, err := client.Activity.Create().SetCommunityID(s.cid).SetTitle(title).SetCategory(activity.CategoryHALL).
		SetServiceType(activity.ServiceTypeCULTURE).SetStatus(activity.StatusPUBLISHED).SetPublishedAt(time.Now().UTC()).
		SetStartsAt(starts).SetEndsAt(starts.Add(2 * time.Hour)).Save(ctx)
	check(err)
	sl, err := client.Slot.Create().SetCommunityID(s.cid).SetActivityID(a.ID).SetName("座位").SetKind(slot.KindATTENDEE).
		SetCapacity(capacity).Save(ctx)
	check(err)
	return a, sl
}

func (s *server) people(ctx context.Context, n int) []string {
	_, toks, err := linlitest.BulkPeople(ctx, s.app.DB.Client, s.cid, n, fmt.Sprintf("p%d-", s.n.Add(1)))
	check(err)
	return toks
}

// hotSlotRound signs 400 people up for a 200-seat slot and cancels the 200
// confirmed; it returns operations per second.
func (s *server) hotSlotRound(ctx context.Context, round, clients int) float64 {
	_, sl := s.activity(ctx, fmt.Sprintf("义诊 %d", round), time.Now().UTC().Add(72*time.Hour), 200)
	toks := s.people(ctx, 400)
	regs := make([]string, 400)
	confirmed := make([]bool, 400)
	c := httpClient
	id := s.app.IDs.Encode(sl.ID)
	start := time.Now()
	_, _, err := load.Storm(clients, 400, func(_, i int) (bool, error) {
		var out struct {
			SignUp struct{ Registration struct{ ID, Status string } }
		}
		res, err := linlitest.Send(c, s.url+"/graphql", toks[i], `mutation($s: ID!) { signUp(input: {slotID: $s}) { registration { id status } } }`, map[string]any{"s": id})
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			return false, err
		}
		if err := decode(res, &out); err != nil {
			return false, err
		}
		regs[i], confirmed[i] = out.SignUp.Registration.ID, out.SignUp.Registration.Status == "CONFIRMED"
		return true, nil
	})
	check(err)
	var cancels []int
	for i, ok := range confirmed {
		if ok {
			cancels = append(cancels, i)
		}
	}
	_, _, err = load.Storm(clients, len(cancels), func(_, k int) (bool, error) {
		i := cancels[k]
		res, err := linlitest.Send(c, s.url+"/graphql", toks[i], `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`, map[string]any{"r": regs[i]})
		if err == nil {
			err = res.Err()
		}
		return err == nil, err
	})
	check(err)
	return float64(400+len(cancels)) / time.Since(start).Seconds()
}

// reminders makes n confirmed registrations of one activity whose 2-hour
// reminder falls due a few seconds from now, and waits for all of them in
// the inboxes.
func (s *server) reminders(ctx context.Context, n int) (all, p99 time.Duration) {
	client := s.app.DB.Client
	lead := 2 * time.Hour
	starts := time.Now().UTC().Add(lead + 8*time.Second).Truncate(time.Second)
	a, sl := s.activity(ctx, "道德讲堂", starts, n)
	people, _, err := linlitest.BulkPeople(ctx, client, s.cid, n, "rem-")
	check(err)
	for chunk := range slices.Chunk(people, 1000) {
		creates := make([]*ent.RegistrationCreate, len(chunk))
		for i, p := range chunk {
			creates[i] = client.Registration.Create().SetCommunityID(s.cid).SetActivityID(a.ID).SetSlotID(sl.ID).
				SetPersonID(p.ID).SetStatus(registration.StatusCONFIRMED).SetCheckInCode(fmt.Sprintf("rem-%d", p.ID))
		}
		check(client.Registration.CreateBulk(creates...).Exec(ctx))
	}
	due := starts.Add(-lead)
	q := client.Notification.Query().Where(notification.ActivityID(a.ID), notification.KindEQ(notification.KindREMINDER))
	deadline := due.Add(2 * time.Minute)
	for {
		got, err := q.Clone().Count(ctx)
		check(err)
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			check(fmt.Errorf("(b): %d of %d reminders after two minutes", got, n))
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := q.Clone().Select(notification.FieldCreatedAt).All(ctx)
	check(err)
	lat := make([]time.Duration, len(rows))
	for i, r := range rows {
		lat[i] = r.CreatedAt.Sub(due)
	}
	slices.Sort(lat)
	return lat[len(lat)-1], lat[len(lat)*99/100]
}

// subscribers opens n myNotifications subscriptions (one person each,
// holding a seat of one activity), moves the activity and measures, per
// subscriber, the time from the notification's creation (in the
// committing transaction) to its arrival.
func (s *server) subscribers(ctx context.Context, n int) (p99, p50 time.Duration, got int) {
	client := s.app.DB.Client
	a, sl := s.activity(ctx, "文化广场演出", time.Now().UTC().Add(48*time.Hour), n)
	people, toks, err := linlitest.BulkPeople(ctx, client, s.cid, n, "sub-")
	check(err)
	creates := make([]*ent.RegistrationCreate, len(people))
	for i, p := range people {
		creates[i] = client.Registration.Create().SetCommunityID(s.cid).SetActivityID(a.ID).SetSlotID(sl.ID).
			SetPersonID(p.ID).SetStatus(registration.StatusCONFIRMED).SetCheckInCode(fmt.Sprintf("sub-%d", p.ID))
	}
	check(client.Registration.CreateBulk(creates...).Exec(ctx))
	staff, staffToks, err := linlitest.BulkPeople(ctx, client, s.cid, 1, "staff-", viewer.Coordinator)
	check(err)
	_ = staff
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	ready := make(chan struct{}, n)
	done := make(chan struct{})
	conns := make([]*wsConn, n)
	for i := range n {
		c, err := dial(s.url, toks[i])
		check(err)
		conns[i] = c
		wg.Go(func() {
			ready <- struct{}{}
			created, at, err := c.next(done)
			if err != nil {
				return
			}
			mu.Lock()
			lats = append(lats, at.Sub(created))
			mu.Unlock()
		})
	}
	for range n {
		<-ready
	}
	time.Sleep(time.Second) // every subscription registered
	newStart := a.StartsAt.Add(time.Hour)
	res, err := linlitest.Send(httpClient, s.url+"/graphql", staffToks[0], `mutation($id: ID!, $s: Time!, $e: Time!) { updateActivity(id: $id, input: {startsAt: $s, endsAt: $e}) { id } }`,
		map[string]any{"id": s.app.IDs.Encode(a.ID), "s": newStart.Format(time.RFC3339Nano), "e": newStart.Add(2 * time.Hour).Format(time.RFC3339Nano)})
	if err == nil {
		err = res.Err()
	}
	check(err)
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
	}
	close(done)
	for _, c := range conns {
		c.close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lats) == 0 {
		check(fmt.Errorf("(c): nothing pushed"))
	}
	slices.Sort(lats)
	return lats[len(lats)*99/100], lats[len(lats)/2], len(lats)
}
