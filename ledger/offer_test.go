package ledger_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/ent"
	"linli/ent/job"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/jobs"
	"linli/ledger"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

// Waitlist offers, through the API on both databases. Time is real: an
// offer's expiry is moved into the past the way a clock would, by writing
// the registration's offer_expires_at and making its lapse job due now;
// the job runner then does what it does at the expiry.

// offerFast makes background work quick.
func offerFast(c *app.Config) {
	c.Jobs.Poll = 50 * time.Millisecond
	c.Jobs.Lease = 5 * time.Second
	c.RequestTimeout = 3 * time.Minute
}

const offerReg = `id status waitlistPosition cancelReason offerExpiresAt`

type offered struct {
	ID               linlitest.RowID `json:"id"`
	Status           string          `json:"status"`
	WaitlistPosition *int            `json:"waitlistPosition"`
	CancelReason     *string         `json:"cancelReason"`
	OfferExpiresAt   *time.Time      `json:"offerExpiresAt"`
}

const acceptQuery = `mutation($id: ID!, $key: String) { acceptOffer(input: {registrationID: $id, idempotencyKey: $key}) { ` + offerReg + ` } }`
const declineQuery = `mutation($id: ID!, $key: String) { declineOffer(input: {registrationID: $id, idempotencyKey: $key}) { ` + offerReg + ` } }`
const modeQuery = `mutation($in: SetSlotWaitlistModeInput!) { setSlotWaitlistMode(input: $in) { id waitlistMode offerHours offerCloseMinutes } }`

func answer(t *testing.T, e *linlitest.Env, token, query string, id int, key string) offered {
	t.Helper()
	vars := map[string]any{"id": linlitest.ID(id)}
	if key != "" {
		vars["key"] = key
	}
	var out struct {
		AcceptOffer  *offered
		DeclineOffer *offered
	}
	e.Do(t, token, query, vars).Decode(t, &out)
	if out.AcceptOffer != nil {
		return *out.AcceptOffer
	}
	return *out.DeclineOffer
}

