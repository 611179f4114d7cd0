package scan_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"linli/linlitest"
	"linli/viewer"
)

// TestEveryStatus walks a kiosk through every answer a scan can get.
func TestEveryStatus(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		k := s.kiosk

		// OK, then ALREADY_CHECKED_IN for the same person with a new nonce.
		ann := s.member(t, "张三丰")
		r := s.signUp(t, ann, s.seats, 2)
		a := s.scan(t, k, "checkIn", r.Code, nonce(), nil)
		wantStatus(t, a, "OK")
		if a.Message != "签到成功：张**（2 人）" {
			t.Fatalf("message %q", a.Message)
		}
		if a.Registration == nil || a.Registration.Status != "CHECKED_IN" {
			t.Fatalf("registration after check-in: %+v", a.Registration)
		}
		// A kiosk sees masked names and no phone numbers.
		if got := a.Registration.Person.DisplayName; got != "张**" {
			t.Fatalf("kiosk sees name %q, want 张**", got)
		}
		if p := a.Registration.Person.Phone; !strings.Contains(p, "****") {
			t.Fatalf("kiosk sees phone %q", p)
		}
		s.wantCheckedIn(t, s.seats.ID, 2)
		wantStatus(t, s.scan(t, k, "checkIn", r.Code, nonce(), nil), "ALREADY_CHECKED_IN")
		s.wantCheckedIn(t, s.seats.ID, 2)

		// Check-out: OK, then ALREADY_CHECKED_OUT; NOT_CHECKED_IN for a
		// confirmed registration.
		wantStatus(t, s.scan(t, k, "checkOut", r.Code, nonce(), nil), "OK")
		wantStatus(t, s.scan(t, k, "checkOut", r.Code, nonce(), nil), "ALREADY_CHECKED_OUT")
		wantStatus(t, s.scan(t, k, "checkIn", r.Code, nonce(), nil), "ALREADY_CHECKED_IN")
		s.wantCheckedIn(t, s.seats.ID, 2)
		bob := s.signUp(t, s.member(t, "李四"), s.seats, 1)
		wantStatus(t, s.scan(t, k, "checkOut", bob.Code, nonce(), nil), "NOT_CHECKED_IN")

		// CANCELLED.
		cm := s.member(t, "王五")
		cr := s.signUp(t, cm, s.seats, 1)
		e.Do(t, cm.token, `mutation($id: ID!) { cancelRegistration(input: {registrationID: $id}) { status } }`,
			map[string]any{"id": linlitest.ID(cr.ID)}).Decode(t, &struct{}{})
		wantStatus(t, s.scan(t, k, "checkIn", cr.Code, nonce(), nil), "CANCELLED")

		// NOT_CONFIRMED: waitlisted (the seats are full now).
		for i := 0; i < 2; i++ {
			s.signUp(t, s.member(t, "赵六"), s.seats, 3)
		}
		w := s.signUp(t, s.member(t, "孙七"), s.seats, 3)
		if w.Status != "WAITLISTED" {
			t.Fatalf("want a waitlisted registration, got %s", w.Status)
		}
		wantStatus(t, s.scan(t, k, "checkIn", w.Code, nonce(), nil), "NOT_CONFIRMED")

		// UNKNOWN_CODE: made up, or another community's.
		wantStatus(t, s.scan(t, k, "checkIn", "AAAAAAAAAAAAAAAAAAAAAAAAAA", nonce(), nil), "UNKNOWN_CODE")
		other := newSite(t, e, "红旗社区")
		or := other.signUp(t, other.member(t, "周八"), other.seats, 1)
		wantStatus(t, s.scan(t, k, "checkIn", or.Code, nonce(), nil), "UNKNOWN_CODE")
		other.wantCheckedIn(t, other.seats.ID, 0)

		// WRONG_ACTIVITY: the tablet checks in for another activity at the venue.
		later, laterSeats, _ := s.newActivity(t, s.venue.ID, time.Now().Add(40*time.Minute))
		wantStatus(t, s.scan(t, k, "checkIn", bob.Code, nonce(), map[string]any{"activityID": linlitest.ID(later.ID)}), "WRONG_ACTIVITY")
		s.wantCheckedIn(t, s.seats.ID, 2)

		// WRONG_VENUE: an activity at another venue, or at none.
		square := s.newVenue(t, "文化广场")
		elsewhere, elsewhereSeats, _ := s.newActivity(t, square.ID, time.Now().Add(20*time.Minute))
		ew := s.signUp(t, s.member(t, "吴九"), elsewhereSeats, 1)
		wantStatus(t, s.scan(t, k, "checkIn", ew.Code, nonce(), nil), "WRONG_VENUE")
		_ = elsewhere
		online, onlineSeats, _ := s.newActivity(t, 0, time.Now().Add(20*time.Minute))
		on := s.signUp(t, s.member(t, "郑十"), onlineSeats, 1)
		wantStatus(t, s.scan(t, k, "checkIn", on.Code, nonce(), nil), "WRONG_VENUE")
		_ = online
		// Staff are not bound to a venue.
		wantStatus(t, s.scan(t, s.staff, "checkIn", ew.Code, nonce(), nil), "OK")

		// TOO_EARLY: check-in opens 60 minutes before the start.
		early, earlySeats, _ := s.newActivity(t, s.venue.ID, time.Now().Add(3*time.Hour))
		er := s.signUp(t, s.member(t, "钱十一"), earlySeats, 1)
		a = s.scan(t, k, "checkIn", er.Code, nonce(), nil)
		wantStatus(t, a, "TOO_EARLY")
		if !strings.Contains(a.Message, "起可签到") {
			t.Fatalf("TOO_EARLY message %q does not say when", a.Message)
		}
		// The window is per activity: opening 4 hours before lets it in.
		if err := early.Update().SetCheckinOpensMinutes(240).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, s.scan(t, k, "checkIn", er.Code, nonce(), nil), "OK")

		// A slot's own times make its window: doctors come three hours in.
		doc := s.signUp(t, s.member(t, "医生甲", viewer.Volunteer), s.doctors, 1)
		if err := s.doctors.Update().SetStartsAt(time.Now().Add(3 * time.Hour)).SetEndsAt(time.Now().Add(5 * time.Hour)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, s.scan(t, k, "checkIn", doc.Code, nonce(), nil), "TOO_EARLY")

		// TOO_LATE: the activity ended.
		lr := s.signUp(t, s.member(t, "冯十二"), laterSeats, 1)
		past := time.Now().Add(-5 * time.Hour)
		if err := later.Update().SetStartsAt(past).SetEndsAt(past.Add(2 * time.Hour)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, s.scan(t, k, "checkIn", lr.Code, nonce(), nil), "TOO_LATE")
		s.wantCheckedIn(t, laterSeats.ID, 0)
	})
}

