package live_test

import (
	"encoding/json"
	"testing"
	"time"

	"linli/ent"
	"linli/linlitest"
	"linli/viewer"
)

// doorKiosk registers a kiosk at the venue of a new activity through e and
// returns the activity, the kiosk's token and its ID.
func doorKiosk(t *testing.T, e *linlitest.Env, communityID int, staff string) (*ent.Activity, string, string) {
	t.Helper()
	venue, err := e.Client.Venue.Create().SetCommunityID(communityID).SetName("道德讲堂").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.Activity(t, communityID, linlitest.ActivitySpec{})
	if err := a.Update().SetVenueID(venue.ID).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	var reg struct {
		RegisterKiosk struct {
			Token string
			Kiosk struct{ ID string }
		}
	}
	e.Do(t, staff, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "前台平板") { token kiosk { id } } }`,
		map[string]any{"v": id(venue.ID)}).Decode(t, &reg)
	return a, reg.RegisterKiosk.Token, reg.RegisterKiosk.Kiosk.ID
}

func firstCounts(t *testing.T, s *sseStream, activityID int) {
	t.Helper()
	if s.events == nil {
		t.Fatalf("SSE refused: %d %s", s.status, s.body)
	}
	select {
	case ev := <-s.events:
		var m struct{ Data countsMsg }
		if err := json.Unmarshal([]byte(ev), &m); err != nil || m.Data.ActivityCounts.ActivityID != id(activityID) {
			t.Fatalf("first SSE event %q (%v)", ev, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no first SSE event")
	}
}

// Revoking a kiosk ends its SSE streams at once, as it closes its sockets
// (by the revocation's event: the periodic re-check is an hour away).
func TestKioskSSEEndsWhenRevoked(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		a, kioskToken, kioskID := doorKiosk(t, e, c.ID, staff)
		sse := openSSE(t, e.Server.URL, kioskToken, countsQuery, map[string]any{"id": id(a.ID)})
		firstCounts(t, sse, a.ID)
		e.Do(t, staff, `mutation($k: ID!) { revokeKiosk(id: $k) { id } }`, map[string]any{"k": kioskID}).Decode(t, &struct{}{})
		sse.ends(t, time.Second, "after revokeKiosk")
	}, slowSessionChecks)
}

// The same across replicas: revoked on one, the kiosk's stream on the
// other ends at once.
func TestKioskSSEEndsWhenRevokedOnOtherReplica(t *testing.T) {
	dbURL := linlitest.DatabaseURL(t, "postgres")
	one, two := replica(t, dbURL, slowSessionChecks), replica(t, dbURL, slowSessionChecks)
	c := one.Community(t, "前进社区")
	_, staff := one.Person(t, c.ID, "社工", viewer.Coordinator)
	a, kioskToken, kioskID := doorKiosk(t, one, c.ID, staff)
	sse := openSSE(t, one.Server.URL, kioskToken, countsQuery, map[string]any{"id": id(a.ID)})
	firstCounts(t, sse, a.ID)
	two.Do(t, staff, `mutation($k: ID!) { revokeKiosk(id: $k) { id } }`, map[string]any{"k": kioskID}).Decode(t, &struct{}{})
	sse.ends(t, time.Second, "on replica one after revokeKiosk on replica two")
}
