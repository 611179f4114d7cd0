package statistics_test

// Table tests of the derived figures (no database, in the -short loop):
// the three request rates and the volunteer share are n/d rounded to
// 0.0001 and 0 without a denominator; hours are minutes rounded to 0.01;
// a total's rates are those of its sums, never an average of rates.

import (
	"testing"
	"time"

	"linli/statistics"
)

func TestRatesTable(t *testing.T) {
	for _, c := range []struct {
		name string
		n, d int
		want float64
	}{
		{"no denominator", 3, 0, 0},
		{"nothing of something", 0, 7, 0},
		{"all", 7, 7, 1},
		{"a third, rounded down", 1, 3, 0.3333},
		{"two thirds, rounded up", 2, 3, 0.6667},
		{"one in a million", 1, 1000000, 0},
		{"one in a thousand", 1, 1000, 0.001},
		{"more than all (a recount lag)", 8, 7, 1.1429},
	} {
		f := &statistics.Figures{
			RespondedInTime: c.n, RequestsReceived: c.d,
			RequestsResolved: c.n, Satisfied: c.n, RatedConfirmations: c.d,
			RegisteredVolunteers: c.n, ResidentPopulation: c.d,
		}
		for rule, got := range map[string]float64{
			"ResponseRate": f.ResponseRate(), "ResolutionRate": f.ResolutionRate(),
			"SatisfactionRate": f.SatisfactionRate(), "VolunteerShare": f.VolunteerShare(),
		} {
			if got != c.want {
				t.Errorf("%s: %s(%d/%d) = %v, want %v", c.name, rule, c.n, c.d, got, c.want)
			}
		}
	}
}

func TestDerivedFiguresTable(t *testing.T) {
	for _, c := range []struct {
		minutes int
		hours   float64
	}{{0, 0}, {1, 0.02}, {30, 0.5}, {59, 0.98}, {60, 1}, {61, 1.02}, {90, 1.5}, {1000, 16.67}} {
		f := &statistics.Figures{ServiceMinutes: c.minutes}
		if got := f.ServiceHours(); got != c.hours {
			t.Errorf("ServiceHours(%d minutes) = %v, want %v", c.minutes, got, c.hours)
		}
	}
	f := &statistics.Figures{AttendeePersonTimes: 5, VolunteerPersonTimes: 2, VisitedPeople: 3, ResolvedForSomeone: 4}
	if got := f.ParticipantPersonTimes(); got != 7 {
		t.Errorf("ParticipantPersonTimes = %d, want 7 (attendees + volunteers)", got)
	}
	if got := f.BeneficiaryPersonTimes(); got != 12 {
		t.Errorf("BeneficiaryPersonTimes = %d, want 12 (attendees + visited people + resolved for someone)", got)
	}
}

// A total's rate is the rate of its sums: 1/1 and 0/3 make 1/4, not the
// mean of 1 and 0.
func TestSumRatesAreRatesOfSums(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	a := &statistics.Figures{Communities: 1, RequestsReceived: 1, RespondedInTime: 1, RequestsResolved: 1, ServiceMinutes: 50}
	b := &statistics.Figures{Communities: 1, RequestsReceived: 3, ServiceMinutes: 40}
	total := statistics.Sum(from, to, []*statistics.Figures{a, b})
	if total.Communities != 2 || total.RequestsReceived != 4 || total.RespondedInTime != 1 {
		t.Fatalf("Sum: %+v", total)
	}
	if got := total.ResponseRate(); got != 0.25 {
		t.Errorf("total ResponseRate = %v, want 0.25", got)
	}
	if got := total.ResolutionRate(); got != 0.25 {
		t.Errorf("total ResolutionRate = %v, want 0.25", got)
	}
	if got := total.ServiceHours(); got != 1.5 {
		t.Errorf("total ServiceHours = %v, want 1.5", got)
	}
}