// TestKioskAccess: who may scan, and what a kiosk may reach.
func TestKioskAccess(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		m := s.member(t, "张三")
		r := s.signUp(t, m, s.seats, 1)

		// Residents and volunteers do not scan.
		s.scanRaw(t, m.token, "checkIn", r.Code, nonce(), nil).WantCode(t, "FORBIDDEN")
		s.scanRaw(t, "", "checkIn", r.Code, nonce(), nil).WantCode(t, "UNAUTHENTICATED")

		// A kiosk is not staff: no kiosk management, undo or corrections.
		e.Do(t, s.kiosk, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "x") { token } }`,
			map[string]any{"v": linlitest.ID(s.venue.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, s.kiosk, `{ kiosks { id } }`, nil).WantCode(t, "FORBIDDEN")
		e.Do(t, s.kiosk, `mutation($r: ID!) { undoCheckIn(registrationID: $r, reason: "x") { id } }`,
			map[string]any{"r": linlitest.ID(r.ID)}).WantCode(t, "FORBIDDEN")
		// … nor a person: no sign-ups, no check-in codes.
		e.Do(t, s.kiosk, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`,
			map[string]any{"s": linlitest.ID(s.seats.ID)}).WantCode(t, "FORBIDDEN")
		var node struct {
			Node struct {
				CheckInCode *string
				Person      struct{ DisplayName, Phone string }
			}
		}
		e.Do(t, s.kiosk, `query($id: ID!) { node(id: $id) { ... on Registration { checkInCode person { displayName phone } } } }`,
			map[string]any{"id": linlitest.ID(r.ID)}).Decode(t, &node)
		if node.Node.CheckInCode != nil || node.Node.Person.DisplayName != "张*" || !strings.Contains(node.Node.Person.Phone, "****") {
			t.Fatalf("kiosk reads a registration as %+v", node.Node)
		}

		// Another community's kiosk cannot reach this community at all.
		other := newSite(t, e, "红旗社区")
		wantStatus(t, s.scan(t, other.kiosk, "checkIn", r.Code, nonce(), nil), "UNKNOWN_CODE")
		e.Do(t, other.kiosk, `query($a: ID!) { checkInList(activityID: $a) { version } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).WantCode(t, "NOT_FOUND")
		e.Do(t, other.kiosk, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": linlitest.ID(r.ID)}).WantCode(t, "NOT_FOUND")
		// A kiosk of another venue gets WRONG_VENUE, and no list.
		square := s.newVenue(t, "文化广场")
		_, squareKiosk := s.registerKiosk(t, square.ID, "广场平板")
		wantStatus(t, s.scan(t, squareKiosk, "checkIn", r.Code, nonce(), nil), "WRONG_VENUE")
		e.Do(t, squareKiosk, `query($a: ID!) { checkInList(activityID: $a) { version } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID)}).WantCode(t, "FORBIDDEN")
		// … and cannot read the registrations of activities elsewhere.
		e.Do(t, squareKiosk, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": linlitest.ID(r.ID)}).WantCode(t, "NOT_FOUND")
		var manual struct{ ManualCheckIn answer }
		e.Do(t, squareKiosk, `mutation($a: ID!, $tail: String) { manualCheckIn(input: {activityID: $a, nonce: "m1", name: "张三", phoneTail: $tail}) { `+resultFields+` } }`,
			map[string]any{"a": linlitest.ID(s.activity.ID), "tail": m.person.Phone[len(m.person.Phone)-4:]}).Decode(t, &manual)
		wantStatus(t, manual.ManualCheckIn, "WRONG_VENUE")
		s.wantCheckedIn(t, s.seats.ID, 0)

		// A platform admin may check in anywhere (the long way on PostgreSQL).
		_, admin := e.Person(t, other.community.ID, "平台管理员", viewer.Admin)
		ar := s.signUp(t, s.member(t, "韩梅梅"), s.seats, 1)
		wantStatus(t, s.scan(t, admin, "checkIn", ar.Code, nonce(), nil), "OK")
		wantStatus(t, s.scan(t, admin, "checkIn", ar.Code, nonce(), nil), "ALREADY_CHECKED_IN")
		s.wantCheckedIn(t, s.seats.ID, 1)

		// Staff of another community see nothing of this one.
		_, otherStaff := e.Person(t, other.community.ID, "外社工", viewer.Coordinator)
		wantStatus(t, s.scan(t, otherStaff, "checkIn", r.Code, nonce(), nil), "UNKNOWN_CODE")
		var ks struct{ Kiosks []struct{ ID string } }
		e.Do(t, otherStaff, `{ kiosks { id } }`, nil).Decode(t, &ks)
		if len(ks.Kiosks) != 1 {
			t.Fatalf("staff of another community list %d kiosks, want their own 1", len(ks.Kiosks))
		}

		// Revoked: the token stops working at once.
		var list struct {
			Kiosks []struct {
				ID, Name  string
				RevokedAt *time.Time
				Venue     struct{ Name string }
			}
		}
		e.Do(t, s.staff, `{ kiosks { id name revokedAt venue { name } } }`, nil).Decode(t, &list)
		if len(list.Kiosks) != 2 || list.Kiosks[0].Venue.Name != "道德讲堂" {
			t.Fatalf("kiosks: %+v", list.Kiosks)
		}
		e.Do(t, s.staff, `mutation($id: ID!) { revokeKiosk(id: $id) { revokedAt } }`, map[string]any{"id": linlitest.ID(s.kioskID)}).Decode(t, &struct{}{})
		res := s.scanRaw(t, s.kiosk, "checkIn", r.Code, nonce(), nil)
		res.WantCode(t, "UNAUTHENTICATED")
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("revoked kiosk: HTTP %d", res.Status)
		}
		s.wantCheckedIn(t, s.seats.ID, 1)
	})
}
