package scan_test

import (
	"testing"

	"linli/ent/activity"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/linlitest"
	"linli/viewer"
)

func (s *site) manual(t *testing.T, token string, in map[string]any) *linlitest.Result {
	t.Helper()
	if _, ok := in["nonce"]; !ok {
		in["nonce"] = nonce()
	}
	return s.e.Do(t, token, `mutation($in: ManualCheckInInput!) { manualCheckIn(input: $in) { `+resultFields+` } }`, map[string]any{"in": in})
}

func (s *site) walkIn(t *testing.T, token string, in map[string]any) *linlitest.Result {
	t.Helper()
	if _, ok := in["nonce"]; !ok {
		in["nonce"] = nonce()
	}
	return s.e.Do(t, token, `mutation($in: WalkInInput!) { walkIn(input: $in) { `+resultFields+` } }`, map[string]any{"in": in})
}

func decodeAnswer(t *testing.T, res *linlitest.Result, op string) answer {
	t.Helper()
	var out map[string]answer
	res.Decode(t, &out)
	return out[op]
}

func tail(p string) string { return p[len(p)-4:] }

// TestManualCheckIn: someone without their phone is checked in by name and
// phone tail at the kiosk, or by registration by staff.
func TestManualCheckIn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		grandma := s.member(t, "陈奶奶", viewer.Volunteer)
		r := s.signUp(t, grandma, s.seats, 1)
		act := linlitest.ID(s.activity.ID)

		a := decodeAnswer(t, s.manual(t, s.kiosk, map[string]any{"activityID": act, "name": "陈奶奶", "phoneTail": "9999"}), "manualCheckIn")
		wantStatus(t, a, "UNKNOWN_CODE")
		if a.Message != "找不到报名记录" {
			t.Fatalf("message %q", a.Message)
		}
		a = decodeAnswer(t, s.manual(t, s.kiosk, map[string]any{"activityID": act, "name": "陈奶奶", "phoneTail": tail(grandma.person.Phone)}), "manualCheckIn")
		wantStatus(t, a, "OK")
		if a.Registration == nil || atoi(t, a.Registration.ID) != r.ID {
			t.Fatalf("checked in %+v, want registration %d", a.Registration, r.ID)
		}
		a = decodeAnswer(t, s.manual(t, s.kiosk, map[string]any{"activityID": act, "kind": "OUT", "name": "陈奶奶", "phoneTail": tail(grandma.person.Phone)}), "manualCheckIn")
		wantStatus(t, a, "OK")
		s.manual(t, s.kiosk, map[string]any{"activityID": act, "name": "陈奶奶", "phoneTail": "12"}).WantCode(t, "VALIDATION_FAILED")

		// Two registrations of one person in the activity: ambiguous by name.
		s.signUp(t, grandma, s.doctors, 1)
		s.manual(t, s.kiosk, map[string]any{"activityID": act, "name": "陈奶奶", "phoneTail": tail(grandma.person.Phone)}).WantCode(t, "CONFLICT")

		// Another community's activity has nobody, however many match there.
		other := newSite(t, e, "红旗社区")
		twin := other.member(t, "陈奶奶", viewer.Volunteer)
		other.signUp(t, twin, other.seats, 1)
		other.signUp(t, twin, other.doctors, 1)
		for _, tok := range []string{s.kiosk, s.staff} {
			a = decodeAnswer(t, s.manual(t, tok, map[string]any{"activityID": linlitest.ID(other.activity.ID), "name": "陈奶奶", "phoneTail": tail(twin.person.Phone)}), "manualCheckIn")
			wantStatus(t, a, "UNKNOWN_CODE")
		}

		// Staff by registration.
		liu := s.signUp(t, s.member(t, "刘爷爷"), s.seats, 1)
		a = decodeAnswer(t, s.manual(t, s.staff, map[string]any{"activityID": act, "registrationID": linlitest.ID(liu.ID)}), "manualCheckIn")
		wantStatus(t, a, "OK")
		if a.Registration.Person.DisplayName != "刘爷爷" {
			t.Fatalf("staff see %q", a.Registration.Person.DisplayName)
		}
		s.wantCheckedIn(t, s.seats.ID, 2)
	})
}

