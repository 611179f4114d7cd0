package pairing_test

import (
	"strings"
	"testing"
	"time"

	"linli/linlitest"
)

// A screen paired with pairBoard gets a board token: it reads what the
// board shows and nothing else, so a hall's TV holds no credential that
// checks people in or manages anything. The tablet token it replaces
// stops working, as with pairKiosk.
func TestBoardTokenOnlyReadsTheBoard(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newKioskSite(t, e, "前进社区")
		a, _ := e.Activity(t, s.venue.CommunityID, linlitest.ActivitySpec{Title: "健康义诊", StartsAt: time.Now().Add(time.Hour).UTC().Truncate(time.Second)})
		if err := a.Update().SetVenueID(s.venue.ID).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		var out struct {
			PairBoard struct {
				Token string
				Kiosk struct{ ID string }
			}
		}
		e.Do(t, "", `mutation($c: String!) { pairBoard(code: $c) { token kiosk { id } } }`,
			map[string]any{"c": strings.ToLower(newCode(t, e, s))}).Decode(t, &out)
		board := out.PairBoard.Token
		if !strings.HasPrefix(board, "board_") || out.PairBoard.Kiosk.ID != s.kioskID {
			t.Fatalf("pairBoard gave %.10s… for kiosk %s", board, out.PairBoard.Kiosk.ID)
		}
		if works(t, e, s.token) {
			t.Error("the tablet's token still works after the board paired")
		}
		// What the board reads.
		aid := e.ID(a.ID)
		for _, q := range []string{
			`{ venues { id name community { id } } }`,
			`{ activities(first: 5) { edges { node { id title slots { id } } } } }`,
			`query { checkInList(activityID: "` + aid + `") { version entries { name status } } }`,
		} {
			if r := e.Do(t, board, q, nil); r.Err() != nil {
				t.Errorf("board: %s: %v", q, r.Err())
			}
		}
		// Nothing else: no scan, no walk-in, no management, no other read.
		for _, q := range []string{
			`mutation { checkIn(input: {code: "ABC", nonce: "n1", activityID: "` + aid + `"}) { status } }`,
			`mutation { manualCheckIn(input: {activityID: "` + aid + `", nonce: "n2", name: "张三", phoneTail: "1234"}) { status } }`,
			`mutation { registerKiosk(venueID: "` + e.ID(s.venue.ID) + `", name: "x") { token } }`,
			`mutation { createKioskPairingCode(kioskID: "` + s.kioskID + `") { code } }`,
			`{ kiosks { id } }`,
			`{ volunteerService { totalHours } }`,
		} {
			e.Do(t, board, q, nil).WantCode(t, "FORBIDDEN")
		}
		// A tablet's token is not limited so (and pairing it ends the board's).
		var tablet struct{ PairKiosk struct{ Token string } }
		e.Do(t, "", pair, map[string]any{"c": newCode(t, e, s)}).Decode(t, &tablet)
		var scan struct{ CheckIn struct{ Status string } }
		e.Do(t, tablet.PairKiosk.Token, `mutation { checkIn(input: {code: "abc", nonce: "n3", activityID: "`+aid+`"}) { status } }`, nil).Decode(t, &scan)
		if scan.CheckIn.Status != "UNKNOWN_CODE" {
			t.Errorf("a tablet's scan: %s", scan.CheckIn.Status)
		}
		if works(t, e, board) {
			t.Error("the board's token still works after a tablet paired")
		}
	})
}
