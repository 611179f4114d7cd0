package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/ent"
	"linli/ent/job"
	"linli/ent/notification"
	"linli/jobs"
	"linli/linlitest"
	"linli/notify"
	"linli/store"
	"linli/viewer"
)

// fast makes background work quick for tests.
func fast(c *app.Config) {
	c.Jobs.Poll = 50 * time.Millisecond
	c.Jobs.Lease = 2 * time.Second
	c.Notify.ReminderSweep = 200 * time.Millisecond
}

type person struct {
	p     *ent.Person
	token string
}

func people(t *testing.T, e *linlitest.Env, cid, n int, prefix string) []person {
	t.Helper()
	ps, toks := e.People(t, cid, n, prefix, viewer.Resident)
	out := make([]person, n)
	for i := range ps {
		out[i] = person{ps[i], toks[i]}
	}
	return out
}

func signUp(t *testing.T, e *linlitest.Env, token string, slotID int) (status string, regID string) {
	t.Helper()
	res := e.Do(t, token, `mutation($s: ID!) { signUp(input: {slotID: $s}) { registration { id status } } }`, map[string]any{"s": e.ID(slotID)})
	var out struct {
		SignUp struct{ Registration struct{ ID, Status string } }
	}
	res.Decode(t, &out)
	return out.SignUp.Registration.Status, out.SignUp.Registration.ID
}

func cancel(t *testing.T, e *linlitest.Env, token, regID string) {
	t.Helper()
	res := e.Do(t, token, `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`, map[string]any{"r": regID})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
}

type inboxItem struct {
	ID, Kind, Title, Body string
	ReadAt                *string
	Activity              *struct{ ID string }
}

func inbox(t *testing.T, e *linlitest.Env, token string) []inboxItem {
	t.Helper()
	res := e.Do(t, token, `{ notifications(first: 100) { edges { node { id kind title body readAt activity { id } } } } }`, nil)
	var out struct {
		Notifications struct{ Edges []struct{ Node inboxItem } }
	}
	res.Decode(t, &out)
	items := make([]inboxItem, len(out.Notifications.Edges))
	for i, ed := range out.Notifications.Edges {
		items[i] = ed.Node
	}
	return items
}

func kinds(items []inboxItem, kind string) []inboxItem {
	var out []inboxItem
	for _, it := range items {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

func eventually(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sse subscribes over SSE and sends each event's data on the channel.
func sse(t *testing.T, e *linlitest.Env, token, query string) <-chan string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.Server.URL+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE: %d", resp.StatusCode)
	}
	out := make(chan string, 16)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.TrimSpace(data) != "" {
				out <- data
			}
		}
	}()
	return out
}

