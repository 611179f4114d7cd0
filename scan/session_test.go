package scan_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"linli/linlitest"
	"linli/scan"
	"linli/viewer"
)

type countsMsg struct {
	ActivityCounts struct {
		Version int
		Slots   []struct {
			SlotID    string
			CheckedIn int
		}
	}
}

type feedMsg struct {
	CheckIns struct {
		Kind, Status, Method string
		Registration         struct{ ID string }
	}
}

// checkedIn is a counts message's checked_in of slotID.
func checkedIn(t *testing.T, raw json.RawMessage, slotID int) int {
	var m countsMsg
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.ActivityCounts.Slots {
		if atoi(t, s.SlotID) == slotID {
			return s.CheckedIn
		}
	}
	return -1
}

// feedCount is how many feed messages are kind for registration regID.
func feedCount(t *testing.T, msgs []json.RawMessage, kind string, regID int) int {
	n := 0
	for _, raw := range msgs {
		var m feedMsg
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m.CheckIns.Kind == kind && m.CheckIns.Status == "OK" && atoi(t, m.CheckIns.Registration.ID) == regID {
			n++
		}
	}
	return n
}

// TestKioskSession is the scripted session of the acceptance list: online
// scans, a network drop, offline scans on two kiosks, upload. It ends with
// one check-in per person and correct counters, and the subscribers saw
// every change.
func TestKioskSession(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		begin := time.Now().UTC()
		s := newSite(t, e, "前进社区")
		_, kioskB := s.registerKiosk(t, s.venue.ID, "侧门平板")
		var people []reg
		for _, name := range []string{"甲", "乙", "丙", "丁", "戊", "己"} {
			people = append(people, s.signUp(t, s.member(t, name+"居民"), s.seats, 1))
		}
		doctor := s.signUp(t, s.member(t, "王医生", viewer.Volunteer), s.doctors, 1)
		act := map[string]any{"a": linlitest.ID(s.activity.ID), "since": begin}

		counts := s.subscribe(t, s.staff, `subscription($a: ID!) { activityCounts(activityID: $a) { version slots { slotID checkedIn } } }`, act)
		feed := s.subscribe(t, s.staff, `subscription($a: ID!, $since: Time) { checkIns(activityID: $a, since: $since) { kind status method registration { id } } }`, act)
		counts.waitFor("the first snapshot", func(m []json.RawMessage) bool { return len(m) > 0 })
		// Residents do not follow the check-ins.
		resident := s.member(t, "居民")
		if msg := s.subscribe(t, resident.token, `subscription($a: ID!) { checkIns(activityID: $a) { kind } }`, map[string]any{"a": linlitest.ID(s.activity.ID)}).waitErr(); msg == "" {
			t.Fatal("a resident follows check-ins")
		}

		// While online, kiosk A downloads its list for later.
		var list struct {
			CheckInList struct {
				Entries []struct{ CodeHash, Status string }
			}
		}
		e.Do(t, s.kiosk, `query($a: ID!) { checkInList(activityID: $a) { entries { codeHash status } } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).Decode(t, &list)
		known := map[string]bool{}
		for _, en := range list.CheckInList.Entries {
			known[en.CodeHash] = en.Status == "CONFIRMED"
		}

		// Online: each scan reaches both subscribers before the next.
		for i, p := range people[:2] {
			wantStatus(t, s.scan(t, s.kiosk, "checkIn", p.Code, nonce(), nil), "OK")
			counts.waitFor("checked in "+p.Code, func(m []json.RawMessage) bool { return checkedIn(t, m[len(m)-1], s.seats.ID) == i+1 })
			feed.waitFor("the feed entry", func(m []json.RawMessage) bool { return feedCount(t, m, "IN", p.ID) == 1 })
		}
		// (Timed 5 minutes ago by the tablet, so the check-out below
		// credits minutes: one that credits none is NO_TIME_SERVED.)
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", doctor.Code, nonce(), at(time.Now().Add(-5*time.Minute))), "OK")
		counts.waitFor("the doctor", func(m []json.RawMessage) bool { return checkedIn(t, m[len(m)-1], s.doctors.ID) == 1 })

		// The network drops: 丙's scan reaches linli, its answer does not.
		lost := nonce()
		lostAt := time.Now().UTC()
		s.scanRaw(t, s.kiosk, "checkIn", people[2].Code, lost, nil)

		// Offline: the kiosks validate against the list and queue scans.
		base := time.Now().UTC()
		d := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
		queueA := []syncItem{
			{"IN", people[2].Code, lost, lostAt}, // the unanswered scan, resent as it was
			{"IN", people[3].Code, nonce(), d(1)},
			{"IN", people[4].Code, nonce(), d(3)},
		}
		queueB := []syncItem{
			{"IN", people[4].Code, nonce(), d(2)}, // 戊 at both doors, B first
			{"IN", people[5].Code, nonce(), d(4)},
			{"IN", people[0].Code, nonce(), d(5)}, // checked in online already
		}
		for _, it := range append(slices.Clone(queueA), queueB...) {
			if !known[scan.CodeHash(linlitest.ID(s.activity.ID), it.Code)] {
				t.Fatalf("code %s not valid offline", it.Code)
			}
		}
		time.Sleep(20 * time.Millisecond) // the uploads come after the scans
		wantSync(t, s.sync(t, s.kiosk, queueA), "OK", "OK", "OK")
		wantSync(t, s.sync(t, kioskB, queueB), "ALREADY_CHECKED_IN", "OK", "ALREADY_CHECKED_IN")

		// Exactly one check-in per person, at their earliest scan.
		for _, p := range people {
			s.wantOneCheckIn(t, p.ID)
		}
		s.wantOneCheckIn(t, doctor.ID)
		if r := s.registration(t, people[4].ID); !r.CheckedInAt.Equal(d(2).Truncate(time.Microsecond)) {
			t.Fatalf("戊 checked in at %v, want B's earlier scan", r.CheckedInAt)
		}
		s.wantCheckedIn(t, s.seats.ID, 6)
		s.wantCheckedIn(t, s.doctors.ID, 1)

		// The subscribers saw it all: the counts reach 6, the feed has each
		// person's check-in once.
		counts.waitFor("all six", func(m []json.RawMessage) bool { return checkedIn(t, m[len(m)-1], s.seats.ID) == 6 })
		feed.waitFor("every check-in", func(m []json.RawMessage) bool {
			for _, p := range append(slices.Clone(people), doctor) {
				if feedCount(t, m, "IN", p.ID) != 1 {
					return false
				}
			}
			return true
		})

		// The doctor leaves: a check-out on the feed, the version moves on.
		var before countsMsg
		counts.mu.Lock()
		_ = json.Unmarshal(counts.msgs[len(counts.msgs)-1], &before)
		counts.mu.Unlock()
		wantStatus(t, s.scan(t, kioskB, "checkOut", doctor.Code, nonce(), nil), "OK")
		feed.waitFor("the check-out", func(m []json.RawMessage) bool { return feedCount(t, m, "OUT", doctor.ID) == 1 })
		counts.waitFor("a newer version", func(m []json.RawMessage) bool {
			var last countsMsg
			_ = json.Unmarshal(m[len(m)-1], &last)
			return last.ActivityCounts.Version > before.ActivityCounts.Version
		})
		feed.mu.Lock()
		n := len(feed.msgs)
		feed.mu.Unlock()
		if n != 8 {
			t.Fatalf("the feed delivered %d entries, want 7 check-ins and 1 check-out", n)
		}
	})
}

// TestFeedForStaffOnly: other communities' staff do not follow.
func TestFeedForStaffOnly(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		other := newSite(t, e, "红旗社区")
		q := `subscription($a: ID!) { checkIns(activityID: $a) { kind } }`
		if msg := s.subscribe(t, other.staff, q, map[string]any{"a": linlitest.ID(s.activity.ID)}).waitErr(); msg == "" {
			t.Fatal("another community's staff follow check-ins")
		}
	})
}
