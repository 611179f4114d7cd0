package demo_test

import (
	"testing"
	"time"

	"linli/demo"
	"linli/ent"
	"linli/ent/homevisit"
	"linli/ent/household"
	"linli/ent/servicerecord"
	"linli/linlitest"
)

// The demo community shows the seed's figures: 526 households with care
// tags of every kind, 180+ of them visited over the past year (households
// in difficulty several times), each visit's minutes in its volunteers'
// service records; staff read it all through the API.
func TestDemoHouseholdsAndVisits(t *testing.T) {
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		ctx := e.Sys()
		c := qianjin(t, e)
		if c.ResidentPopulation != demo.QianjinResidentPopulation {
			t.Fatalf("resident population %d", c.ResidentPopulation)
		}
		homes, err := e.Client.Household.Query().Where(household.CommunityID(c.ID)).All(ctx)
		if err != nil || len(homes) != demo.QianjinHouseholds {
			t.Fatalf("%d households (%v), want %d", len(homes), err, demo.QianjinHouseholds)
		}
		tags, tagged := map[string]int{}, 0
		for _, h := range homes {
			for _, tag := range h.CareTags {
				tags[tag]++
			}
			if len(h.CareTags) > 0 {
				tagged++
			}
		}
		if len(tags) != 6 || tags["EMPTY_NEST"] < tags["LOST_ONLY_CHILD"]*5 || tagged < 100 || tagged > 263 {
			t.Fatalf("care tags %v on %d households: want every tag, empty-nest the most, under half tagged", tags, tagged)
		}
		visits, err := e.Client.HomeVisit.Query().Where(homevisit.CommunityID(c.ID)).WithVolunteers().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		perHome := map[int]int{}
		now := time.Now()
		minutes := map[int]int{}
		for _, v := range visits {
			perHome[v.HouseholdID]++
			if v.VisitedAt.After(now) || v.VisitedAt.Before(now.AddDate(-1, 0, -1)) || v.TeamID == nil || len(v.Edges.Volunteers) == 0 {
				t.Fatalf("visit %+v: want one in the past year, by a team, with volunteers", v)
			}
			for _, p := range v.Edges.Volunteers {
				minutes[p.ID] += v.Minutes
			}
		}
		several := 0
		for _, n := range perHome {
			if n >= 3 {
				several++
			}
		}
		if len(perHome) < 180 || several < 30 {
			t.Fatalf("%d households visited (%d several times), want 180+", len(perHome), several)
		}
		// Every volunteer's visit minutes are in their service records.
		for pid, want := range minutes {
			var got []struct{ Sum int }
			if err := e.Client.ServiceRecord.Query().Where(servicerecord.PersonID(pid), servicerecord.HomeVisitIDNotNil()).
				Aggregate(ent.Sum(servicerecord.FieldMinutes)).Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Sum != want {
				t.Fatalf("person %d: visit records hold %+v minutes, visits %d", pid, got, want)
			}
		}

		// Staff list them through the API, with the careTag filter.
		var d loginData
		login(t, e, "13800000001", "qianjin-coord").Decode(t, &d)
		var list struct {
			Households struct{ TotalCount int }
		}
		e.Do(t, d.Login.Token, `{ households(first: 10, where: {careTag: EMPTY_NEST}) { totalCount } }`, nil).Decode(t, &list)
		if list.Households.TotalCount != tags["EMPTY_NEST"] {
			t.Fatalf("staff find %d empty-nest households, want %d", list.Households.TotalCount, tags["EMPTY_NEST"])
		}
	})
}