// A resident promoted from the waitlist finds it in their inbox within
// 2 s, naming the activity, its time and place; their myNotifications
// subscription pushes it; the unread count is theirs alone; marking read
// works on their own only.
func TestPromotionReachesInbox(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		venue := e.Client.Venue.Create().SetCommunityID(com.ID).SetName("社区卫生服务站").SetAddress("枞阳镇前进路1号").SaveX(e.Sys())
		a, slots := e.Activity(t, com.ID, linlitest.ActivitySpec{Title: "义诊", Slots: []linlitest.SlotSpec{{Name: "号源", Capacity: 1}}})
		e.Client.Activity.UpdateOne(a).SetVenueID(venue.ID).ExecX(e.Sys())
		ps := people(t, e, com.ID, 2, "居民")
		if st, _ := signUp(t, e, ps[0].token, slots[0].ID); st != "CONFIRMED" {
			t.Fatal(st)
		}
		reg0, _ := e.Client.Registration.Query().Only(e.Sys())
		if st, _ := signUp(t, e, ps[1].token, slots[0].ID); st != "WAITLISTED" {
			t.Fatal(st)
		}
		pushed := sse(t, e, ps[1].token, `subscription { myNotifications { kind title body activity { title } } }`)
		time.Sleep(200 * time.Millisecond) // subscribed
		start := time.Now()
		cancel(t, e, ps[0].token, e.ID(reg0.ID))
		var got []inboxItem
		eventually(t, 2*time.Second, "the promotion in the inbox", func() bool {
			got = kinds(inbox(t, e, ps[1].token), "WAITLIST_PROMOTED")
			return len(got) == 1
		})
		t.Logf("promotion in the inbox after %v", time.Since(start))
		n := got[0]
		for _, want := range []string{"义诊", "社区卫生服务站", a.StartsAt.In(time.FixedZone("CST", 8*3600)).Format("15:04")} {
			if !strings.Contains(n.Body, want) {
				t.Errorf("body %q lacks %q", n.Body, want)
			}
		}
		if n.Activity == nil || n.Activity.ID != e.ID(a.ID) {
			t.Errorf("activity edge %+v", n.Activity)
		}
		select {
		case data := <-pushed:
			if !strings.Contains(data, "WAITLIST_PROMOTED") || !strings.Contains(data, "义诊") {
				t.Errorf("pushed %s", data)
			}
		case <-time.After(2 * time.Second):
			t.Error("the subscription pushed nothing")
		}
		if len(inbox(t, e, ps[0].token)) != 0 {
			t.Error("the one who cancelled was notified")
		}
		// The unread count: self only.
		var me struct {
			Person struct{ UnreadNotifications *int }
		}
		q := `query($id: ID!) { person: node(id: $id) { ... on Person { unreadNotifications } } }`
		e.Do(t, ps[1].token, q, map[string]any{"id": e.ID(ps[1].p.ID)}).Decode(t, &me)
		if me.Person.UnreadNotifications == nil || *me.Person.UnreadNotifications != 1 {
			t.Errorf("unread %v", me.Person.UnreadNotifications)
		}
		// Another person cannot mark it read, nor see it by id.
		var marked struct{ MarkNotificationsRead int }
		e.Do(t, ps[0].token, `mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }`, map[string]any{"ids": []string{n.ID}}).Decode(t, &marked)
		if marked.MarkNotificationsRead != 0 {
			t.Error("someone else marked it read")
		}
		e.Do(t, ps[0].token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": n.ID}).WantCode(t, "NOT_FOUND")
		e.Do(t, ps[1].token, `mutation { markNotificationsRead(all: true) }`, nil).Decode(t, &marked)
		if marked.MarkNotificationsRead != 1 {
			t.Errorf("marked %d", marked.MarkNotificationsRead)
		}
		var unread struct {
			Notifications struct{ Edges []any }
		}
		e.Do(t, ps[1].token, `{ notifications(first: 10, unreadOnly: true) { edges { node { id } } } }`, nil).Decode(t, &unread)
		if len(unread.Notifications.Edges) != 0 {
			t.Error("unread after marking all read")
		}
	}, fast)
}

// A change rolled back with its cause notifies nobody; a committed one does.
func TestRolledBackNotifiesNobody(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		a, _ := e.Activity(t, com.ID, linlitest.ActivitySpec{})
		ps := people(t, e, com.ID, 2, "居民")
		ctx := e.Sys()
		boom := errors.New("refused later in the transaction")
		err := store.InTx(ctx, e.Client, store.TxOptions{Lock: e.DB.Writers()}, func(tx *ent.Tx) error {
			if err := notify.Emit(ctx, tx, notify.Event{Kind: notification.KindACTIVITY_CHANGED, CommunityID: com.ID,
				ActivityID: a.ID, PersonIDs: []int{ps[0].p.ID}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		err = store.InTx(ctx, e.Client, store.TxOptions{Lock: e.DB.Writers()}, func(tx *ent.Tx) error {
			return notify.Emit(ctx, tx, notify.Event{Kind: notification.KindACTIVITY_CHANGED, CommunityID: com.ID,
				ActivityID: a.ID, PersonIDs: []int{ps[1].p.ID}})
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Second, "the committed one", func() bool { return len(inbox(t, e, ps[1].token)) == 1 })
		if got := inbox(t, e, ps[0].token); len(got) != 0 {
			t.Errorf("the rolled-back change notified: %+v", got)
		}
		if n := e.Client.Job.Query().Where(job.Kind(notify.KindEvent)).CountX(ctx); n != 0 {
			t.Errorf("%d event jobs left", n)
		}
	}, fast)
}

// 20 seat holders cancel at once: each of the 20 waiting is promoted and
// notified exactly once.
func TestConcurrentPromotions(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		_, slots := e.Activity(t, com.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 20}}})
		holders := people(t, e, com.ID, 20, "持有")
		waiting := people(t, e, com.ID, 20, "候补")
		regs := make([]string, 20)
		for i, p := range holders {
			_, regs[i] = signUp(t, e, p.token, slots[0].ID)
		}
		for _, p := range waiting {
			if st, _ := signUp(t, e, p.token, slots[0].ID); st != "WAITLISTED" {
				t.Fatal(st)
			}
		}
		var wg sync.WaitGroup
		for i, p := range holders {
			wg.Go(func() { cancel(t, e, p.token, regs[i]) })
		}
		wg.Wait()
		eventually(t, 10*time.Second, "20 promotions notified", func() bool {
			return e.Client.Notification.Query().Where(notification.KindEQ(notification.KindWAITLIST_PROMOTED)).CountX(e.Sys()) >= 20
		})
		time.Sleep(300 * time.Millisecond) // nothing more comes
		for _, p := range waiting {
			if got := kinds(inbox(t, e, p.token), "WAITLIST_PROMOTED"); len(got) != 1 {
				t.Errorf("%s notified %d times", p.p.DisplayName, len(got))
			}
		}
		if n := e.Client.Notification.Query().CountX(e.Sys()); n != 20 {
			t.Errorf("%d notifications, want 20", n)
		}
	}, fast)
}

