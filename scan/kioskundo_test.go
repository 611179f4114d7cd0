package scan_test

import (
	"strings"
	"testing"

	"linli/linlitest"
)

// A code typed in lower case (or with spaces around it) is the same code;
// a kiosk undoes its own mistaken scan, but not another kiosk's and not
// twice.
func TestLowerCaseCodeAndKioskUndo(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		m := s.member(t, "张三")
		r := s.signUp(t, m, s.seats, 1)
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", "  "+strings.ToLower(r.Code)+" ", nonce(), nil), "OK")
		s.wantCheckedIn(t, s.seats.ID, 1)

		_, other := s.registerKiosk(t, s.venue.ID, "侧门平板")
		undo := `mutation($r: ID!) { undoCheckIn(registrationID: $r, reason: "扫错了") { status } }`
		e.Do(t, other, undo, map[string]any{"r": linlitest.ID(r.ID)}).WantCode(t, "FORBIDDEN")
		var out struct{ UndoCheckIn struct{ Status string } }
		e.Do(t, s.kiosk, undo, map[string]any{"r": linlitest.ID(r.ID)}).Decode(t, &out)
		if out.UndoCheckIn.Status != "CONFIRMED" {
			t.Fatalf("after the kiosk's undo: %s", out.UndoCheckIn.Status)
		}
		s.wantCheckedIn(t, s.seats.ID, 0)
		// Nothing of the kiosk's left to undo.
		e.Do(t, s.kiosk, undo, map[string]any{"r": linlitest.ID(r.ID)}).WantCode(t, "FORBIDDEN")
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", r.Code, nonce(), nil), "OK")
		wantStatus(t, s.scan(t, s.staff, "checkOut", strings.ToLower(r.Code), nonce(), nil), "OK")
		// The last scan is staff's: the kiosk may not undo it.
		e.Do(t, s.kiosk, undo, map[string]any{"r": linlitest.ID(r.ID)}).WantCode(t, "FORBIDDEN")
	})
}
