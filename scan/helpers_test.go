package scan_test

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// site is a community with a venue, a coordinator, a kiosk at the venue and
// an activity there starting in 30 minutes (inside its check-in window)
// with an attendee slot and a volunteer slot.
type site struct {
	e         *linlitest.Env
	community *ent.Community
	venue     *ent.Venue
	staff     string
	kiosk     string
	kioskID   int
	activity  *ent.Activity
	seats     *ent.Slot
	doctors   *ent.Slot
}

func newSite(t *testing.T, e *linlitest.Env, name string) *site {
	t.Helper()
	c := e.Community(t, name)
	s := &site{e: e, community: c}
	_, s.staff = e.Person(t, c.ID, "社工", viewer.Coordinator)
	s.venue = s.newVenue(t, "道德讲堂")
	s.kioskID, s.kiosk = s.registerKiosk(t, s.venue.ID, "前台平板")
	s.activity, s.seats, s.doctors = s.newActivity(t, s.venue.ID, time.Now().Add(30*time.Minute))
	return s
}

func (s *site) newVenue(t *testing.T, name string) *ent.Venue {
	t.Helper()
	v, err := s.e.Client.Venue.Create().SetCommunityID(s.community.ID).SetName(name).SetAddress("枞阳镇前进路 1 号").Save(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (s *site) registerKiosk(t *testing.T, venueID int, name string) (int, string) {
	t.Helper()
	var out struct {
		RegisterKiosk struct {
			Token string
			Kiosk struct{ ID string }
		}
	}
	s.e.Do(t, s.staff, `mutation($v: ID!, $n: String!) { registerKiosk(venueID: $v, name: $n) { token kiosk { id } } }`,
		map[string]any{"v": linlitest.ID(venueID), "n": name}).Decode(t, &out)
	return atoi(t, out.RegisterKiosk.Kiosk.ID), out.RegisterKiosk.Token
}

// newActivity creates a published activity at venueID (0: none) with 10
// seats and 3 doctor positions.
func (s *site) newActivity(t *testing.T, venueID int, starts time.Time) (*ent.Activity, *ent.Slot, *ent.Slot) {
	t.Helper()
	a, slots := s.e.Activity(t, s.community.ID, linlitest.ActivitySpec{
		Title: "义诊", Category: activity.CategoryHALL, ServiceType: activity.ServiceTypeCULTURE,
		StartsAt: starts.UTC().Truncate(time.Second),
		Slots: []linlitest.SlotSpec{
			{Name: "座位", Capacity: 10, MaxSeats: 3},
			{Name: "医生", Kind: slot.KindVOLUNTEER, Capacity: 3},
		},
	})
	if venueID != 0 {
		var err error
		if a, err = a.Update().SetVenueID(venueID).Save(s.e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
	return a, slots[0], slots[1]
}

// member is a resident (or volunteer) with their token.
type member struct {
	person *ent.Person
	token  string
}

func (s *site) member(t *testing.T, name string, roles ...viewer.Role) member {
	t.Helper()
	p, tok := s.e.Person(t, s.community.ID, name, roles...)
	return member{p, tok}
}

// reg is a registration as its owner sees it.
type reg struct {
	ID     int
	Status string
	Code   string
}

// signUp signs m up for sl through the API and returns the registration
// with its check-in code.
func (s *site) signUp(t *testing.T, m member, sl *ent.Slot, seats int) reg {
	t.Helper()
	var out struct {
		SignUp struct {
			Registration struct {
				ID          string
				Status      string
				CheckInCode string
			}
		}
	}
	s.e.Do(t, m.token, `mutation($s: ID!, $n: Int) { signUp(input: {slotID: $s, seats: $n}) { registration { id status checkInCode } } }`,
		map[string]any{"s": linlitest.ID(sl.ID), "n": seats}).Decode(t, &out)
	r := out.SignUp.Registration
	return reg{ID: atoi(t, r.ID), Status: r.Status, Code: r.CheckInCode}
}

// answer is a CheckInResult.
type answer struct {
	Status       string
	Message      string
	Registration *struct {
		ID     string
		Status string
		Person struct {
			DisplayName string
			Phone       string
		}
	}
}

const resultFields = `status message registration { id status person { displayName phone } }`

var nonceSeq atomic.Int64

func nonce() string { return fmt.Sprintf("n-%d-%d", time.Now().UnixNano(), nonceSeq.Add(1)) }

// scan posts checkIn or checkOut ("checkIn"/"checkOut") and returns the
// answer, failing on GraphQL errors.
func (s *site) scan(t *testing.T, token, op, code, nonce string, extra map[string]any) answer {
	t.Helper()
	res := s.scanRaw(t, token, op, code, nonce, extra)
	var out map[string]answer
	res.Decode(t, &out)
	return out[op]
}

func (s *site) scanRaw(t testing.TB, token, op, code, nonce string, extra map[string]any) *linlitest.Result {
	t.Helper()
	in := map[string]any{"code": code, "nonce": nonce}
	for k, v := range extra {
		in[k] = v
	}
	return s.e.Do(t, token, `mutation($in: CheckInInput!) { `+op+`(input: $in) { `+resultFields+` } }`, map[string]any{"in": in})
}

func wantStatus(t *testing.T, a answer, status string) {
	t.Helper()
	if a.Status != status {
		t.Fatalf("want %s, got %s (%q)", status, a.Status, a.Message)
	}
	if a.Message == "" {
		t.Fatalf("%s without a message", status)
	}
}

// counts reads a slot's counters from the database.
func (s *site) counts(t *testing.T, slotID int) (taken, checkedIn int) {
	t.Helper()
	sl, err := s.e.Client.Slot.Get(s.e.Sys(), slotID)
	if err != nil {
		t.Fatal(err)
	}
	return sl.Taken, sl.CheckedIn
}

func (s *site) wantCheckedIn(t *testing.T, slotID, want int) {
	t.Helper()
	if _, got := s.counts(t, slotID); got != want {
		t.Fatalf("slot %d: checked_in = %d, want %d", slotID, got, want)
	}
}

// atoi reads an ID the API returned.
func atoi(t testing.TB, s string) int {
	t.Helper()
	return linlitest.IntID(t, s)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
