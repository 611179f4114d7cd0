package scan_test

import (
	"testing"
	"time"

	"linli/ent/registration"
	"linli/ent/servicerecord"
	"linli/linlitest"
	"linli/viewer"
)

// TestEarlyVolunteerCredit: hours credit what the door accepted. A doctor
// who checks in 40 minutes before the start to set up and leaves 15 minutes
// before it starts is credited those 25 minutes (not 0, from the slot's
// start to the slot's start); a check-out that would credit nothing is
// refused NO_TIME_SERVED, the volunteer stays checked in and no record of
// 0 minutes is stored.
func TestEarlyVolunteerCredit(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		c := newClinic(t, s, 3, 2*time.Hour)

		// Offline (kiosk-timed) scans: 40 minutes early in, 15 minutes
		// before the start out.
		first := c.regs[0]
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", first.Code, nonce(), at(c.starts.Add(-40*time.Minute))), "OK")
		wantStatus(t, s.scan(t, s.kiosk, "checkOut", first.Code, nonce(), at(c.starts.Add(-15*time.Minute))), "OK")
		rec, err := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(first.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Minutes != 25 || !rec.StartedAt.Equal(c.starts.Add(-40*time.Minute)) || !rec.EndedAt.Equal(c.starts.Add(-15*time.Minute)) || rec.FlaggedForReview {
			t.Fatalf("record of an early volunteer: %d minutes %v–%v flagged %v, want 25 from the check-in", rec.Minutes, rec.StartedAt, rec.EndedAt, rec.FlaggedForReview)
		}

		// A check-out 30 seconds after the check-in credits nothing: refused.
		second := c.regs[1]
		in := c.starts.Add(-30 * time.Minute)
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", second.Code, nonce(), at(in)), "OK")
		wantStatus(t, s.scan(t, s.kiosk, "checkOut", second.Code, nonce(), at(in.Add(30*time.Second))), "NO_TIME_SERVED")
		if n := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(second.ID)).CountX(e.Sys()); n != 0 {
			t.Fatalf("%d service records after a refused check-out", n)
		}
		if r := e.Client.Registration.GetX(e.Sys(), second.ID); r.Status != registration.StatusCHECKED_IN || r.CheckedOutAt != nil {
			t.Fatalf("after a refused check-out: %s out %v, want still CHECKED_IN", r.Status, r.CheckedOutAt)
		}
		// Checking out properly later still works.
		wantStatus(t, s.scan(t, s.kiosk, "checkOut", second.Code, nonce(), at(in.Add(90*time.Minute))), "OK")
		if m := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(second.ID)).OnlyX(e.Sys()).Minutes; m != 90 {
			t.Fatalf("%d minutes, want 90", m)
		}

		// Online: an activity starting in 40 minutes; check in now, check out
		// at once: NO_TIME_SERVED, never a zero record.
		_, _, docs := s.newActivity(t, s.venue.ID, time.Now().Add(40*time.Minute))
		m := s.member(t, "赵医生", viewer.Volunteer)
		r := s.signUp(t, m, docs, 1)
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", r.Code, nonce(), nil), "OK")
		wantStatus(t, s.scan(t, s.kiosk, "checkOut", r.Code, nonce(), nil), "NO_TIME_SERVED")
		if n := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(r.ID)).CountX(e.Sys()); n != 0 {
			t.Fatalf("%d service records of an online zero check-out", n)
		}
		var got struct {
			Node struct{ Status string } `json:"node"`
		}
		e.Do(t, m.token, `query($id: ID!) { node(id: $id) { ... on Registration { status } } }`,
			map[string]any{"id": linlitest.ID(r.ID)}).Decode(t, &got)
		if got.Node.Status != "CHECKED_IN" {
			t.Fatalf("registration %s after a refused check-out, want CHECKED_IN", got.Node.Status)
		}
	})
}
