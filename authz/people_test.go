package authz_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"linli/ent"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

// Data minimisation (PIPL art. 6): a resident sees of other people only
// what a team or activity needs to show them. Walking sequential IDs with
// nodes(ids:) — how 425 people with roles and teams were harvested in 5
// calls — yields the teams' leaders and nothing more; roles and other
// people's memberships stay with staff.
func TestDirectoryIsMinimised(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		coordP, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		resP, resident := e.Person(t, c.ID, "居民")
		leadP, leader := e.Person(t, c.ID, "队长", viewer.TeamLeader, viewer.Volunteer)
		memP, member := e.Person(t, c.ID, "队员", viewer.Volunteer)
		otherP, _ := e.Person(t, c.ID, "别队队员", viewer.Volunteer)
		neighbourP, _ := e.Person(t, c.ID, "邻居")
		team := mkTeam(t, e, c.ID, "医疗健康服务队")
		other := mkTeam(t, e, c.ID, "文化文艺队")
		join(t, e, team, leadP, teammembership.RoleLEADER)
		join(t, e, team, memP, teammembership.RoleMEMBER)
		join(t, e, other, otherP, teammembership.RoleMEMBER)
		everyone := []*ent.Person{coordP, resP, leadP, memP, otherP, neighbourP}
		ids := make([]string, len(everyone))
		for i, p := range everyone {
			ids[i] = id(p.ID)
		}
		// One past the end and well before the start: sequential guesses.
		ids = append(ids, id(everyone[0].ID-1), id(everyone[len(everyone)-1].ID+1))

		type person struct {
			ID, DisplayName string
			Roles           []string
			Teams           []struct{ Team struct{ Name string } }
		}
		dir := func(token string) map[string]person {
			res := e.Do(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Person { id displayName roles teams { team { name } } } } }`,
				map[string]any{"ids": ids})
			var out struct{ Nodes []*person }
			if err := json.Unmarshal(res.Data, &out); err != nil {
				t.Fatalf("%s: %v", res.Data, err)
			}
			got := map[string]person{}
			for _, p := range out.Nodes {
				if p != nil && p.ID != "" {
					got[p.DisplayName] = *p
				}
			}
			return got
		}
		names := func(m map[string]person) []string {
			var n []string
			for k := range m {
				n = append(n, k)
			}
			slices.Sort(n)
			return n
		}
		teamsOf := func(p person) []string {
			var n []string
			for _, m := range p.Teams {
				n = append(n, m.Team.Name)
			}
			slices.Sort(n)
			return n
		}

		// A resident: themselves and the leaders, whose roles they do not see.
		got := dir(resident)
		if want := []string{"居民", "队长"}; !slices.Equal(names(got), sorted(want)) {
			t.Errorf("resident reads people %v, want %v", names(got), sorted(want))
		}
		if r := got["队长"].Roles; len(r) != 0 {
			t.Errorf("resident reads the leader's roles %v", r)
		}
		if r := got["居民"].Roles; !slices.Equal(r, []string{"RESIDENT"}) {
			t.Errorf("resident's own roles %v", r)
		}
		if tm := teamsOf(got["队长"]); !slices.Equal(tm, []string{"医疗健康服务队"}) {
			t.Errorf("resident sees the leader in teams %v", tm)
		}

		// A team member: also their team's members, not another team's.
		got = dir(member)
		if want := []string{"队员", "队长"}; !slices.Equal(names(got), sorted(want)) {
			t.Errorf("member reads people %v, want %v", names(got), sorted(want))
		}
		// The leader: the members of the team they lead.
		got = dir(leader)
		if want := []string{"队员", "队长"}; !slices.Equal(names(got), sorted(want)) {
			t.Errorf("leader reads people %v, want %v", names(got), sorted(want))
		}
		if r := got["队员"].Roles; len(r) != 0 {
			t.Errorf("leader reads a member's roles %v", r)
		}
		// Staff: everyone, with roles and teams.
		got = dir(coord)
		if len(got) != len(everyone) {
			t.Errorf("coordinator reads people %v, want all %d", names(got), len(everyone))
		}
		if r := got["别队队员"].Roles; !slices.Equal(r, []string{"RESIDENT", "VOLUNTEER"}) {
			t.Errorf("coordinator reads roles %v", r)
		}
		if tm := teamsOf(got["别队队员"]); !slices.Equal(tm, []string{"文化文艺队"}) {
			t.Errorf("coordinator reads teams %v", tm)
		}

		// Volunteer profiles (who serves, with which skills) are their
		// person's and staff's: walking their IDs finds only one's own.
		var profiles []string
		for _, vp := range must(e.Client.VolunteerProfile.Query().All(e.Sys())) {
			profiles = append(profiles, id(vp.ID))
		}
		profileQ := `query($ids: [ID!]!) { nodes(ids: $ids) { ... on VolunteerProfile { personID } } }`
		for who, tc := range map[string]struct {
			token string
			want  int
		}{"resident": {resident, 0}, "member": {member, 1}, "leader": {leader, 1}, "coordinator": {coord, 3}} {
			res := e.Do(t, tc.token, profileQ, map[string]any{"ids": profiles})
			var out struct{ Nodes []*struct{ PersonID string } }
			_ = json.Unmarshal(res.Data, &out)
			n := 0
			for _, p := range out.Nodes {
				if p != nil && p.PersonID != "" {
					n++
				}
			}
			if n != tc.want {
				t.Errorf("%s reads %d volunteer profiles (%s), want %d", who, n, res.Data, tc.want)
			}
		}

		// A team shows who leads it to everyone; its members only to its members.
		members := func(token string) map[string][]string {
			var out struct {
				Teams []struct {
					Name        string
					Memberships []struct {
						Role   string
						Person struct{ DisplayName string }
					}
				}
			}
			e.Do(t, token, `{ teams { name memberships { role person { displayName } } } }`, nil).Decode(t, &out)
			m := map[string][]string{}
			for _, tm := range out.Teams {
				for _, ms := range tm.Memberships {
					m[tm.Name] = append(m[tm.Name], fmt.Sprintf("%s:%s", ms.Role, ms.Person.DisplayName))
				}
				slices.Sort(m[tm.Name])
			}
			return m
		}
		if got := fmt.Sprint(members(resident)); got != "map[医疗健康服务队:[LEADER:队长]]" {
			t.Errorf("resident reads memberships %s", got)
		}
		if got := fmt.Sprint(members(member)); got != "map[医疗健康服务队:[LEADER:队长 MEMBER:队员]]" {
			t.Errorf("member reads memberships %s", got)
		}
		if got := fmt.Sprint(members(coord)); got != "map[医疗健康服务队:[LEADER:队长 MEMBER:队员] 文化文艺队:[MEMBER:别队队员]]" {
			t.Errorf("coordinator reads memberships %s", got)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func mkTeam(t *testing.T, e *linlitest.Env, cid int, name string) *ent.Team {
	t.Helper()
	tm, err := e.Client.Team.Create().SetCommunityID(cid).SetName(name).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func join(t *testing.T, e *linlitest.Env, tm *ent.Team, p *ent.Person, role teammembership.Role) {
	t.Helper()
	if err := e.Client.TeamMembership.Create().SetCommunityID(tm.CommunityID).SetTeamID(tm.ID).
		SetPersonID(p.ID).SetRole(role).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
}
