package scan_test

import (
	"strings"
	"testing"
	"time"

	"linli/ent/servicerecord"
	"linli/linlitest"
	"linli/viewer"
)

// TestForgedOfflineTimes: times a kiosk claims for offline scans stay
// inside the registration's window and within reach of now, and service
// records credit no more than check-in to check-out.
func TestForgedOfflineTimes(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区") // starts in 30 min, check-in open since 30 min ago
		now := time.Now().UTC().Truncate(time.Millisecond)
		doctor := func(name string) reg { return s.signUp(t, s.member(t, name, viewer.Volunteer), s.doctors, 1) }
		record := func(regID int) (minutes int, flagged bool, reason string) {
			t.Helper()
			r, err := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(regID)).Only(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			return r.Minutes, r.FlaggedForReview, r.FlagReason
		}

		// The 23-hour forgery: checked in online, then an upload claims a
		// scan 23 h earlier (before the activity began), then out now.
		t.Run("23 hours", func(t *testing.T) {
			r1 := doctor("王医生")
			wantStatus(t, s.scan(t, s.kiosk, "checkIn", r1.Code, nonce(), at(now.Add(-10*time.Minute))), "OK")
			checkedIn := s.registration(t, r1.ID).CheckedInAt
			wantSync(t, s.sync(t, s.kiosk, []syncItem{{"IN", r1.Code, nonce(), now.Add(-23 * time.Hour)}}), "TOO_EARLY")
			if got := s.registration(t, r1.ID).CheckedInAt; !got.Equal(*checkedIn) {
				t.Fatalf("check-in moved from %v to %v", checkedIn, got)
			}
			wantStatus(t, s.scan(t, s.kiosk, "checkOut", r1.Code, nonce(), nil), "OK")
			if m, _, _ := record(r1.ID); m < 10 || m > 11 {
				t.Fatalf("%d minutes for 10 minutes at the door", m)
			}
		})

		// A check-out before the window opens is refused, even after a
		// forged check-in in the same upload.
		r2 := doctor("李医生")
		t.Run("check-out before the window", func(t *testing.T) {
			wantStatus(t, s.scan(t, s.kiosk, "checkIn", r2.Code, nonce(), nil), "OK")
			wantSync(t, s.sync(t, s.kiosk, []syncItem{
				{"IN", r2.Code, nonce(), now.Add(-23 * time.Hour)},
				{"OUT", r2.Code, nonce(), now.Add(-22 * time.Hour)},
			}), "TOO_EARLY", "TOO_EARLY")
			if r := s.registration(t, r2.ID); r.Status != "CHECKED_IN" {
				t.Fatalf("checked out before the window opened: %s", r.Status)
			}
		})

		// Times in the future are a wrong clock: refused, naming the item.
		t.Run("future", func(t *testing.T) {
			res := e.Do(t, s.kiosk, `mutation($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { status } }`,
				map[string]any{"items": []map[string]any{{"kind": "OUT", "code": r2.Code, "nonce": nonce(), "at": now.Add(time.Hour)}}})
			res.WantCode(t, "VALIDATION_FAILED")
			if res.Field() != "items[0].at" {
				t.Fatalf("field %q", res.Field())
			}
			s.scanRaw(t, s.kiosk, "checkOut", r2.Code, nonce(), at(now.Add(time.Hour))).WantCode(t, "VALIDATION_FAILED")
		})

		// Scans older than 72 h are not taken, even inside their window.
		t.Run("too old", func(t *testing.T) {
			old, oldSeats, _ := s.newActivity(t, s.venue.ID, now.Add(time.Hour))
			r3 := s.signUp(t, s.member(t, "赵居民"), oldSeats, 1)
			old, err := old.Update().SetStartsAt(now.Add(-4 * 24 * time.Hour)).SetEndsAt(now.Add(-4*24*time.Hour + 3*time.Hour)).Save(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			a := s.sync(t, s.kiosk, []syncItem{{"IN", r3.Code, nonce(), old.StartsAt.Add(10 * time.Minute)}})
			wantSync(t, a, "TOO_LATE")
			if !strings.Contains(a[0].Message, "72 小时") {
				t.Fatalf("the tablet is told %q", a[0].Message)
			}
		})
	})
}