func regNow(t *testing.T, e *linlitest.Env, id int) *ent.Registration {
	t.Helper()
	r, err := e.Client.Registration.Get(e.Sys(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// offerSetup makes a community without quiet hours (offers at any hour),
// a coordinator and an OFFER-mode slot of capacity seats.
func offerSetup(t *testing.T, e *linlitest.Env, capacity int, startsIn time.Duration) (c *ent.Community, staff string, a *ent.Activity, sl *ent.Slot) {
	t.Helper()
	c = e.Community(t, "前进社区")
	if err := e.Client.Community.UpdateOneID(c.ID).SetQuietHoursStart("00:00").SetQuietHoursEnd("00:00").Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	_, staff = e.Person(t, c.ID, "社工", viewer.Coordinator)
	a, sl = offerSlot(t, e, c.ID, staff, capacity, startsIn)
	return c, staff, a, sl
}

// offerSlot makes an activity starting in startsIn with one OFFER-mode slot.
func offerSlot(t *testing.T, e *linlitest.Env, cid int, staff string, capacity int, startsIn time.Duration) (*ent.Activity, *ent.Slot) {
	t.Helper()
	a, slots := e.Activity(t, cid, linlitest.ActivitySpec{StartsAt: time.Now().UTC().Add(startsIn).Truncate(time.Second),
		Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: capacity}}})
	var out struct {
		SetSlotWaitlistMode struct {
			WaitlistMode      string
			OfferHours        int
			OfferCloseMinutes int
		}
	}
	e.Do(t, staff, modeQuery, map[string]any{"in": map[string]any{"slotID": linlitest.ID(slots[0].ID), "mode": "OFFER"}}).Decode(t, &out)
	if m := out.SetSlotWaitlistMode; m.WaitlistMode != "OFFER" || m.OfferHours != 12 || m.OfferCloseMinutes != 120 {
		t.Fatalf("mode: %+v", m)
	}
	return a, slots[0]
}

// expire moves registration id's offer expiry into the past and makes its
// lapse job due now, as the clock would.
func expire(t *testing.T, e *linlitest.Env, id int) {
	t.Helper()
	ctx := e.Sys()
	err := store.InTx(ctx, e.Client, store.TxOptions{Lock: e.DB.Writers()}, func(tx *ent.Tx) error {
		if err := tx.Registration.UpdateOneID(id).SetOfferExpiresAt(time.Now().UTC().Add(-time.Second)).Exec(ctx); err != nil {
			return err
		}
		ok, err := jobs.Reschedule(ctx, tx, ledger.LapseKey(id), time.Now())
		if err == nil && !ok {
			err = fmt.Errorf("no lapse job for registration %d", id)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func inboxKinds(t *testing.T, e *linlitest.Env, personID int) []notification.Kind {
	t.Helper()
	var ks []notification.Kind
	for _, n := range e.Client.Notification.Query().AllX(e.Sys()) {
		if n.PersonID == personID {
			ks = append(ks, n.Kind)
		}
	}
	return ks
}

// An offer that lapses passes to the next in line; accepting it then is
// OFFER_EXPIRED; the next accepts (idempotently) and is confirmed.
func TestOfferLapsesToNext(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c, staff, _, sl := offerSetup(t, e, 1, 72*time.Hour)
		ps, toks := e.People(t, c.ID, 3, "居民")
		first := signUp(t, e, toks[0], sl.ID, nil)
		b := signUp(t, e, toks[1], sl.ID, nil)
		cc := signUp(t, e, toks[2], sl.ID, nil)
		if first.Outcome != "CONFIRMED" || b.Outcome != "WAITLISTED" || cc.Outcome != "WAITLISTED" {
			t.Fatalf("outcomes %s %s %s", first.Outcome, b.Outcome, cc.Outcome)
		}
		before := time.Now()
		cancel(t, e, toks[0], first.Registration.ID.Int())
		bid, cid := b.Registration.ID.Int(), cc.Registration.ID.Int()
		rb := regNow(t, e, bid)
		if rb.Status != registration.StatusOFFERED || rb.OfferExpiresAt == nil {
			t.Fatalf("after the cancel the head is %s, want OFFERED", rb.Status)
		}
		if d := rb.OfferExpiresAt.Sub(before); d < 12*time.Hour-time.Minute || d > 12*time.Hour+time.Minute {
			t.Fatalf("offer stands %v, want 12 h", d)
		}
		if got := registrationOf(t, e, toks[2], cid); got.Status != "WAITLISTED" || *got.WaitlistPosition != 1 {
			t.Fatalf("next in line: %+v", got)
		}
		if st := readSlot(t, e, sl.ID); st.taken != 1 || st.waitlisted != 1 {
			t.Fatalf("counters while offered: taken %d waitlisted %d", st.taken, st.waitlisted)
		}
		// A new sign-up queues behind (the seat is held by the offer).
		_, late := e.Person(t, c.ID, "后来者")
		if got := signUp(t, e, late, sl.ID, nil); got.Outcome != "WAITLISTED" || *got.Registration.WaitlistPosition != 2 {
			t.Fatalf("late sign-up: %+v", got)
		}
		waitFor(t, 5*time.Second, "the offer in the inbox", func() bool {
			return slices.Contains(inboxKinds(t, e, ps[1].ID), notification.KindWAITLIST_OFFERED)
		})
		// The person sees the offer and its expiry among their registrations.
		var mine struct {
			MyRegistrations struct{ Edges []struct{ Node offered } }
		}
		e.Do(t, toks[1], `{ myRegistrations(first: 10) { edges { node { `+offerReg+` } } } }`, nil).Decode(t, &mine)
		if len(mine.MyRegistrations.Edges) != 1 || mine.MyRegistrations.Edges[0].Node.OfferExpiresAt == nil {
			t.Fatalf("myRegistrations: %+v", mine)
		}

		expire(t, e, bid)
		waitFor(t, 10*time.Second, "the lapse", func() bool { return regNow(t, e, cid).Status == registration.StatusOFFERED })
		rb = regNow(t, e, bid)
		if rb.Status != registration.StatusCANCELLED || rb.CancelReason != ledger.ReasonOfferLapsed || rb.OfferExpiresAt != nil {
			t.Fatalf("lapsed: %s %q", rb.Status, rb.CancelReason)
		}
		e.Do(t, toks[1], acceptQuery, map[string]any{"id": linlitest.ID(bid)}).WantCode(t, "OFFER_EXPIRED")
		waitFor(t, 5*time.Second, "the lapse in the inbox", func() bool {
			return slices.Contains(inboxKinds(t, e, ps[1].ID), notification.KindOFFER_LAPSED)
		})
		// Another person may not answer it.
		e.Do(t, toks[1], acceptQuery, map[string]any{"id": linlitest.ID(cid)}).WantCode(t, "NOT_FOUND")
		got := answer(t, e, toks[2], acceptQuery, cid, "k1")
		if got.Status != "CONFIRMED" || got.OfferExpiresAt != nil {
			t.Fatalf("accepted: %+v", got)
		}
		if again := answer(t, e, toks[2], acceptQuery, cid, "k1"); again.Status != "CONFIRMED" {
			t.Fatalf("replayed: %+v", again)
		}
		e.Do(t, toks[2], declineQuery, map[string]any{"id": linlitest.ID(cid), "key": "k1"}).WantCode(t, "CONFLICT")
		if n := e.Client.Job.Query().Where(job.UniqueKey(ledger.LapseKey(cid))).CountX(e.Sys()); n != 0 {
			t.Fatalf("the accepted offer's lapse job is still there")
		}
		st := readSlot(t, e, sl.ID)
		if bad := st.consistent(); len(bad) > 0 || st.taken != 1 || st.waitlisted != 1 {
			t.Fatalf("counters: %+v %v", st, bad)
		}
		// Staff read it too; a decline of a confirmed seat is refused.
		e.Do(t, staff, declineQuery, map[string]any{"id": linlitest.ID(cid)}).WantCode(t, "CONFLICT")
	}, offerFast)
}

// A declined offer passes on at once; declining again changes nothing.
func TestOfferDeclinePassesOn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c, _, _, sl := offerSetup(t, e, 1, 72*time.Hour)
		_, toks := e.People(t, c.ID, 3, "居民")
		ids := make([]int, 3)
		for i, tok := range toks {
			ids[i] = signUp(t, e, tok, sl.ID, nil).Registration.ID.Int()
		}
		cancel(t, e, toks[0], ids[0])
		if got := answer(t, e, toks[1], declineQuery, ids[1], ""); got.Status != "CANCELLED" || *got.CancelReason != ledger.ReasonOfferDeclined {
			t.Fatalf("declined: %+v", got)
		}
		if got := answer(t, e, toks[1], declineQuery, ids[1], ""); got.Status != "CANCELLED" {
			t.Fatalf("declined twice: %+v", got)
		}
		if r := regNow(t, e, ids[2]); r.Status != registration.StatusOFFERED {
			t.Fatalf("next in line is %s, want OFFERED", r.Status)
		}
		if got := answer(t, e, toks[2], acceptQuery, ids[2], ""); got.Status != "CONFIRMED" {
			t.Fatalf("accepted: %+v", got)
		}
		st := readSlot(t, e, sl.ID)
		if bad := st.consistent(); len(bad) > 0 || st.taken != 1 || st.waitlisted != 0 {
			t.Fatalf("counters: %+v %v", st, bad)
		}
	}, offerFast)
}

