package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/ent"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

const (
	signUpMutation = `mutation($s: ID!, $k: String) { signUp(input: {slotID: $s, idempotencyKey: $k}) { outcome registration { id } } }`
	countsSub      = `subscription($a: ID!) { activityCounts(activityID: $a) { version slots { taken } } }`
)

// counts is an activityCounts message's payload.
type counts struct {
	Data struct {
		ActivityCounts struct {
			Version int
			Slots   []struct{ Taken int }
		}
	}
}

// world is a community on a scratch PostgreSQL database: an activity with
// a big slot, people with sessions, and store access for assertions.
type world struct {
	dbURL  string
	db     *store.DB
	ctx    context.Context
	com    *ent.Community
	act    *ent.Activity
	slot   *ent.Slot
	people []*ent.Person
	tokens []string
}

func newWorld(t *testing.T, people int) *world {
	t.Helper()
	w := &world{dbURL: linlitest.DatabaseURL(t, "postgres")}
	ctx, cancel := context.WithTimeout(viewer.System(context.Background()), 3*time.Minute)
	t.Cleanup(cancel)
	w.ctx = ctx
	db, err := store.Open(ctx, w.dbURL, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	none := "00:00"
	w.com, err = db.Client.Community.Create().SetName("前进社区").SetTown("枞阳镇").SetCity("铜陵市").SetHouseholds(526).
		SetReminderLeadMinutes([]int{60}).SetQuietHoursStart(none).SetQuietHoursEnd(none).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fx := &linlitest.Env{Backend: "postgres", Client: db.Client, DB: db}
	var slots []*ent.Slot
	w.act, slots = fx.Activity(t, w.com.ID, linlitest.ActivitySpec{Title: "文化广场演出",
		StartsAt: time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Minute),
		Slots:    []linlitest.SlotSpec{{Name: "座位", Capacity: 100000}}})
	w.slot = slots[0]
	w.people, w.tokens, err = linlitest.BulkPeople(ctx, db.Client, w.com.ID, people, "居民")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// taken is the slot's counter as the primary has it.
func (w *world) taken(t *testing.T) int {
	t.Helper()
	s, err := w.db.Client.Slot.Get(w.ctx, w.slot.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s.Taken
}

// signUps signs people[from:to] up through base (http://host:port), with
// workers at once, each person retrying with the same idempotency key
// until the answer confirms. It returns person index → registration ID of
// the confirmed answers, and how many attempts failed.
func (w *world) signUps(t *testing.T, base string, from, to, workers int, started func(done int)) (map[int]int, int) {
	t.Helper()
	var mu sync.Mutex
	confirmed := map[int]int{}
	var failed atomic.Int64
	next := make(chan int)
	go func() {
		defer close(next)
		for i := from; i < to; i++ {
			next <- i
		}
	}()
	client := linlitest.ConcurrentClient(workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				vars := map[string]any{"s": linlitest.ID(w.slot.ID), "k": fmt.Sprintf("deploy-%d", i)}
				deadline := time.Now().Add(time.Minute)
				for {
					res, err := linlitest.Send(client, base+"/graphql", w.tokens[i], signUpMutation, vars)
					if err == nil {
						err = res.Err()
					}
					if err == nil {
						var out struct {
							SignUp struct {
								Outcome      string
								Registration struct{ ID linlitest.RowID }
							}
						}
						if err = json.Unmarshal(res.Data, &out); err == nil && out.SignUp.Outcome != "CONFIRMED" {
							err = fmt.Errorf("outcome %s", out.SignUp.Outcome)
						}
						if err == nil {
							mu.Lock()
							confirmed[i] = out.SignUp.Registration.ID.Int()
							n := len(confirmed)
							mu.Unlock()
							if started != nil {
								started(n)
							}
							break
						}
					}
					failed.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("person %d: no confirmed sign-up within a minute: %v", i, err)
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return confirmed, int(failed.Load())
}

// checkSignUps checks that every confirmed sign-up is in the database
// exactly once, and the slot's counter is the number of them.
func (w *world) checkSignUps(t *testing.T, confirmed map[int]int) {
	t.Helper()
	regs, err := w.db.Client.Registration.Query().Where(registration.ActivityID(w.act.ID)).All(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	byPerson := map[int][]int{}
	for _, r := range regs {
		byPerson[r.PersonID] = append(byPerson[r.PersonID], r.ID)
	}
	for i, id := range confirmed {
		got := byPerson[w.people[i].ID]
		if len(got) != 1 || got[0] != id {
			t.Errorf("%s: confirmed registration %d, the database has %v", w.people[i].DisplayName, id, got)
		}
	}
	if len(regs) != len(confirmed) {
		t.Errorf("%d registrations in the database, %d confirmed", len(regs), len(confirmed))
	}
	if n := w.taken(t); n != len(confirmed) {
		t.Errorf("slot taken %d, %d confirmed sign-ups", n, len(confirmed))
	}
}

// subscriber holds an activityCounts subscription open through the proxy,
// reconnecting whenever its socket drops, and records what it saw.
type subscriber struct {
	mu        sync.Mutex
	msgs      int   // messages received
	taken     int   // in the last message
	drops     int   // sockets lost
	snapshots []int // taken in the first message after each reconnect
	errs      []string
}

func (s *subscriber) run(ctx context.Context, proxy, xff, token string, activityID int) {
	vars := map[string]any{"a": linlitest.ID(activityID)}
	for ctx.Err() == nil {
		c, err := wsSubscribe(proxy, xff, token, countsSub, vars)
		if err != nil {
			s.note(err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		first := true
		for {
			m, err := wsNext(c, time.Minute)
			if err != nil {
				break
			}
			if m.Type != "next" {
				s.note(fmt.Errorf("%s: %s", m.Type, m.Payload))
				continue
			}
			var got counts
			if err := json.Unmarshal(m.Payload, &got); err != nil || len(got.Data.ActivityCounts.Slots) != 1 {
				s.note(fmt.Errorf("message %s: %v", m.Payload, err))
				continue
			}
			s.mu.Lock()
			s.msgs++
			s.taken = got.Data.ActivityCounts.Slots[0].Taken
			if first && s.drops > 0 {
				s.snapshots = append(s.snapshots, s.taken)
			}
			s.mu.Unlock()
			first = false
		}
		stop()
		c.Close()
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.drops++
		s.mu.Unlock()
	}
}

func (s *subscriber) note(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) < 5 {
		s.errs = append(s.errs, err.Error())
	}
}

func (s *subscriber) state() (taken, drops int, snapshots []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken, s.drops, append([]int(nil), s.snapshots...)
}

// Three replicas behind nginx (deploy/nginx.conf) on one PostgreSQL, with
// sign-ups over HTTP and live subscribers over websockets spread over
// them; one replica is SIGKILLed under that load. Its subscribers
// reconnect through nginx to the others and get a fresh snapshot; every
// confirmed sign-up is in the database exactly once (the clients retry
// what failed with their idempotency key); reminders that fall due after
// the kill are delivered once each by the survivors.
func TestThreeReplicasOneKilled(t *testing.T) {
	need(t, "nginx")
	const signers, subs, reminded = 240, 9, 6
	w := newWorld(t, signers+subs+reminded)

	// An activity whose reminders (an hour ahead) fall due after the kill.
	fx := &linlitest.Env{Backend: "postgres", Client: w.db.Client, DB: w.db}
	remAct, remSlots := fx.Activity(t, w.com.ID, linlitest.ActivitySpec{Title: "道德讲堂",
		Slots: []linlitest.SlotSpec{{Name: "听众", Capacity: reminded}}})
	for i := range reminded {
		p := w.people[signers+subs+i]
		if err := w.db.Client.Registration.Create().SetCommunityID(w.com.ID).SetActivityID(remAct.ID).SetSlotID(remSlots[0].ID).
			SetPersonID(p.ID).SetStatus(registration.StatusCONFIRMED).SetCheckInCode(fmt.Sprintf("deploy-%d", p.ID)).Exec(w.ctx); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{"-database-url", w.dbURL, "-trusted-proxies", "127.0.0.1", "-db-max-conns", "6",
		"-reminder-sweep", "200ms", "-job-poll", "100ms", "-job-lease", "2s", "-max-pending-sockets-per-address", "2"}
	replicas := make([]*linli, 3)
	var addrs []string
	for i := range replicas {
		replicas[i] = startLinli(t, args...)
		addrs = append(addrs, replicas[i].addr)
	}
	proxy := startNginx(t, addrs...)

	t.Run("X-Forwarded-For", func(t *testing.T) { forwardedFor(t, proxy) })

	ctx, stopSubs := context.WithCancel(context.Background())
	defer stopSubs()
	subscribers := make([]*subscriber, subs)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopSubs()
	for i := range subscribers {
		s := &subscriber{}
		subscribers[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(ctx, proxy, fmt.Sprintf("203.0.113.%d", i+1), w.tokens[signers+i], w.act.ID)
		}()
		// One at a time, so that least_conn spreads them over the replicas.
		time.Sleep(50 * time.Millisecond)
	}
	eventually(t, 30*time.Second, "every subscriber's first snapshot", func() bool {
		for _, s := range subscribers {
			s.mu.Lock()
			ok := s.msgs > 0
			s.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	})

	// Sign-ups; once a third are confirmed, SIGKILL the second replica
	// and let reminders fall due two seconds later.
	var killOnce sync.Once
	killed := make(chan int, 1)
	confirmed, failed := w.signUps(t, "http://"+proxy, 0, signers, 8, func(done int) {
		if done < signers/3 {
			return
		}
		killOnce.Do(func() {
			start := time.Now().UTC().Add(time.Hour + 2*time.Second)
			if err := w.db.Client.Activity.UpdateOne(remAct).SetStartsAt(start).SetEndsAt(start.Add(2 * time.Hour)).Exec(w.ctx); err != nil {
				t.Error(err)
			}
			// The count before the kill: every snapshot read after it is at
			// least this (sign-ups go on on the survivors meanwhile).
			s, err := w.db.Client.Slot.Get(w.ctx, w.slot.ID)
			replicas[1].kill()
			if err != nil {
				t.Error(err)
				killed <- -1
				return
			}
			killed <- s.Taken
		})
	})
	var atKill int
	select {
	case atKill = <-killed:
	default:
		t.Fatal("the replica was never killed")
	}
	t.Logf("%d sign-ups confirmed, %d attempts failed and were retried; %d taken before the kill", len(confirmed), failed, atKill)
	if len(confirmed) != signers {
		t.Errorf("%d of %d sign-ups confirmed", len(confirmed), signers)
	}
	w.checkSignUps(t, confirmed)

	// Every subscriber sees the final count; those of the dead replica
	// reconnected and got a snapshot at least as fresh as the kill.
	final := w.taken(t)
	eventually(t, 30*time.Second, "every subscriber at the final count", func() bool {
		for _, s := range subscribers {
			if n, _, _ := s.state(); n != final {
				return false
			}
		}
		return true
	})
	dropped := 0
	for i, s := range subscribers {
		_, drops, snaps := s.state()
		if drops == 0 {
			continue
		}
		dropped++
		if len(snaps) == 0 || snaps[0] < atKill {
			t.Errorf("subscriber %d: dropped %d times, snapshots after reconnecting %v (taken %d at the kill)", i, drops, snaps, atKill)
		}
	}
	if dropped == 0 {
		t.Error("no subscriber was on the killed replica: the kill proved nothing")
	}
	t.Logf("%d of %d subscribers reconnected to the survivors", dropped, subs)

	// The reminders fall due after the kill: the survivors deliver each once.
	reminders := w.db.Client.Notification.Query().Where(notification.KindEQ(notification.KindREMINDER), notification.ActivityID(remAct.ID))
	eventually(t, 30*time.Second, fmt.Sprintf("%d reminders", reminded), func() bool {
		n, err := reminders.Clone().Count(w.ctx)
		return err == nil && n >= reminded
	})
	time.Sleep(time.Second) // a few more sweeps: nothing more comes
	got, err := reminders.Clone().All(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int]int{}
	for _, n := range got {
		per[n.PersonID]++
	}
	for i := range reminded {
		if n := per[w.people[signers+subs+i].ID]; n != 1 {
			t.Errorf("%s reminded %d times", w.people[signers+subs+i].DisplayName, n)
		}
	}
}

// forwardedFor: linli counts client addresses from nginx's
// X-Forwarded-For (-trusted-proxies 127.0.0.1): with 2 sockets per address
// allowed before connection_init on each replica, the seventh from one
// address is refused, while another address gets one.
func forwardedFor(t *testing.T, proxy string) {
	dial := func(xff string) (*websocket.Conn, int, error) {
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
		c, resp, err := d.Dial("ws://"+proxy+"/graphql", http.Header{"X-Forwarded-For": {xff}})
		status := 0
		if resp != nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		return c, status, err
	}
	for i := range 6 {
		c, status, err := dial("198.51.100.7")
		if err != nil {
			t.Fatalf("socket %d: %d %v", i+1, status, err)
		}
		defer c.Close()
	}
	if _, status, err := dial("198.51.100.7"); !errors.Is(err, websocket.ErrBadHandshake) || status != http.StatusTooManyRequests {
		t.Errorf("a seventh pending socket from one address: %d %v, want 429", status, err)
	}
	c, status, err := dial("198.51.100.8")
	if err != nil {
		t.Fatalf("another address: %d %v", status, err)
	}
	c.Close()
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
