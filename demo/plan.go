package demo

import (
	"time"

	"linli/ent/activity"
	"linli/ent/slot"
	"linli/viewer"
)

// The plan is the whole demo as plain values, built without the database;
// write.go then inserts it in a few bulk statements.

type communityPlan struct {
	name       string
	town       string
	city       string
	households int
	areaKm2    float64
	thresholds []int
	venues     []venuePlan
	teams      []teamPlan
	people     []personPlan
	activities []activityPlan
	// Households and home visits (households.go).
	residentPopulation int
	homes              []householdPlan
	visits             []visitPlan
}

type venuePlan struct {
	name     string
	address  string
	capacity int
}

type teamPlan struct {
	name        string
	description string
	skills      []string // what its members are good at
	weight      int      // share of generated volunteers who join it
}

type personPlan struct {
	name     string
	phone    string
	password string // empty: the account cannot sign in
	roles    []viewer.Role
	// A volunteer (VOLUNTEER in roles) gets a profile with these skills.
	skills       []string
	registeredAt time.Time
	teams        []membership
}

type membership struct {
	team   int // index into communityPlan.teams
	leader bool
}

func (p *personPlan) volunteer() bool {
	for _, r := range p.roles {
		if r == viewer.Volunteer {
			return true
		}
	}
	return false
}

type activityPlan struct {
	title       string
	description string
	category    activity.Category
	serviceType activity.ServiceType
	status      activity.Status
	team        int // index into communityPlan.teams, -1 for none
	venue       int // index into communityPlan.venues, -1 for none (online)
	startsAt    time.Time
	endsAt      time.Time
	opensAt     time.Time
	closesAt    time.Time
	slots       []slotPlan
	// Past activities' registrations and the counters they make, per slot
	// (attendance.go).
	attendance [][]regPlan
	slotCounts []slotCounts
}

type slotPlan struct {
	name     string
	kind     slot.Kind
	capacity int
	approval bool
	maxSeats int
	// Volunteers arrive before the doors open.
	earlyMinutes int
}

func (c *communityPlan) teamIndex(name string) int {
	for i, t := range c.teams {
		if t.name == name {
			return i
		}
	}
	return -1
}

func (c *communityPlan) venueIndex(name string) int {
	for i, v := range c.venues {
		if v.name == name {
			return i
		}
	}
	return -1
}
