package scan_test

import (
	"testing"
	"time"

	"linli/ent/checkinscan"
	"linli/linlitest"
)

// timedAnswer is a CheckInResult or SyncCheckInResult with what it says
// about time.
type timedAnswer struct {
	Nonce, Status, Message    string
	ScannedAt                 time.Time
	CheckedInAt, CheckedOutAt *time.Time
	Won                       bool
}

const timedFields = `status message scannedAt checkedInAt checkedOutAt won`

func (s *site) timedScan(t *testing.T, op, code, nonce string, extra map[string]any) timedAnswer {
	t.Helper()
	in := map[string]any{"code": code, "nonce": nonce}
	for k, v := range extra {
		in[k] = v
	}
	var out map[string]timedAnswer
	s.e.Do(t, s.kiosk, `mutation($in: CheckInInput!) { `+op+`(input: $in) { `+timedFields+` } }`, map[string]any{"in": in}).Decode(t, &out)
	return out[op]
}

func sameTime(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }

// TestOnlineScanTimes: a checkIn without at is made now by linli's clock,
// and the answer says when that was, what the registration records and
// that this scan won; a repeat does not win and changes nothing.
func TestOnlineScanTimes(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		r := s.signUp(t, s.member(t, "章桂兰"), s.seats, 1)
		before := time.Now().Add(-time.Second)
		first := s.timedScan(t, "checkIn", r.Code, nonce(), nil)
		after := time.Now().Add(time.Second)
		wantStatus(t, answer{Status: first.Status, Message: first.Message}, "OK")
		if first.ScannedAt.Before(before) || first.ScannedAt.After(after) {
			t.Fatalf("online scan made at %v, not between %v and %v", first.ScannedAt, before, after)
		}
		if !sameTime(first.CheckedInAt, first.ScannedAt) || first.CheckedOutAt != nil || !first.Won {
			t.Fatalf("first scan: checkedInAt %v checkedOutAt %v won %v, want %v, nil, true", first.CheckedInAt, first.CheckedOutAt, first.Won, first.ScannedAt)
		}
		if got := s.registration(t, r.ID).CheckedInAt; !sameTime(got, first.ScannedAt) {
			t.Fatalf("database has checked_in_at %v, the answer said %v", got, first.ScannedAt)
		}
		again := s.timedScan(t, "checkIn", r.Code, nonce(), nil)
		if again.Status != "ALREADY_CHECKED_IN" || again.Won || !sameTime(again.CheckedInAt, first.ScannedAt) || !again.ScannedAt.After(first.ScannedAt) {
			t.Fatalf("second online scan: %+v, want ALREADY_CHECKED_IN, not won, checkedInAt %v", again, first.ScannedAt)
		}
		out := s.timedScan(t, "checkOut", r.Code, nonce(), nil)
		if out.Status != "OK" || !out.Won || !sameTime(out.CheckedOutAt, out.ScannedAt) || !sameTime(out.CheckedInAt, first.ScannedAt) {
			t.Fatalf("check-out: %+v", out)
		}
	})
}

// TestOnlineScanWithAt: a checkIn that gives at is an offline scan: the
// offline bounds apply (too old, too far ahead) and an earlier time moves
// the recorded check-in, which the answer shows.
func TestOnlineScanWithAt(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		r := s.signUp(t, s.member(t, "章桂兰"), s.seats, 1)

		old := s.timedScan(t, "checkIn", r.Code, nonce(), at(time.Now().Add(-73*time.Hour)))
		if old.Status != "TOO_LATE" || old.Won || old.CheckedInAt != nil {
			t.Fatalf("a 73 h old scan: %+v, want TOO_LATE", old)
		}
		s.scanRaw(t, s.kiosk, "checkIn", r.Code, nonce(), at(time.Now().Add(10*time.Minute))).WantCode(t, "VALIDATION_FAILED")

		now := s.timedScan(t, "checkIn", r.Code, nonce(), nil)
		if now.Status != "OK" || !now.Won {
			t.Fatalf("online check-in: %+v", now)
		}
		// The window opened 60 minutes before the start, 30 minutes from now.
		earlier := time.Now().Add(-20 * time.Minute).UTC().Truncate(time.Millisecond)
		moved := s.timedScan(t, "checkIn", r.Code, nonce(), at(earlier))
		if moved.Status != "ALREADY_CHECKED_IN" || !moved.ScannedAt.Equal(earlier) || !sameTime(moved.CheckedInAt, earlier) || !moved.Won {
			t.Fatalf("an earlier scan with at: %+v, want ALREADY_CHECKED_IN, won, checkedInAt %v", moved, earlier)
		}
		if !now.ScannedAt.After(earlier) {
			t.Fatalf("online scan at %v is not after %v", now.ScannedAt, earlier)
		}
		var recorded []time.Time
		scans, err := e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(r.ID), checkinscan.StatusNEQ(checkinscan.StatusTOO_LATE)).All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scans {
			recorded = append(recorded, sc.ScannedAt)
		}
		if len(recorded) != 2 {
			t.Fatalf("scans recorded at %v, want the online one and the earlier one", recorded)
		}
	})
}