// TestServiceRecordsCreditTheDoor: a record counts check-in to check-out
// (both inside the door's window), and an upload arriving after the record was
// made flags it for staff review instead of moving it.
func TestServiceRecordsCreditTheDoor(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		c := newClinic(t, s, 3, 4*time.Hour) // 3 hours, ended an hour ago
		now := time.Now().UTC().Truncate(time.Millisecond)

		// In 50 minutes early (inside the window), out now (inside the
		// grace): 290 minutes, what the door accepted, not the slot's 180.
		t.Run("check-in to check-out", func(t *testing.T) {
			wantSync(t, s.sync(t, s.kiosk, []syncItem{
				{"IN", c.regs[0].Code, nonce(), c.starts.Add(-50 * time.Minute)},
				{"OUT", c.regs[0].Code, nonce(), now},
			}), "OK", "OK")
			rec := s.serviceRecord(t, c.regs[0].ID)
			if rec.Minutes != 290 || !near(rec.Hours, 290.0/60) {
				t.Fatalf("record: %+v", rec)
			}
		})

		// 9:10 to 10:40 is recorded; an upload of a 9:05 check-in comes
		// later. The record stays, flagged, visible to staff.
		t.Run("flagged, not moved", func(t *testing.T) {
			wantSync(t, s.sync(t, s.kiosk, []syncItem{
				{"IN", c.regs[1].Code, nonce(), c.starts.Add(10 * time.Minute)},
				{"OUT", c.regs[1].Code, nonce(), c.starts.Add(100 * time.Minute)},
			}), "OK", "OK")
			_, kioskB := s.registerKiosk(t, s.venue.ID, "侧门平板")
			late := s.sync(t, kioskB, []syncItem{{"IN", c.regs[1].Code, nonce(), c.starts.Add(5 * time.Minute)}})
			wantSync(t, late, "ALREADY_CHECKED_IN")
			if !strings.Contains(late[0].Message, "核实") {
				t.Fatalf("the tablet is told %q", late[0].Message)
			}
			rec := s.serviceRecord(t, c.regs[1].ID)
			if rec.Minutes != 90 || !rec.FlaggedForReview || !strings.Contains(rec.FlagReason, "离线补传") {
				t.Fatalf("record after a moving upload: %+v", rec)
			}
			if r := s.registration(t, c.regs[1].ID); !r.CheckedInAt.Equal(c.starts.Add(10 * time.Minute)) {
				t.Fatalf("check-in moved to %v", r.CheckedInAt)
			}
			// A moving check-out too; the record still says 90.
			wantSync(t, s.sync(t, kioskB, []syncItem{{"OUT", c.regs[1].Code, nonce(), c.starts.Add(80 * time.Minute)}}), "ALREADY_CHECKED_OUT")
			if rec := s.serviceRecord(t, c.regs[1].ID); rec.Minutes != 90 || !rec.FlaggedForReview {
				t.Fatalf("record after a moving check-out: %+v", rec)
			}
		})

		// An earlier scan that would not change the whole minutes (10 s
		// earlier) flags nothing.
		t.Run("same hours, no flag", func(t *testing.T) {
			_, kioskB := s.registerKiosk(t, s.venue.ID, "后门平板")
			wantSync(t, s.sync(t, s.kiosk, []syncItem{
				{"IN", c.regs[2].Code, nonce(), c.starts},
				{"OUT", c.regs[2].Code, nonce(), c.starts.Add(time.Hour)},
			}), "OK", "OK")
			wantSync(t, s.sync(t, kioskB, []syncItem{{"IN", c.regs[2].Code, nonce(), c.starts.Add(-10 * time.Second)}}), "ALREADY_CHECKED_IN")
			if rec := s.serviceRecord(t, c.regs[2].ID); rec.Minutes != 60 || rec.FlaggedForReview {
				t.Fatalf("record after an earlier scan before the start: %+v", rec)
			}
		})
	})
}

type recordView struct {
	ID               string
	Minutes          int
	Hours            float64
	FlaggedForReview bool
	FlagReason       string
}

// serviceRecord reads a registration's service record as staff see it.
func (s *site) serviceRecord(t *testing.T, regID int) recordView {
	t.Helper()
	var out struct {
		ServiceRecords struct {
			Edges []struct {
				Node struct {
					recordView
					RegistrationID string
				}
			}
		}
	}
	s.e.Do(t, s.staff, `{ serviceRecords(first: 100) { edges { node { id registrationID minutes hours flaggedForReview flagReason } } } }`, nil).
		Decode(t, &out)
	for _, ed := range out.ServiceRecords.Edges {
		if ed.Node.RegistrationID == linlitest.ID(regID) {
			return ed.Node.recordView
		}
	}
	t.Fatalf("no service record for registration %d", regID)
	return recordView{}
}