// No offer inside the head's quiet hours: the line waits (nobody
// overtakes) and the offer is made when they end. Too close to the start
// no offer is made: the seat is left to the door and to sign-ups.
func TestOfferQuietHoursAndClose(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c, staff, _, sl := offerSetup(t, e, 1, 72*time.Hour)
		_, toks := e.People(t, c.ID, 3, "居民")
		now := time.Now().In(time.FixedZone("CST", 8*3600))
		prefs := `mutation($s: String, $e: String) { updateNotificationPreferences(input: {quietHoursStart: $s, quietHoursEnd: $e}) { quietHoursStart } }`
		e.Do(t, toks[1], prefs, map[string]any{"s": now.Add(-time.Hour).Format("15:04"), "e": now.Add(time.Hour).Format("15:04")}).Decode(t, &struct{}{})
		ids := make([]int, 2)
		for i := range 2 {
			ids[i] = signUp(t, e, toks[i], sl.ID, nil).Registration.ID.Int()
		}
		cancel(t, e, toks[0], ids[0])
		if r := regNow(t, e, ids[1]); r.Status != registration.StatusWAITLISTED {
			t.Fatalf("offered inside quiet hours: %s", r.Status)
		}
		w := e.Client.Job.Query().Where(job.UniqueKey(ledger.WakeKey(sl.ID))).OnlyX(e.Sys())
		if d := time.Until(w.RunAt); d < 50*time.Minute || d > 61*time.Minute {
			t.Fatalf("the offers wake in %v, want at the quiet hours' end (~1 h)", d)
		}
		if got := signUp(t, e, toks[2], sl.ID, nil); got.Outcome != "WAITLISTED" {
			t.Fatalf("a sign-up overtook the line: %s", got.Outcome)
		}
		// The quiet hours move away; the wake job, run now, makes the offer.
		e.Do(t, toks[1], prefs, map[string]any{"s": now.Add(2 * time.Hour).Format("15:04"), "e": now.Add(3 * time.Hour).Format("15:04")}).Decode(t, &struct{}{})
		err := store.InTx(e.Sys(), e.Client, store.TxOptions{Lock: e.DB.Writers()}, func(tx *ent.Tx) error {
			_, err := jobs.Reschedule(e.Sys(), tx, ledger.WakeKey(sl.ID), time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the offer after quiet hours", func() bool { return regNow(t, e, ids[1]).Status == registration.StatusOFFERED })

		// An hour before the start offers are closed (120 min by default).
		_, near := offerSlot(t, e, c.ID, staff, 1, time.Hour)
		_, ntoks := e.People(t, c.ID, 3, "近")
		nids := make([]int, 2)
		for i := range 2 {
			nids[i] = signUp(t, e, ntoks[i], near.ID, nil).Registration.ID.Int()
		}
		cancel(t, e, ntoks[0], nids[0])
		if r := regNow(t, e, nids[1]); r.Status != registration.StatusWAITLISTED {
			t.Fatalf("offered after offers closed: %s", r.Status)
		}
		if got := signUp(t, e, ntoks[2], near.ID, nil); got.Outcome != "CONFIRMED" {
			t.Fatalf("the seat left free was not taken by a sign-up: %s", got.Outcome)
		}
		st := readSlot(t, e, near.ID)
		if bad := st.consistent(); len(bad) > 0 || st.taken != 1 {
			t.Fatalf("counters: %+v %v", st, bad)
		}
		// Bad settings and callers are refused.
		e.Do(t, staff, modeQuery, map[string]any{"in": map[string]any{"slotID": linlitest.ID(sl.ID), "mode": "OFFER", "offerHours": 0}}).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, toks[2], modeQuery, map[string]any{"in": map[string]any{"slotID": linlitest.ID(sl.ID), "mode": "INSTANT"}}).WantCode(t, "FORBIDDEN")
	}, offerFast)
}