func setPrefs(t *testing.T, e *linlitest.Env, token string, input map[string]any) {
	t.Helper()
	res := e.Do(t, token, `mutation($in: NotificationPreferencesInput!) { updateNotificationPreferences(input: $in) { channels reminderLeadMinutes } }`, map[string]any{"in": input})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
}

// Moving an activity tells its holders (confirmed and waiting) once and
// moves its reminders: none at the old time, one at the new; cancelling
// it tells every holder once and drops its reminders.
func TestMoveAndCancel(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		staff, staffTok := e.Person(t, com.ID, "社工", viewer.Coordinator)
		_ = staff
		start := time.Now().UTC().Add(5 * time.Hour).Truncate(time.Second)
		a, slots := e.Activity(t, com.ID, linlitest.ActivitySpec{Title: "道德讲堂", StartsAt: start, Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 2}}})
		ps := people(t, e, com.ID, 3, "居民")
		for _, p := range ps {
			setPrefs(t, e, p.token, map[string]any{"reminderLeadMinutes": []int{60}, "quietHoursStart": "00:00", "quietHoursEnd": "00:00"})
			signUp(t, e, p.token, slots[0].ID)
		}
		// Move it so the 60-minute reminder falls due in a second.
		newStart := time.Now().UTC().Add(time.Hour + time.Second)
		res := e.Do(t, staffTok, `mutation($id: ID!, $s: Time!, $end: Time!) { updateActivity(id: $id, input: {startsAt: $s, endsAt: $end}) { startsAt } }`,
			map[string]any{"id": e.ID(a.ID), "s": newStart.Format(time.RFC3339Nano), "end": newStart.Add(2 * time.Hour).Format(time.RFC3339Nano)})
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		// The confirmed two are reminded; the third waits: told of the
		// change, not reminded.
		for i, p := range ps {
			reminders := 1
			if i == 2 {
				reminders = 0
			}
			eventually(t, 3*time.Second, "the change and the reminder", func() bool {
				items := inbox(t, e, p.token)
				return len(kinds(items, "ACTIVITY_CHANGED")) == 1 && len(kinds(items, "REMINDER")) == reminders
			})
		}
		// Cancel: every holder once, and no reminder for a second activity
		// cancelled before its reminder fell due.
		b, bslots := e.Activity(t, com.ID, linlitest.ActivitySpec{Title: "文化广场演出", StartsAt: time.Now().UTC().Add(time.Hour + 2*time.Second),
			Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 5}}})
		signUp(t, e, ps[0].token, bslots[0].ID)
		for _, id := range []int{a.ID, b.ID} {
			res = e.Do(t, staffTok, `mutation($id: ID!) { cancelActivity(id: $id, reason: "暴雨") { status } }`, map[string]any{"id": e.ID(id)})
			if err := res.Err(); err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range ps {
			want := 1
			if i == 0 {
				want = 2
			}
			eventually(t, 3*time.Second, "cancellations", func() bool { return len(kinds(inbox(t, e, p.token), "ACTIVITY_CANCELLED")) == want })
		}
		time.Sleep(3 * time.Second) // past b's reminder time
		for i, p := range ps {
			items := inbox(t, e, p.token)
			if n := len(kinds(items, "REMINDER")); n != min(1, 2-i) {
				t.Errorf("%s: %d reminders", p.p.DisplayName, n)
			}
			if n := len(kinds(items, "ACTIVITY_CANCELLED")); p.p.ID != ps[0].p.ID && n != 1 {
				t.Errorf("%s: %d cancellations", p.p.DisplayName, n)
			}
			for _, it := range kinds(items, "ACTIVITY_CANCELLED") {
				if !strings.Contains(it.Body, "暴雨") {
					t.Errorf("cancellation without its reason: %s", it.Body)
				}
			}
		}
	}, fast)
}