// TestWalkIn: people registered at the door while seats are free.
func TestWalkIn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		// Staff register a newcomer; the retry of the same walk-in changes nothing.
		n := nonce()
		in := map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13700001111", "displayName": "新居民", "seats": 2, "nonce": n}
		a := decodeAnswer(t, s.walkIn(t, s.staff, in), "walkIn")
		wantStatus(t, a, "OK")
		if again := decodeAnswer(t, s.walkIn(t, s.staff, in), "walkIn"); mustJSON(again) != mustJSON(a) {
			t.Fatalf("retry answered %s, first %s", mustJSON(again), mustJSON(a))
		}
		newcomer, err := e.Client.Person.Query().Where(person.Phone("13700001111")).Only(e.Sys())
		if err != nil || newcomer.CommunityID != s.community.ID {
			t.Fatalf("newcomer: %+v, %v", newcomer, err)
		}
		if n, _ := e.Client.Registration.Query().Where(registration.PersonID(newcomer.ID)).Count(e.Sys()); n != 1 {
			t.Fatalf("%d registrations for the newcomer", n)
		}
		if taken, checkedIn := s.counts(t, s.seats.ID); taken != 2 || checkedIn != 2 {
			t.Fatalf("taken %d, checked in %d after a walk-in of 2", taken, checkedIn)
		}

		// The kiosk walks in a resident who has an account.
		res := s.member(t, "老周")
		wantStatus(t, decodeAnswer(t, s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": res.person.Phone}), "walkIn"), "OK")
		// Again: they are registered now, so just already checked in.
		wantStatus(t, decodeAnswer(t, s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": res.person.Phone}), "walkIn"), "ALREADY_CHECKED_IN")
		// Unknown phone without a name; a volunteer position for a resident.
		s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13700002222"}).WantCode(t, "VALIDATION_FAILED")
		s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(s.doctors.ID), "phone": res.person.Phone}).WantCode(t, "NOT_ELIGIBLE")

		// Seats run out (10 seats: 3 taken, 7 more), then walk-ins stop.
		for i := 0; i < 7; i++ {
			m := s.member(t, "排队者")
			s.signUp(t, m, s.seats, 1)
		}
		s.walkIn(t, s.staff, map[string]any{"slotID": linlitest.ID(s.seats.ID), "phone": "13700003333", "displayName": "晚到者"}).WantCode(t, "CAPACITY_FULL")
		if taken, _ := s.counts(t, s.seats.ID); taken != 10 {
			t.Fatalf("taken %d of 10", taken)
		}

		// A kiosk walks in only at its venue; health activities need consent.
		square := s.newVenue(t, "文化广场")
		_, squareSeats, _ := s.newActivity(t, square.ID, s.activity.StartsAt)
		wantStatus(t, decodeAnswer(t, s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(squareSeats.ID), "phone": res.person.Phone}), "walkIn"), "WRONG_VENUE")
		clinic, clinicSeats, _ := s.newActivity(t, s.venue.ID, s.activity.StartsAt)
		if err := clinic.Update().SetServiceType(activity.ServiceTypeHEALTH).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(clinicSeats.ID), "phone": res.person.Phone}).WantCode(t, "CONSENT_REQUIRED")
		wantStatus(t, decodeAnswer(t, s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(clinicSeats.ID), "phone": res.person.Phone, "consentSensitive": true}), "walkIn"), "OK")
		// Another community's slot does not exist for this kiosk.
		other := newSite(t, e, "红旗社区")
		s.walkIn(t, s.kiosk, map[string]any{"slotID": linlitest.ID(other.seats.ID), "phone": res.person.Phone}).WantCode(t, "NOT_FOUND")
	})
}
