package scan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"linli/cst"
	"linli/linlitest"
	"linli/mask"
)

type windowList struct {
	CheckInList struct {
		OpensAt, ClosesAt time.Time
		Entries           []struct{ Name string }
	}
}

func (s *site) checkInList(t *testing.T, activityID int) windowList {
	t.Helper()
	var l windowList
	s.e.Do(t, s.kiosk, `query($a: ID!) { checkInList(activityID: $a) { opensAt closesAt entries { name } } }`,
		map[string]any{"a": linlitest.ID(activityID)}).Decode(t, &l)
	return l
}

// TestOneWindow: the check-in list's opensAt and closesAt are exactly where
// online scans and offline uploads start and stop being taken (one window,
// scan.Window, for all three).
func TestOneWindow(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")

		// Offline: an activity that ran from 3 h to 1 h ago, scanned at the
		// list's boundaries and a second either side of them.
		a, seats, _ := s.newActivity(t, s.venue.ID, time.Now().Add(2*time.Hour))
		var regs []reg
		for _, name := range []string{"甲", "乙", "丙", "丁"} {
			regs = append(regs, s.signUp(t, s.member(t, name), seats, 1))
		}
		starts := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
		if err := a.Update().SetStartsAt(starts).SetEndsAt(starts.Add(2 * time.Hour)).SetCheckinOpensMinutes(20).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		l := s.checkInList(t, a.ID).CheckInList
		if !l.OpensAt.Equal(starts.Add(-20*time.Minute)) || !l.ClosesAt.Equal(starts.Add(2*time.Hour)) {
			t.Fatalf("list window %v – %v for an activity %v – %v opening 20 min before", l.OpensAt, l.ClosesAt, starts, starts.Add(2*time.Hour))
		}
		got := s.sync(t, s.kiosk, []syncItem{
			{Kind: "IN", Code: regs[0].Code, Nonce: nonce(), At: l.OpensAt.Add(-time.Second)},
			{Kind: "IN", Code: regs[1].Code, Nonce: nonce(), At: l.OpensAt},
			{Kind: "IN", Code: regs[2].Code, Nonce: nonce(), At: l.ClosesAt},
			{Kind: "IN", Code: regs[3].Code, Nonce: nonce(), At: l.ClosesAt.Add(time.Second)},
		})
		wantSync(t, got, "TOO_EARLY", "OK", "OK", "TOO_LATE")

		// Online: opening in 10 minutes is too early, and the tablet is told
		// the list's opening time; opened 10 minutes ago is on time.
		b, bSeats, _ := s.newActivity(t, s.venue.ID, time.Now().Add(40*time.Minute))
		if err := b.Update().SetCheckinOpensMinutes(30).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		r := s.signUp(t, s.member(t, "戊"), bSeats, 1)
		opens := s.checkInList(t, b.ID).CheckInList.OpensAt
		if !opens.After(time.Now()) {
			t.Fatalf("list opens at %v, before now", opens)
		}
		early := s.scan(t, s.kiosk, "checkIn", r.Code, nonce(), nil)
		wantStatus(t, early, "TOO_EARLY")
		if want := opens.In(cst.Zone).Format("15:04"); !strings.Contains(early.Message, want) {
			t.Fatalf("too early: %q does not name the list's opening %s", early.Message, want)
		}
		if err := b.Update().SetCheckinOpensMinutes(50).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		if opens := s.checkInList(t, b.ID).CheckInList.OpensAt; opens.After(time.Now()) {
			t.Fatalf("list opens at %v, after now", opens)
		}
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", r.Code, nonce(), nil), "OK")

		// Online after the list's close: too late.
		c, cSeats, _ := s.newActivity(t, s.venue.ID, time.Now().Add(time.Hour))
		late := s.signUp(t, s.member(t, "己"), cSeats, 1)
		cStarts := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
		if err := c.Update().SetStartsAt(cStarts).SetEndsAt(time.Now().Add(-time.Minute)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		if closes := s.checkInList(t, c.ID).CheckInList.ClosesAt; closes.After(time.Now()) {
			t.Fatalf("list closes at %v, after now", closes)
		}
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", late.Code, nonce(), nil), "TOO_LATE")
	})
}

// TestEmptyNameMasked: a display name stored empty (rows from before names
// were required) is masked by mask.Name like any other, in the tablet's
// message and in the check-in list, on both databases.
func TestEmptyNameMasked(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		m := s.member(t, "张三")
		r := s.signUp(t, m, s.seats, 1)
		// Ent refuses an empty name now; the old row is made by hand.
		if _, err := e.DB.SQL.ExecContext(context.Background(), e.DB.Rebind(`UPDATE persons SET display_name = '' WHERE id = ?`), m.person.ID); err != nil {
			t.Fatal(err)
		}
		if got := s.checkInList(t, s.activity.ID).CheckInList.Entries; len(got) != 1 || got[0].Name != mask.Name("") {
			t.Fatalf("list entries %+v, want one named %q", got, mask.Name(""))
		}
		a := s.scan(t, s.kiosk, "checkIn", r.Code, nonce(), nil)
		wantStatus(t, a, "OK")
		if want := "签到成功：" + mask.Name(""); a.Message != want {
			t.Fatalf("message %q, want %q", a.Message, want)
		}
	})
}