// TestSyncShowsWinner: in one upload two kiosks' worth of scans of one code
// come in; every answer says when it was made, the time recorded and
// whether it is the one that won (the earliest), also when retried.
func TestSyncShowsWinner(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		r := s.signUp(t, s.member(t, "章桂兰"), s.seats, 1)
		base := time.Now().Add(-15 * time.Minute).UTC().Truncate(time.Second)
		items := []map[string]any{
			{"kind": "IN", "code": r.Code, "nonce": "late", "at": base.Add(5 * time.Minute).Format(time.RFC3339Nano)},
			{"kind": "IN", "code": r.Code, "nonce": "early", "at": base.Format(time.RFC3339Nano)},
			{"kind": "IN", "code": "no-such-code", "nonce": "unknown", "at": base.Format(time.RFC3339Nano)},
		}
		for round := 0; round < 2; round++ {
			var out struct{ SyncCheckIns []timedAnswer }
			e.Do(t, s.kiosk, `mutation($items: [SyncCheckInInput!]!) { syncCheckIns(items: $items) { nonce `+timedFields+` } }`,
				map[string]any{"items": items}).Decode(t, &out)
			got := out.SyncCheckIns
			if len(got) != 3 {
				t.Fatalf("round %d: %d answers", round, len(got))
			}
			late, early, unknown := got[0], got[1], got[2]
			if early.Status != "OK" || !early.Won || !early.ScannedAt.Equal(base) || !sameTime(early.CheckedInAt, base) {
				t.Fatalf("round %d: the earliest scan: %+v, want OK, won, at %v", round, early, base)
			}
			if late.Status != "ALREADY_CHECKED_IN" || late.Won || !late.ScannedAt.Equal(base.Add(5*time.Minute)) || !sameTime(late.CheckedInAt, base) {
				t.Fatalf("round %d: the later scan: %+v, want ALREADY_CHECKED_IN, not won, checkedInAt %v", round, late, base)
			}
			if unknown.Status != "UNKNOWN_CODE" || unknown.Won || unknown.CheckedInAt != nil {
				t.Fatalf("round %d: an unknown code: %+v", round, unknown)
			}
		}
	})
}

// TestScanReferencesAreIDs: the references of a scan (activityID, actorID)
// and of a service record (registrationID) are opaque IDs, strings in JSON,
// that node(id:) resolves.
func TestScanReferencesAreIDs(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		c := newClinic(t, s, 1, 30*time.Minute)
		r := c.regs[0]
		var manual struct{ ManualCheckIn struct{ Status string } }
		e.Do(t, s.staff, `mutation($a: ID!, $r: ID, $at: Time) { manualCheckIn(input: {activityID: $a, nonce: "m1", registrationID: $r, at: $at}) { status } }`,
			map[string]any{"a": linlitest.ID(c.activity.ID), "r": linlitest.ID(r.ID), "at": time.Now().Add(-10 * time.Minute)}).Decode(t, &manual)
		if manual.ManualCheckIn.Status != "OK" {
			t.Fatalf("manual check-in: %s", manual.ManualCheckIn.Status)
		}
		wantStatus(t, s.scan(t, s.kiosk, "checkOut", r.Code, nonce(), nil), "OK")

		scan, err := e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(r.ID), checkinscan.KindEQ(checkinscan.KindIN)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		var node struct {
			Node struct {
				ActorID, ActivityID, RegistrationID string
			}
		}
		e.Do(t, s.staff, `query($id: ID!) { node(id: $id) { ... on CheckInScan { actorID activityID registrationID } } }`,
			map[string]any{"id": linlitest.ID(scan.ID)}).Decode(t, &node)
		if node.Node.ActivityID != linlitest.ID(c.activity.ID) || node.Node.RegistrationID != linlitest.ID(r.ID) || node.Node.ActorID == "" {
			t.Fatalf("scan references %+v", node.Node)
		}
		var actor struct{ Node struct{ DisplayName string } }
		e.Do(t, s.staff, `query($id: ID!) { node(id: $id) { ... on Person { displayName } } }`, map[string]any{"id": node.Node.ActorID}).Decode(t, &actor)
		if actor.Node.DisplayName != "社工" {
			t.Fatalf("actorID %s is not the coordinator: %+v", node.Node.ActorID, actor.Node)
		}

		var records struct {
			ServiceRecords struct {
				Edges []struct {
					Node struct{ RegistrationID, ActivityID string }
				}
			}
		}
		e.Do(t, c.docs[0].token, `{ serviceRecords(first: 5) { edges { node { registrationID activityID } } } }`, nil).Decode(t, &records)
		if len(records.ServiceRecords.Edges) != 1 {
			t.Fatalf("%d service records, want 1", len(records.ServiceRecords.Edges))
		}
		if got := records.ServiceRecords.Edges[0].Node; got.RegistrationID != linlitest.ID(r.ID) || got.ActivityID != linlitest.ID(c.activity.ID) {
			t.Fatalf("service record references %+v, want registration %d, activity %d", got, r.ID, c.activity.ID)
		}
	})
}
