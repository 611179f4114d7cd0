package scan_test

import (
	"strings"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/checkinscan"
	"linli/linlitest"
	"linli/scan"
)

type syncItem struct {
	Kind, Code, Nonce string
	At                time.Time
}

type syncAnswer struct {
	Nonce, Status, Message string
	Registration           *struct{ ID string }
}

func (s *site) sync(t *testing.T, token string, items []syncItem) []syncAnswer {
	t.Helper()
	in := make([]map[string]any, len(items))
	for i, it := range items {
		in[i] = map[string]any{"kind": it.Kind, "code": it.Code, "nonce": it.Nonce, "at": it.At.Format(time.RFC3339Nano)}
	}
	var out struct{ SyncCheckIns []syncAnswer }
	s.e.Do(t, token, `mutation($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { nonce status message registration { id } } }`,
		map[string]any{"items": in}).Decode(t, &out)
	if len(out.SyncCheckIns) != len(items) {
		t.Fatalf("%d answers for %d items", len(out.SyncCheckIns), len(items))
	}
	for i, a := range out.SyncCheckIns {
		if a.Nonce != items[i].Nonce {
			t.Fatalf("answer %d is for nonce %s, want %s", i, a.Nonce, items[i].Nonce)
		}
	}
	return out.SyncCheckIns
}

func wantSync(t *testing.T, got []syncAnswer, want ...string) {
	t.Helper()
	for i, w := range want {
		if got[i].Status != w {
			t.Fatalf("item %d: %s (%s), want %s", i, got[i].Status, got[i].Message, w)
		}
	}
}

