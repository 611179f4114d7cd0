package graph_test

import (
	"fmt"
	"testing"
	"time"

	"linli/app"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// nestedActivitiesQuery is the browsing page: activities with their slots,
// team and venue.
const nestedActivitiesQuery = `query($n: Int!) { activities(first: $n) { edges { node {
	id title slots { id name capacity taken available } team { name } venue { name } } } } }`

// A page of activities with nested slots, team and venue costs the same
// number of SQL statements whatever its size: one per level, not one per row.
// With the token cache off, authentication adds its one (session and person).
func TestNestedActivitiesRunFixedStatements(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		seedActivities(t, e, c.ID, 60)
		// Session with person, activities, slots, teams, venues.
		wantStatements(t, e, tok, 5)
	}, func(c *app.Config) { c.TokenCacheTTL = 0 })
}

// With the token cache on (the default), a client's later requests skip
// authentication's statements.
func TestNestedActivitiesWithCachedToken(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		seedActivities(t, e, c.ID, 60)
		e.Do(t, tok, `{ viewer { id } }`, nil)
		wantStatements(t, e, tok, 4)
	}, func(c *app.Config) { c.TokenCacheTTL = time.Hour })
}

func wantStatements(t *testing.T, e *linlitest.Env, tok string, want int64) {
	t.Helper()
	for _, n := range []int{5, 20, 50} {
		before := e.Statements.Load()
		res := e.Do(t, tok, nestedActivitiesQuery, map[string]any{"n": n})
		spent := e.Statements.Load() - before
		checkNestedPage(t, res, n)
		t.Logf("first: %d ran %d SQL statements", n, spent)
		if spent != want {
			t.Errorf("first: %d ran %d SQL statements, want %d", n, spent, want)
		}
	}
}

// seedActivities creates n published activities with 2 or 3 slots each,
// spread over 6 teams and 4 venues.
func seedActivities(t testing.TB, e *linlitest.Env, cid, n int) {
	t.Helper()
	var teams, venues []int
	for i := range 6 {
		tm, err := e.Client.Team.Create().SetCommunityID(cid).SetName(fmt.Sprintf("队伍%d", i)).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, tm.ID)
	}
	for i := range 4 {
		v, err := e.Client.Venue.Create().SetCommunityID(cid).SetName(fmt.Sprintf("场地%d", i)).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		venues = append(venues, v.ID)
	}
	for i := range n {
		slots := []linlitest.SlotSpec{{Name: "座位", Capacity: 40}, {Name: "医生", Kind: slot.KindVOLUNTEER, Capacity: 2}}
		if i%2 == 0 {
			slots = append(slots, linlitest.SlotSpec{Name: "引导员", Kind: slot.KindVOLUNTEER, Capacity: 4})
		}
		a, _ := e.Activity(t, cid, linlitest.ActivitySpec{Title: fmt.Sprintf("义诊 %d", i), Slots: slots})
		if err := e.Client.Activity.UpdateOne(a).SetTeamID(teams[i%len(teams)]).SetVenueID(venues[i%len(venues)]).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
}

type nestedPage struct {
	Activities struct {
		Edges []struct {
			Node struct {
				ID    string
				Title string
				Slots []struct {
					ID                         string
					Name                       string
					Capacity, Taken, Available int
				}
				Team  *struct{ Name string }
				Venue *struct{ Name string }
			}
		}
	}
}

func checkNestedPage(t *testing.T, res *linlitest.Result, n int) {
	t.Helper()
	var page nestedPage
	res.Decode(t, &page)
	if len(page.Activities.Edges) != n {
		t.Fatalf("got %d activities, want %d", len(page.Activities.Edges), n)
	}
	for _, ed := range page.Activities.Edges {
		a := ed.Node
		if len(a.Slots) < 2 || len(a.Slots) > 3 || a.Team == nil || a.Venue == nil || a.Team.Name == "" || a.Venue.Name == "" {
			t.Fatalf("activity %s came back incomplete: %+v", a.ID, a)
		}
		for _, s := range a.Slots {
			if s.Available != s.Capacity-s.Taken {
				t.Fatalf("slot %s: available %d, capacity %d, taken %d", s.ID, s.Available, s.Capacity, s.Taken)
			}
		}
	}
}

// The staff's volunteer list with each volunteer's teams costs the same
// number of statements for 5 people as for 50 (teams are loaded with the
// page, not per person).
func TestVolunteersWithTeamsRunFixedStatements(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		people, _ := e.People(t, c.ID, 60, "志愿者", viewer.Volunteer)
		var teams []int
		for i := range 3 {
			tm, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName(fmt.Sprintf("队伍%d", i)).Save(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			teams = append(teams, tm.ID)
		}
		for i, p := range people {
			for _, tm := range teams[:1+i%3] {
				if err := e.Client.TeamMembership.Create().SetCommunityID(c.ID).SetTeamID(tm).SetPersonID(p.ID).Exec(e.Sys()); err != nil {
					t.Fatal(err)
				}
			}
		}
		e.Do(t, staff, `{ viewer { id } }`, nil) // caches the token
		var counts []int64
		for _, n := range []int{5, 50} {
			before := e.Statements.Load()
			var got struct {
				Volunteers struct {
					Edges []struct {
						Node struct {
							Teams []struct {
								Role string
								Team struct{ Name string }
							}
						}
					}
				}
			}
			e.Do(t, staff, `query($n: Int!) { volunteers(first: $n) { edges { node { displayName teams { role team { name } } } } } }`,
				map[string]any{"n": n}).Decode(t, &got)
			counts = append(counts, e.Statements.Load()-before)
			memberships := 0
			for _, edge := range got.Volunteers.Edges {
				for _, m := range edge.Node.Teams {
					if m.Team.Name == "" || m.Role == "" {
						t.Fatalf("membership without its team: %+v", m)
					}
				}
				memberships += len(edge.Node.Teams)
			}
			if len(got.Volunteers.Edges) != n || memberships < n {
				t.Fatalf("first: %d: %d volunteers with %d memberships", n, len(got.Volunteers.Edges), memberships)
			}
		}
		t.Logf("statements for 5 and 50 volunteers: %v", counts)
		if counts[0] != counts[1] {
			t.Errorf("statements for 5 and 50 volunteers: %v; teams are loaded per person", counts)
		}
	}, func(c *app.Config) { c.TokenCacheTTL = time.Hour })
}
