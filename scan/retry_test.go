package scan_test

import (
	"sync"
	"testing"
	"time"

	"linli/ent/checkinscan"
	"linli/linlitest"
)

// TestNonceRetries: the same nonce, sent again and again or all at once,
// checks in once and gets the first answer every time.
func TestNonceRetries(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")

		t.Run("sequential", func(t *testing.T) {
			r := s.signUp(t, s.member(t, "张三"), s.seats, 1)
			n := nonce()
			first := s.scan(t, s.kiosk, "checkIn", r.Code, n, nil)
			wantStatus(t, first, "OK")
			for i := 0; i < 9; i++ {
				again := s.scan(t, s.kiosk, "checkIn", r.Code, n, nil)
				if mustJSON(again) != mustJSON(first) {
					t.Fatalf("retry %d answered %s, first answer was %s", i+1, mustJSON(again), mustJSON(first))
				}
			}
			s.wantCheckedIn(t, s.seats.ID, 1)
			s.wantScans(t, n, 1)

			// The answer stays the first one even after the state moved on.
			e.Do(t, s.staff, `mutation($r: ID!) { undoCheckIn(registrationID: $r, reason: "扫错了") { status } }`,
				map[string]any{"r": linlitest.ID(r.ID)}).Decode(t, &struct{}{})
			s.wantCheckedIn(t, s.seats.ID, 0)
			if again := s.scan(t, s.kiosk, "checkIn", r.Code, n, nil); again.Status != "OK" {
				t.Fatalf("retry after undo: %s", again.Status)
			}
			s.wantCheckedIn(t, s.seats.ID, 0)

			// A nonce belongs to one scan: reusing it for a check-out is a client bug.
			s.scanRaw(t, s.kiosk, "checkOut", r.Code, n, nil).WantCode(t, "CONFLICT")
		})

		t.Run("concurrent", func(t *testing.T) {
			r := s.signUp(t, s.member(t, "李四"), s.seats, 2)
			_, before := s.counts(t, s.seats.ID)
			n := nonce()
			answers := s.storm(t, 10, func(int) (string, string) { return r.Code, n })
			for _, a := range answers {
				if a.Status != "OK" || mustJSON(a) != mustJSON(answers[0]) {
					t.Fatalf("concurrent retries answered differently: %s vs %s", mustJSON(a), mustJSON(answers[0]))
				}
			}
			s.wantCheckedIn(t, s.seats.ID, before+2)
			s.wantScans(t, n, 1)
		})

		t.Run("concurrent different nonces", func(t *testing.T) {
			// Ten tablets scan the same code at once: one checks in.
			r := s.signUp(t, s.member(t, "王五"), s.seats, 1)
			_, before := s.counts(t, s.seats.ID)
			answers := s.storm(t, 10, func(int) (string, string) { return r.Code, nonce() })
			ok := 0
			for _, a := range answers {
				switch a.Status {
				case "OK":
					ok++
				case "ALREADY_CHECKED_IN":
				default:
					t.Fatalf("unexpected answer %s", mustJSON(a))
				}
			}
			if ok != 1 {
				t.Fatalf("%d scans checked in, want 1", ok)
			}
			s.wantCheckedIn(t, s.seats.ID, before+1)
		})
	})
}

// storm sends n check-ins at once through the kiosk; scan(i) gives the code
// and nonce of the i-th.
func (s *site) storm(t *testing.T, n int, scan func(i int) (code, nonce string)) []answer {
	t.Helper()
	client := linlitest.ConcurrentClient(n)
	answers := make([]answer, n)
	errs := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, nc := scan(i)
			<-start
			res := linlitest.Post(t, client, s.e.Server.URL+"/graphql", s.kiosk,
				`mutation($in: CheckInInput!) { checkIn(input: $in) { `+resultFields+` } }`,
				map[string]any{"in": map[string]any{"code": code, "nonce": nc}})
			if len(res.Errors) > 0 {
				errs[i] = mustJSON(res.Errors)
				return
			}
			var out struct{ CheckIn answer }
			if err := jsonUnmarshal(res.Data, &out); err != nil {
				errs[i] = err.Error()
				return
			}
			answers[i] = out.CheckIn
		}()
	}
	close(start)
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("scan %d: %s", i, e)
		}
	}
	return answers
}

