package scan_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/ledger"
	"linli/linlitest"
)

// door is one request of a storm at the door.
type door struct {
	token, op, code, nonce string
}

// doorAnswer is a storm request's answer, or its error code.
type doorAnswer struct {
	answer
	code string
}

// doorStorm sends every request at once and returns their answers.
func (s *site) doorStorm(t *testing.T, reqs []door) []doorAnswer {
	t.Helper()
	client := linlitest.ConcurrentClient(len(reqs))
	out := make([]doorAnswer, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := linlitest.Post(t, client, s.e.Server.URL+"/graphql", r.token,
				`mutation($in: CheckInInput!) { `+r.op+`(input: $in) { `+resultFields+` } }`,
				map[string]any{"in": map[string]any{"code": r.code, "nonce": r.nonce}})
			if len(res.Errors) > 0 {
				out[i].code = res.Code()
				return
			}
			var data map[string]answer
			if err := jsonUnmarshal(res.Data, &data); err == nil {
				out[i].answer = data[r.op]
			}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func ledgerOf(e *linlitest.Env) *ledger.Ledger { return e.App.Resolver.Ledger }

// wantSlotsAgree checks that each slot's checked_in is the seats of its
// registrations that came (CHECKED_IN and CHECKED_OUT).
func (s *site) wantSlotsAgree(t *testing.T, slotIDs ...int) {
	t.Helper()
	for _, id := range slotIDs {
		regs, err := s.e.Client.Registration.Query().Where(registration.SlotID(id),
			registration.StatusIn(registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT)).All(s.e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		seats := 0
		for _, r := range regs {
			seats += r.Seats
		}
		s.wantCheckedIn(t, id, seats)
	}
}

// TestBatchedCheckIns: kiosks checking in many people of several
// activities at once are committed in fewer transactions than scans; each
// person is checked in (and out) once, and each slot's checked_in is the
// seats of those who came. An unknown code and a kiosk at the wrong venue
// in the same storm are answered so without failing the others.
func TestBatchedCheckIns(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		kiosks := []string{s.kiosk}
		for i := 1; i < 4; i++ {
			_, k := s.registerKiosk(t, s.venue.ID, fmt.Sprintf("平板 %d", i+1))
			kiosks = append(kiosks, k)
		}
		_, elsewhere := s.registerKiosk(t, s.newVenue(t, "文化广场").ID, "广场平板")
		slotIDs := []int{s.seats.ID}
		for i := 0; i < 3; i++ {
			_, seats, _ := s.newActivity(t, s.venue.ID, time.Now().Add(20*time.Minute))
			slotIDs = append(slotIDs, seats.ID)
		}
		var regs []reg
		for i := 0; i < 24; i++ {
			sl, _ := e.Client.Slot.Get(e.Sys(), slotIDs[i%len(slotIDs)])
			regs = append(regs, s.signUp(t, s.member(t, fmt.Sprintf("居民%d", i)), sl, 1+(i/4)%2))
		}

		for _, op := range []string{"checkIn", "checkOut"} {
			before := ledgerOf(e).Stats()
			var reqs []door
			for i, r := range regs {
				reqs = append(reqs, door{kiosks[i%len(kiosks)], op, r.Code, nonce()})
			}
			reqs = append(reqs, door{kiosks[0], op, "NO-SUCH-CODE", nonce()}, door{elsewhere, op, regs[0].Code, nonce()})
			answers := s.doorStorm(t, reqs)
			for i := range regs {
				if a := answers[i]; a.code != "" || a.Status != "OK" {
					t.Fatalf("%s %d: %s %s", op, i, a.code, mustJSON(a.answer))
				}
			}
			if a := answers[len(regs)]; a.Status != "UNKNOWN_CODE" {
				t.Fatalf("unknown code answered %s %s", a.code, mustJSON(a.answer))
			}
			if a := answers[len(regs)+1]; a.Status != "WRONG_VENUE" {
				t.Fatalf("kiosk at another venue answered %s %s", a.code, mustJSON(a.answer))
			}
			after := ledgerOf(e).Stats()
			batches, ops := after.Batches-before.Batches, after.Ops-before.Ops
			t.Logf("%s: %d scans in %d transactions (largest %d)", op, ops, batches, after.MaxBatch)
			if ops < int64(len(regs)+1) || batches >= ops {
				t.Fatalf("%s: %d ops committed in %d transactions, want %d or more in fewer", op, ops, batches, len(regs)+1)
			}
			want := registration.StatusCHECKED_IN
			if op == "checkOut" {
				want = registration.StatusCHECKED_OUT
			}
			for _, r := range regs {
				got, err := e.Client.Registration.Get(e.Sys(), r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != want {
					t.Fatalf("registration %d is %s after %s, want %s", r.ID, got.Status, op, want)
				}
				kind := checkinscan.KindIN
				if op == "checkOut" {
					kind = checkinscan.KindOUT
				}
				n, err := e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(r.ID), checkinscan.KindEQ(kind),
					checkinscan.StatusEQ(checkinscan.StatusOK)).Count(e.Sys())
				if err != nil || n != 1 {
					t.Fatalf("registration %d: %d OK %s scans (%v), want 1", r.ID, n, kind, err)
				}
			}
			s.wantSlotsAgree(t, slotIDs...)
		}
	})
}

// TestBatchedNonces: the same nonce twice at once gets one effect and the
// same answer, even inside one batch; the same nonce on another kiosk is
// another scan; the same nonce for another code is CONFLICT and changes
// nothing, while the scans around it go ahead.
func TestBatchedNonces(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		_, other := s.registerKiosk(t, s.venue.ID, "侧门平板")
		var regs []reg
		for i := 0; i < 10; i++ {
			regs = append(regs, s.signUp(t, s.member(t, fmt.Sprintf("居民%d", i)), s.seats, 1))
		}
		var reqs []door
		nonces := make([]string, 8)
		for i := range 8 {
			nonces[i] = nonce()
			reqs = append(reqs, door{s.kiosk, "checkIn", regs[i].Code, nonces[i]}, door{s.kiosk, "checkIn", regs[i].Code, nonces[i]})
		}
		// The other kiosk's nonce is its own: the same string is another scan.
		reqs = append(reqs, door{other, "checkIn", regs[8].Code, nonces[0]})
		// A nonce reused for another code.
		reqs = append(reqs, door{s.kiosk, "checkIn", regs[9].Code, nonces[1]})
		answers := s.doorStorm(t, reqs)
		// Nonce 1 was also sent for another code: whichever came first
		// checked in, the other is CONFLICT.
		conflicted := answers[17].code == "CONFLICT"
		for i := range 8 {
			a, b := answers[2*i], answers[2*i+1]
			if i == 1 && !conflicted {
				if a.code != "CONFLICT" || b.code != "CONFLICT" || answers[17].Status != "OK" {
					t.Fatalf("nonce 1: answered %s, %s and %s %s, want CONFLICT twice after the other code's OK", a.code, b.code, answers[17].code, answers[17].Status)
				}
				continue
			}
			if a.code != "" || a.Status != "OK" || mustJSON(a) != mustJSON(b) {
				t.Fatalf("nonce %d: answered %s %s and %s %s, want the same OK twice", i, a.code, mustJSON(a.answer), b.code, mustJSON(b.answer))
			}
		}
		if a := answers[16]; a.Status != "OK" {
			t.Fatalf("another kiosk's scan under the same nonce: %s %s", a.code, mustJSON(a.answer))
		}
		loser := regs[9]
		if !conflicted {
			loser = regs[1]
		}
		if got, _ := e.Client.Registration.Get(e.Sys(), loser.ID); got == nil || got.Status != registration.StatusCONFIRMED {
			t.Fatalf("the conflicting scan moved its registration: %+v", got)
		}
		for i := range 8 {
			n, err := e.Client.CheckInScan.Query().Where(checkinscan.Nonce(nonces[i]), checkinscan.KioskID(s.kioskID)).Count(e.Sys())
			if err != nil || n != 1 {
				t.Fatalf("nonce %d: %d scans stored (%v), want 1", i, n, err)
			}
		}
		s.wantSlotsAgree(t, s.seats.ID)
		s.wantCheckedIn(t, s.seats.ID, 9)
	})
}