// Quiet hours: the inbox gets a notification at once; its external copy
// waits for the window's end, while outside anyone's window it goes now.
func TestQuietHoursHold(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		a, _ := e.Activity(t, com.ID, linlitest.ActivitySpec{})
		ps := people(t, e, com.ID, 2, "居民")
		now := time.Now().In(time.FixedZone("CST", 8*3600))
		from, to := now.Add(-time.Hour).Format("15:04"), now.Add(time.Hour).Format("15:04")
		setPrefs(t, e, ps[0].token, map[string]any{"channels": []string{"SMS"}, "quietHoursStart": from, "quietHoursEnd": to})
		setPrefs(t, e, ps[1].token, map[string]any{"channels": []string{"SMS", "WECHAT"}, "quietHoursStart": now.Add(2 * time.Hour).Format("15:04"), "quietHoursEnd": now.Add(3 * time.Hour).Format("15:04")})
		ctx := e.Sys()
		err := store.InTx(ctx, e.Client, store.TxOptions{Lock: e.DB.Writers()}, func(tx *ent.Tx) error {
			return notify.Emit(ctx, tx, notify.Event{Kind: notification.KindACTIVITY_CHANGED, CommunityID: com.ID,
				ActivityID: a.ID, PersonIDs: []int{ps[0].p.ID, ps[1].p.ID}})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			eventually(t, 2*time.Second, "the inbox", func() bool { return len(inbox(t, e, p.token)) == 1 })
		}
		// The copies: still queued, or (outside quiet hours, due at once)
		// already worked, leaving their delivery row.
		sends := e.Client.Job.Query().Where(job.Kind(notify.KindSend)).AllX(ctx)
		copies := map[string]bool{}
		for _, d := range e.Client.NotificationDelivery.Query().AllX(ctx) {
			if d.PersonID == ps[0].p.ID {
				t.Errorf("a %s copy went out inside quiet hours", d.Channel)
			}
			copies[fmt.Sprint(d.PersonID, d.Channel)] = true
		}
		for _, j := range sends {
			var p notify.SendPayload
			_ = json.Unmarshal([]byte(j.Payload), &p)
			copies[fmt.Sprint(e.Client.Notification.GetX(ctx, p.NotificationID).PersonID, p.Channel)] = true
		}
		if len(copies) != 3 {
			t.Fatalf("%d copies, want 3: %v", len(copies), copies)
		}
		for _, j := range sends {
			var p notify.SendPayload
			_ = json.Unmarshal([]byte(j.Payload), &p)
			n := e.Client.Notification.GetX(ctx, p.NotificationID)
			wait := time.Until(j.RunAt)
			if n.PersonID == ps[0].p.ID {
				if wait < 50*time.Minute || wait > 61*time.Minute {
					t.Errorf("inside quiet hours: %s copy in %v, want at the window's end (~1 h)", p.Channel, wait)
				}
			} else if wait > 5*time.Second {
				t.Errorf("outside quiet hours: %s copy in %v", p.Channel, wait)
			}
		}
		// Muting: never ACTIVITY_CANCELLED.
		res := e.Do(t, ps[0].token, `mutation { updateNotificationPreferences(input: {mutedKinds: [ACTIVITY_CANCELLED]}) { mutedKinds } }`, nil)
		res.WantCode(t, "VALIDATION_FAILED")
	}, fast)
}