// 1,000 people sign up at once for 100 seats of an OFFER slot; then 60
// seat holders cancel while 200 more sign up, all at once; then the
// offered answer, all at once, half accepting and half declining, until
// no offer stands. The counters always equal the rows, the seats never
// exceed the capacity, and the offers went down the line in its order:
// the people who left the line are exactly its first ones.
func TestOfferStorm(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c, staff, a, sl := offerSetup(t, e, stormCapacity, 72*time.Hour)
		_, tokens := e.People(t, c.ID, stormPeople+200, "居民")
		client := linlitest.ConcurrentClient(stormPeople + 200)
		client.Timeout = 5 * time.Minute // the checks are about who gets a seat, not how fast
		answers := storm(t, e, client, tokens[:stormPeople], sl.ID)
		if bad := checkStorm(t, e, staff, a, sl, answers); len(bad) > 0 {
			t.Fatalf("sign-ups: %d problems, first ones: %v", len(bad), bad[:min(len(bad), 5)])
		}
		// The line as it stood: position → registration.
		line := map[int]int{}
		var holders []int
		tokenOf := map[int]string{}
		for i, ans := range answers {
			tokenOf[ans.Registration.ID.Int()] = tokens[i]
			if p := ans.Registration.WaitlistPosition; p != nil {
				line[*p] = ans.Registration.ID.Int()
			} else {
				holders = append(holders, ans.Registration.ID.Int())
			}
		}
		// 60 cancel while 200 more sign up.
		var wg sync.WaitGroup
		errs := make(chan error, 300)
		start := make(chan struct{})
		for _, id := range holders[:60] {
			wg.Go(func() {
				<-start
				res, err := post(client, e.Server.URL+"/graphql", tokenOf[id], cancelQuery, map[string]any{"id": linlitest.ID(id)})
				if err == nil {
					err = res.Err()
				}
				if err != nil {
					errs <- err
				}
			})
		}
		for _, tok := range tokens[stormPeople:] {
			wg.Go(func() {
				<-start
				res, err := post(client, e.Server.URL+"/graphql", tok, signUpQuery, input(sl.ID, nil))
				if err == nil {
					err = res.Err()
				}
				if err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		check := func(when string) {
			t.Helper()
			st := readOffers(t, e, sl.ID)
			if bad := st.consistent(); len(bad) > 0 {
				t.Fatalf("%s: %v", when, bad)
			}
		}
		check("after the cancellations")
		// Answer the offers, all at once, until none stands.
		accepted := 0
		for round := 0; ; round++ {
			standing := e.Client.Registration.Query().Where(registration.SlotID(sl.ID), registration.StatusEQ(registration.StatusOFFERED)).AllX(e.Sys())
			if len(standing) == 0 {
				break
			}
			if round > 200 {
				t.Fatalf("offers still standing after %d rounds", round)
			}
			for _, r := range standing {
				if tokenOf[r.ID] == "" {
					head := e.Client.Registration.Query().Where(registration.SlotID(sl.ID), registration.StatusEQ(registration.StatusWAITLISTED)).
						Order(ledger.WaitlistOrder()...).FirstX(e.Sys())
					t.Fatalf("round %d: a newcomer's registration %d (queue %d) was offered a seat while %d (queue %d) waits",
						round, r.ID, r.QueueSeq, head.ID, head.QueueSeq)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(standing))
			for i, r := range standing {
				q := declineQuery
				if i%2 == 0 {
					q = acceptQuery
					accepted++
				}
				wg.Go(func() {
					res, err := post(client, e.Server.URL+"/graphql", tokenOf[r.ID], q, map[string]any{"id": linlitest.ID(r.ID)})
					if err == nil {
						err = res.Err()
					}
					if err != nil {
						errs <- fmt.Errorf("answer %d: %w", r.ID, err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			check(fmt.Sprintf("after round %d of answers", round))
		}
		st := readOffers(t, e, sl.ID)
		if st.taken != stormCapacity || st.confirmedSeats != stormCapacity {
			t.Fatalf("taken %d, confirmed %d, want %d", st.taken, st.confirmedSeats, stormCapacity)
		}
		// FIFO: those who left the line are exactly its first ones.
		left := 0
		for p := 1; p <= len(line); p++ {
			if regNow(t, e, line[p]).Status != registration.StatusWAITLISTED {
				left = p
			}
		}
		for p := 1; p <= left; p++ {
			r := regNow(t, e, line[p])
			if r.Status != registration.StatusCONFIRMED && r.CancelReason != ledger.ReasonOfferDeclined {
				t.Fatalf("position %d of the line (of %d who left it) is %s %q: the line was overtaken", p, left, r.Status, r.CancelReason)
			}
		}
		if left < 60 || accepted != 60 {
			t.Fatalf("%d left the line, %d accepted; want ≥ 60 and 60", left, accepted)
		}
		bad := gaps("listed positions", listedPositions(t, e, staff, a.ID, sl.ID), stormPeople+200-stormCapacity-left)
		if len(bad) > 0 {
			t.Fatal(bad)
		}
		t.Logf("%s: %d offers made down the line, %d accepted", e.Backend, left, accepted)
	}, offerFast)
}

// readOffers is readSlot with offers counted as the seats they hold.
func readOffers(t *testing.T, e *linlitest.Env, slotID int) slotState {
	t.Helper()
	st := readSlot(t, e, slotID)
	for _, r := range e.Client.Registration.Query().Where(registration.SlotID(slotID), registration.StatusEQ(registration.StatusOFFERED)).AllX(e.Sys()) {
		st.confirmedSeats += r.Seats
	}
	return st
}