// TestBatchFallsBackOneByOne: the retry of a scan committed earlier,
// arriving among new scans, makes its batch fail as a whole (the nonce is
// stored already); the batch's scans then run one at a time, so the retry
// gets the first answer and the others go ahead.
func TestBatchFallsBackOneByOne(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		var regs []reg
		for i := 0; i < 9; i++ {
			regs = append(regs, s.signUp(t, s.member(t, fmt.Sprintf("居民%d", i)), s.seats, 1))
		}
		n := nonce()
		first := s.scan(t, s.kiosk, "checkIn", regs[0].Code, n, nil)
		wantStatus(t, first, "OK")
		for round := 0; round < 3; round++ {
			reqs := []door{{s.kiosk, "checkIn", regs[0].Code, n}}
			for _, r := range regs[1:] {
				op := "checkIn"
				if round == 1 {
					op = "checkOut"
				}
				reqs = append(reqs, door{s.kiosk, op, r.Code, nonce()})
			}
			answers := s.doorStorm(t, reqs)
			if a := answers[0]; a.code != "" || mustJSON(a.answer) != mustJSON(first) {
				t.Fatalf("round %d: the retry answered %s %s, first %s", round, a.code, mustJSON(a.answer), mustJSON(first))
			}
			want := []string{"OK", "OK", "ALREADY_CHECKED_IN"}[round]
			for i, a := range answers[1:] {
				if a.code != "" || a.Status != want {
					t.Fatalf("round %d, scan %d: %s %s, want %s", round, i+1, a.code, mustJSON(a.answer), want)
				}
			}
		}
		s.wantScans(t, n, 1)
		s.wantSlotsAgree(t, s.seats.ID)
		s.wantCheckedIn(t, s.seats.ID, 9)
		t.Logf("fallbacks: %d", ledgerOf(e).Stats().Fallbacks)
	})
}
