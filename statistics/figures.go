// Package statistics answers what a community reports each year (activities
// held, person-times, service hours, volunteers, requests and their three
// rates, home visits), aggregated on read from the rows with grouped Ent
// queries, so every figure equals a recount by construction. The counting
// rules are here and only here (README "Statistics").
package statistics

import (
	"math"
	"time"

	"linli/ent"
	"linli/ent/activity"
	servicehours "linli/hours"
)

// Figures are one community's figures for [From, To), or (CommunityID 0)
// the sum over Communities of them. Counts are kept raw and additive; the
// rates and hours are derived from them, so a total's rates are those of
// its sums.
type Figures struct {
	CommunityID int
	// CommunityRow is the community, loaded with the figures.
	CommunityRow *ent.Community
	From, To     time.Time
	// Communities summed into a total (1 for one community).
	Communities int

	ActivitiesHeld       int
	AttendeePersonTimes  int
	VolunteerPersonTimes int
	// VisitedPeople is the household size of each home visit, summed.
	VisitedPeople int
	// ResolvedForSomeone counts requests resolved SOLVED or MEDIATED.
	ResolvedForSomeone   int
	ServiceMinutes       int
	RegisteredVolunteers int
	ResidentPopulation   int
	RequestsReceived     int
	// RespondedInTime counts received requests accepted within ResponseWindow.
	RespondedInTime   int
	RequestsResolved  int
	DisputesMediated  int
	HomeVisits        int
	HouseholdsVisited int
	// RatedConfirmations and Satisfied (rating ≥ SatisfiedFrom) of them.
	RatedConfirmations int
	Satisfied          int

	ByCategory    []*CategoryFigures
	ByServiceType []*ServiceTypeFigures
	ByTeam        []*TeamFigures
	ByMonth       []*MonthFigures
}

// CategoryFigures are the activity figures of one of the five modules.
type CategoryFigures struct {
	Category               activity.Category
	ActivitiesHeld         int
	ParticipantPersonTimes int
}

// ServiceTypeFigures are the activity figures of one service type.
type ServiceTypeFigures struct {
	ServiceType            activity.ServiceType
	ActivitiesHeld         int
	ParticipantPersonTimes int
}

// TeamFigures are what one team organised and served.
type TeamFigures struct {
	TeamID int
	// TeamRow is the team, loaded with the figures (nil when the viewer
	// may not read it).
	TeamRow              *ent.Team
	ActivitiesHeld       int
	VolunteerPersonTimes int
	ServiceMinutes       int
	HomeVisits           int
}

// ServiceHours are the team's service minutes in hours, to 0.01.
func (t *TeamFigures) ServiceHours() float64 { return hours(t.ServiceMinutes) }

// MonthFigures are the figures of one calendar month (China Standard Time).
type MonthFigures struct {
	// Month is YYYY-MM.
	Month                  string
	ActivitiesHeld         int
	ParticipantPersonTimes int
	RequestsReceived       int
}

// City is the figures of many communities: their total and each.
type City struct {
	Total       *Figures
	Communities []*Figures
}

// ParticipantPersonTimes is attendee plus volunteer check-ins.
func (f *Figures) ParticipantPersonTimes() int { return f.AttendeePersonTimes + f.VolunteerPersonTimes }

// BeneficiaryPersonTimes is attendee check-ins, the people of the visited
// households (per visit) and the requests resolved for someone.
func (f *Figures) BeneficiaryPersonTimes() int {
	return f.AttendeePersonTimes + f.VisitedPeople + f.ResolvedForSomeone
}

// ServiceHours are the service minutes in hours, rounded to 0.01.
func (f *Figures) ServiceHours() float64 { return hours(f.ServiceMinutes) }

// VolunteerShare is registered volunteers per resident (0 without residents).
func (f *Figures) VolunteerShare() float64 { return rate(f.RegisteredVolunteers, f.ResidentPopulation) }

// ResponseRate is the share of received requests accepted in time.
func (f *Figures) ResponseRate() float64 { return rate(f.RespondedInTime, f.RequestsReceived) }

// ResolutionRate is requests resolved per request received.
func (f *Figures) ResolutionRate() float64 { return rate(f.RequestsResolved, f.RequestsReceived) }

// SatisfactionRate is the share of rated confirmations rated satisfied.
func (f *Figures) SatisfactionRate() float64 { return rate(f.Satisfied, f.RatedConfirmations) }

func hours(minutes int) float64 { return servicehours.Of(minutes) }

// rate is n/d rounded to 0.0001, and 0 when d is 0.
func rate(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*10000) / 10000
}