// registration reads a registration from the database.
func (s *site) registration(t *testing.T, id int) *ent.Registration {
	t.Helper()
	r, err := s.e.Client.Registration.Get(s.e.Sys(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantOneCheckIn checks that exactly one scan checked the registration in.
func (s *site) wantOneCheckIn(t *testing.T, regID int) {
	t.Helper()
	n, err := s.e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(regID),
		checkinscan.KindEQ(checkinscan.KindIN), checkinscan.StatusEQ(checkinscan.StatusOK)).Count(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("registration %d: %d check-ins, want 1", regID, n)
	}
}

// TestOfflineSync: two kiosks scan offline, some of the same codes; they
// upload in either order and each person is checked in once, at their
// earliest scan.
func TestOfflineSync(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		_, kioskB := s.registerKiosk(t, s.venue.ID, "侧门平板")
		var regs []reg
		for _, name := range []string{"甲", "乙", "丙", "丁"} {
			regs = append(regs, s.signUp(t, s.member(t, name+"居民"), s.seats, 1))
		}

		// The list a kiosk downloads before the network goes.
		var list struct {
			CheckInList struct {
				ActivityID string
				Version    int
				Entries    []struct {
					CodeHash, Name, Status string
					RegistrationID         string
				}
			}
		}
		e.Do(t, s.kiosk, `query($a: ID!) { checkInList(activityID: $a) { activityID version entries { codeHash name status registrationID } } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).Decode(t, &list)
		l := list.CheckInList
		if len(l.Entries) != 4 || l.Version == 0 {
			t.Fatalf("list: %+v", l)
		}
		for i, en := range l.Entries {
			if en.CodeHash != scan.CodeHash(linlitest.ID(s.activity.ID), regs[i].Code) || en.Name != []string{"甲**", "乙**", "丙**", "丁**"}[i] ||
				en.Status != "CONFIRMED" || atoi(t, en.RegistrationID) != regs[i].ID {
				t.Fatalf("entry %d: %+v", i, en)
			}
		}

		base := time.Now().Add(-20 * time.Minute).UTC().Truncate(time.Millisecond)
		m := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
		itemsA := []syncItem{
			{"IN", regs[0].Code, nonce(), m(5)},
			{"IN", regs[1].Code, nonce(), m(6)},
			{"IN", regs[2].Code, nonce(), m(7)},
			// Given out of order: the earlier scan of 丁 is its check-in.
			{"IN", regs[3].Code, nonce(), m(9)},
			{"IN", regs[3].Code, nonce(), m(8)},
		}
		itemsB := []syncItem{
			{"IN", regs[0].Code, nonce(), m(3)},
			{"IN", regs[2].Code, nonce(), m(4)},
			{"IN", regs[1].Code, nonce(), m(10)},
			{"IN", "NOSUCHCODE", nonce(), m(2)},
		}
		a := s.sync(t, s.kiosk, itemsA)
		wantSync(t, a, "OK", "OK", "OK", "ALREADY_CHECKED_IN", "OK")
		b := s.sync(t, kioskB, itemsB)
		wantSync(t, b, "ALREADY_CHECKED_IN", "ALREADY_CHECKED_IN", "ALREADY_CHECKED_IN", "UNKNOWN_CODE")
		if !strings.Contains(b[0].Message, "更早") {
			t.Fatalf("an earlier scan uploaded late says %q", b[0].Message)
		}

		// One check-in per person, at the earliest scan of either kiosk.
		s.wantCheckedIn(t, s.seats.ID, 4)
		for i, want := range []time.Time{m(3), m(6), m(4), m(8)} {
			r := s.registration(t, regs[i].ID)
			if r.Status != "CHECKED_IN" || r.CheckedInAt == nil || !r.CheckedInAt.Equal(want) {
				t.Fatalf("%d: %s at %v, want CHECKED_IN at %v", i, r.Status, r.CheckedInAt, want)
			}
			s.wantOneCheckIn(t, regs[i].ID)
		}

		// Uploading again (the answer got lost) changes nothing and answers the same.
		if again := s.sync(t, kioskB, itemsB); mustJSON(again) != mustJSON(b) {
			t.Fatalf("second upload answered %s, first %s", mustJSON(again), mustJSON(b))
		}
		s.wantCheckedIn(t, s.seats.ID, 4)

		// The other order: B's earlier scan first, then A's later one.
		r5 := s.signUp(t, s.member(t, "戊居民"), s.seats, 1)
		wantSync(t, s.sync(t, kioskB, []syncItem{{"IN", r5.Code, nonce(), m(1)}}), "OK")
		wantSync(t, s.sync(t, s.kiosk, []syncItem{{"IN", r5.Code, nonce(), m(2)}}), "ALREADY_CHECKED_IN")
		if r := s.registration(t, r5.ID); !r.CheckedInAt.Equal(m(1)) {
			t.Fatalf("checked in at %v, want %v", r.CheckedInAt, m(1))
		}
		s.wantCheckedIn(t, s.seats.ID, 5)

		// Bad input is refused as a whole, naming the item.
		res := e.Do(t, s.kiosk, `mutation($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { status } }`,
			map[string]any{"items": []map[string]any{
				{"kind": "IN", "code": regs[0].Code, "nonce": "ok", "at": m(1)},
				{"kind": "UNDO", "code": regs[0].Code, "nonce": "x", "at": m(1)},
			}})
		res.WantCode(t, "VALIDATION_FAILED")
		if res.Field() != "items[1].kind" {
			t.Fatalf("field %q", res.Field())
		}
	})
}

// TestRotateCode: a new code retires the old QR and dates the offline list.
func TestRotateCode(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		m := s.member(t, "张三")
		r := s.signUp(t, m, s.seats, 1)
		version := func() int {
			var l struct{ CheckInList struct{ Version int } }
			e.Do(t, s.kiosk, `query($a: ID!) { checkInList(activityID: $a) { version } }`, map[string]any{"a": linlitest.ID(s.activity.ID)}).Decode(t, &l)
			return l.CheckInList.Version
		}
		before := version()
		const rotate = `mutation($r: ID!) { rotateCheckInCode(registrationID: $r) { checkInCode } }`
		e.Do(t, s.member(t, "李四").token, rotate, map[string]any{"r": linlitest.ID(r.ID)}).WantCode(t, "NOT_FOUND")
		e.Do(t, s.kiosk, rotate, map[string]any{"r": linlitest.ID(r.ID)}).WantCode(t, "FORBIDDEN")
		var out struct{ RotateCheckInCode struct{ CheckInCode string } }
		e.Do(t, m.token, rotate, map[string]any{"r": linlitest.ID(r.ID)}).Decode(t, &out)
		code := out.RotateCheckInCode.CheckInCode
		if code == "" || code == r.Code {
			t.Fatalf("new code %q (old %q)", code, r.Code)
		}
		if version() <= before {
			t.Fatal("the offline list's version did not move")
		}
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", r.Code, nonce(), nil), "UNKNOWN_CODE")
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", code, nonce(), nil), "OK")
	})
}