// A replica that claimed the reminder sweep and died (its lease held,
// never finished) while reminders fell due: once the lease expires the
// sweep runs elsewhere and each reminder is delivered exactly once, late
// (the activity has not started); running the same sweep again delivers
// nothing more.
func TestCrashedSweepDeliversOnce(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		ctx := e.Sys()
		key := jobs.PeriodicKey(notify.KindReminderSweep)
		// The replica that died: it holds the sweep, whose last run was
		// 10 minutes ago.
		last := time.Now().UTC().Add(-10 * time.Minute)
		hold := func() {
			e.Client.Job.Update().Where(job.UniqueKey(key)).SetState(job.StateRUNNING).SetLease("dead").
				SetLeaseUntil(time.Now().UTC().Add(time.Hour)).SetPayload(fmt.Sprintf(`{"last":%q}`, last.Format(time.RFC3339Nano))).ExecX(ctx)
		}
		// The dead replica's lease runs out.
		expire := func() {
			e.Client.Job.Update().Where(job.UniqueKey(key), job.Lease("dead")).SetLeaseUntil(time.Now().UTC().Add(-time.Second)).ExecX(ctx)
		}
		hold()
		// Reminders (2 h lead) that fell due 5 minutes ago; the activity
		// starts in 115 minutes.
		_, slots := e.Activity(t, com.ID, linlitest.ActivitySpec{StartsAt: time.Now().UTC().Add(115 * time.Minute),
			Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 30}}})
		ps := people(t, e, com.ID, 25, "居民")
		for _, p := range ps {
			signUp(t, e, p.token, slots[0].ID)
		}
		time.Sleep(500 * time.Millisecond)
		if n := e.Client.Notification.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d reminders while the sweep was held", n)
		}
		expire()
		eventually(t, 5*time.Second, "25 reminders", func() bool { return e.Client.Notification.Query().CountX(ctx) == 25 })
		// The same window swept again (as if the dead replica's work were
		// redone): nothing new.
		hold()
		expire()
		eventually(t, 5*time.Second, "the sweep to run again", func() bool {
			j := e.Client.Job.Query().Where(job.UniqueKey(key)).OnlyX(ctx)
			return j.State == job.StateAVAILABLE && !strings.Contains(j.Payload, last.Format(time.RFC3339Nano))
		})
		for _, p := range ps {
			if got := kinds(inbox(t, e, p.token), "REMINDER"); len(got) != 1 {
				t.Errorf("%s: %d reminders", p.p.DisplayName, len(got))
			}
		}
	}, fast)
}

// Two replicas on one PostgreSQL database: every notification is made
// once, whichever replica works it, and a subscriber on the other replica
// gets it.
func TestTwoReplicas(t *testing.T) {
	url := linlitest.DatabaseURL(t, "postgres")
	e1 := linlitest.NewAt(t, "postgres", url, fast)
	e2 := linlitest.NewAt(t, "postgres", url, fast)
	com := e1.Community(t, "前进社区")
	_, slots := e1.Activity(t, com.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 10}}})
	holders := people(t, e1, com.ID, 10, "持有")
	waiting := people(t, e1, com.ID, 10, "候补")
	regs := make([]string, 10)
	for i, p := range holders {
		_, regs[i] = signUp(t, e1, p.token, slots[0].ID)
	}
	for _, p := range waiting {
		signUp(t, e1, p.token, slots[0].ID)
	}
	pushed := sse(t, e2, waiting[0].token, `subscription { myNotifications { kind } }`)
	time.Sleep(300 * time.Millisecond)
	var wg sync.WaitGroup
	for i, p := range holders {
		env := e1
		if i%2 == 1 {
			env = e2
		}
		wg.Go(func() { cancel(t, env, p.token, regs[i]) })
	}
	wg.Wait()
	eventually(t, 10*time.Second, "10 promotions", func() bool {
		return e1.Client.Notification.Query().CountX(e1.Sys()) >= 10
	})
	time.Sleep(500 * time.Millisecond)
	for _, p := range waiting {
		if got := inbox(t, e2, p.token); len(got) != 1 {
			t.Errorf("%s: %d notifications", p.p.DisplayName, len(got))
		}
	}
	select {
	case data := <-pushed:
		if !strings.Contains(data, "WAITLIST_PROMOTED") {
			t.Errorf("pushed %s", data)
		}
	case <-time.After(3 * time.Second):
		t.Error("nothing pushed to the other replica's subscriber")
	}
}