// wantScans checks how many scans the database recorded under nonce.
func (s *site) wantScans(t *testing.T, nonce string, want int) {
	t.Helper()
	n, err := s.e.Client.CheckInScan.Query().Where(checkinscan.Nonce(nonce)).Count(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("%d scans recorded for nonce %s, want %d", n, nonce, want)
	}
}

// TestNonceReusedForAnotherScan: a nonce stands for one scan. The same
// nonce with the same code gets the first answer again; with another code
// (or another kind, or by hand, or a walk-in) it is CONFLICT and changes
// nothing, so the tablet never shows someone else as checked in. The same
// holds for items of offline uploads, across uploads and inside one.
func TestNonceReusedForAnotherScan(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		zhang := s.signUp(t, s.member(t, "张三"), s.seats, 1)
		li := s.signUp(t, s.member(t, "李四"), s.seats, 1)
		n := nonce()
		first := s.scan(t, s.kiosk, "checkIn", zhang.Code, n, nil)
		wantStatus(t, first, "OK")
		if again := s.scan(t, s.kiosk, "checkIn", zhang.Code, n, nil); mustJSON(again) != mustJSON(first) {
			t.Fatalf("retry answered %s, first %s", mustJSON(again), mustJSON(first))
		}
		res := s.scanRaw(t, s.kiosk, "checkIn", li.Code, n, nil)
		res.WantCode(t, "CONFLICT")
		if res.Field() != "nonce" {
			t.Fatalf("field %q", res.Field())
		}
		s.scanRaw(t, s.kiosk, "checkIn", "NOSUCHCODE", n, nil).WantCode(t, "CONFLICT")
		s.scanRaw(t, s.kiosk, "checkOut", zhang.Code, n, nil).WantCode(t, "CONFLICT")
		s.manual(t, s.kiosk, map[string]any{"activityID": linlitest.ID(s.activity.ID), "registrationID": linlitest.ID(li.ID), "nonce": n}).WantCode(t, "CONFLICT")
		s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13700009999", "displayName": "王五", "nonce": n}).WantCode(t, "CONFLICT")
		if r := s.registration(t, li.ID); r.Status != "CONFIRMED" {
			t.Fatalf("李四 is %s after a reused nonce", r.Status)
		}
		s.wantCheckedIn(t, s.seats.ID, 1)
		s.wantScans(t, n, 1)

		// An unknown code's answer is not another code's either.
		u := nonce()
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", "NOSUCHCODE", u, nil), "UNKNOWN_CODE")
		s.scanRaw(t, s.kiosk, "checkIn", li.Code, u, nil).WantCode(t, "CONFLICT")

		// Offline uploads: the same item again is a retry; a scan that
		// failed online may be retried offline with its nonce.
		at := time.Now().Add(-5 * time.Minute).UTC().Truncate(time.Millisecond)
		wantSync(t, s.sync(t, s.kiosk, []syncItem{{"IN", zhang.Code, n, at}}), "OK")
		const syncQ = `mutation($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { status } }`
		item := func(code, nc string) map[string]any {
			return map[string]any{"kind": "IN", "code": code, "nonce": nc, "at": at.Format(time.RFC3339Nano)}
		}
		res = e.Do(t, s.kiosk, syncQ, map[string]any{"items": []map[string]any{item(li.Code, n)}})
		res.WantCode(t, "CONFLICT")
		if res.Field() != "items[0].nonce" {
			t.Fatalf("field %q", res.Field())
		}
		// Inside one upload: refused before anything is written.
		m := nonce()
		res = e.Do(t, s.kiosk, syncQ, map[string]any{"items": []map[string]any{item(li.Code, m), item(zhang.Code, m)}})
		res.WantCode(t, "CONFLICT")
		if res.Field() != "items[1].nonce" {
			t.Fatalf("field %q", res.Field())
		}
		s.wantScans(t, m, 0)
		if r := s.registration(t, li.ID); r.Status != "CONFIRMED" {
			t.Fatalf("李四 is %s after a reused nonce", r.Status)
		}
	})
}
