package linlitest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"linli/auth"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/viewer"
)

// Password is the password of every fixture person.
const Password = "correct-horse-9"

var (
	hashOnce sync.Once
	hash     string
	phoneSeq atomic.Int64
)

func passwordHash() string {
	hashOnce.Do(func() {
		var err error
		if hash, err = auth.HashPassword(Password); err != nil {
			panic(err)
		}
	})
	return hash
}

// NextPhone returns a phone number unique within the test binary.
func NextPhone() string {
	return fmt.Sprintf("139%08d", phoneSeq.Add(1)%100000000)
}

// Community creates a community.
func (e *Env) Community(t testing.TB, name string) *ent.Community {
	t.Helper()
	c, err := e.Client.Community.Create().SetName(name).SetTown("枞阳镇").SetCity("铜陵市").SetHouseholds(526).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Person creates a person with roles (RESIDENT is always added) and returns
// them with a fresh token. VOLUNTEER also creates a volunteer profile.
func (e *Env) Person(t testing.TB, communityID int, name string, roles ...viewer.Role) (*ent.Person, string) {
	t.Helper()
	rs := []string{string(viewer.Resident)}
	for _, r := range roles {
		if r != viewer.Resident {
			rs = append(rs, string(r))
		}
	}
	p, err := e.Client.Person.Create().SetCommunityID(communityID).SetDisplayName(name).
		SetPhone(NextPhone()).SetPasswordHash(passwordHash()).SetRoles(rs).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r == viewer.Volunteer {
			if err := e.Client.VolunteerProfile.Create().SetCommunityID(communityID).SetPersonID(p.ID).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := e.App.Auth.IssueToken(e.Sys(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p, s.Token
}

// ActivitySpec describes a fixture activity.
type ActivitySpec struct {
	Title       string
	Category    activity.Category
	ServiceType activity.ServiceType
	Status      activity.Status
	// NeverPublished makes a CANCELLED activity one cancelled while still
	// a draft (no published_at: residents never see it). Otherwise every
	// status but DRAFT is created as published: a CANCELLED fixture was
	// published, then called off.
	NeverPublished bool
	StartsAt       time.Time
	// Slots default to one attendee slot of 10 seats.
	Slots []SlotSpec
}

// SlotSpec describes a fixture slot.
type SlotSpec struct {
	Name             string
	Kind             slot.Kind
	Capacity         int
	RequiresApproval bool
	NoWaitlist       bool
	MaxSeats         int
}

// Activity creates an activity with its slots in community cid.
func (e *Env) Activity(t testing.TB, cid int, spec ActivitySpec) (*ent.Activity, []*ent.Slot) {
	t.Helper()
	if spec.Title == "" {
		spec.Title = "义诊"
	}
	if spec.Category == "" {
		spec.Category = activity.CategorySQUARE
	}
	if spec.ServiceType == "" {
		spec.ServiceType = activity.ServiceTypeCULTURE
	}
	if spec.Status == "" {
		spec.Status = activity.StatusPUBLISHED
	}
	if spec.StartsAt.IsZero() {
		spec.StartsAt = time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	}
	if len(spec.Slots) == 0 {
		spec.Slots = []SlotSpec{{Name: "座位", Capacity: 10}}
	}
	create := e.Client.Activity.Create().SetCommunityID(cid).SetTitle(spec.Title).
		SetCategory(spec.Category).SetServiceType(spec.ServiceType).SetStatus(spec.Status).
		SetStartsAt(spec.StartsAt).SetEndsAt(spec.StartsAt.Add(3 * time.Hour))
	if spec.Status != activity.StatusDRAFT && !spec.NeverPublished {
		create.SetPublishedAt(time.Now().UTC())
	}
	a, err := create.Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	var slots []*ent.Slot
	for _, s := range spec.Slots {
		if s.Kind == "" {
			s.Kind = slot.KindATTENDEE
		}
		if s.MaxSeats == 0 {
			s.MaxSeats = 1
		}
		sl, err := e.Client.Slot.Create().SetCommunityID(cid).SetActivityID(a.ID).SetName(s.Name).
			SetKind(s.Kind).SetCapacity(s.Capacity).SetRequiresApproval(s.RequiresApproval).
			SetWaitlistEnabled(!s.NoWaitlist).SetMaxSeatsPerSignup(s.MaxSeats).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		slots = append(slots, sl)
	}
	return a, slots
}
