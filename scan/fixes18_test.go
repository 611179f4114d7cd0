package scan_test

import (
	"testing"
	"time"

	"linli/linlitest"
	"linli/viewer"
)

// Another community's activity does not exist for a staff member: its
// sign-in sheet is NOT_FOUND to them, never FORBIDDEN.
func TestBackEntryOtherCommunityNotFound(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 24*time.Hour)
		other := e.Community(t, "红旗社区")
		_, staffB := e.Person(t, other.ID, "社工乙", viewer.Coordinator)
		in := s.start.Add(5 * time.Minute)
		s.e.Do(t, staffB, recordAttendance, map[string]any{"a": linlitest.ID(s.activity.ID), "e": []any{byReg(s.regs[0], in, nil)}}).
			WantCode(t, "NOT_FOUND")
	})
}

// A sheet's phone in any spelling of the one number (+86, 86, spaces,
// dashes) finds the person, as register, login and walk-ins read it.
func TestBackEntryPhoneSpellings(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 24*time.Hour)
		if err := s.res.person.Update().SetPhone("13912345678").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		in := s.start.Add(5 * time.Minute)
		got := s.record(t, s.staff, map[string]any{"name": s.res.person.DisplayName, "phone": "86 139-1234-5678", "checkedInAt": ts(in)})
		wantLine(t, got[0], "OK")
	})
}
