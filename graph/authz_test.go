package graph_test

import (
	"fmt"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

// world is two communities with a person of every role in the first, a
// coordinator in the second, and a platform admin.
type world struct {
	a, b                                     *ent.Community
	coordA, leaderA, volA, resA, coordB, adm string
	resAPerson, volAPerson, resBPerson       *ent.Person
	leaderAPerson                            *ent.Person
	actA, actB                               *ent.Activity
	slotA, slotB                             *ent.Slot
	teamA, teamB                             *ent.Team
	venueA, venueB                           *ent.Venue
}

func newWorld(t *testing.T, e *linlitest.Env) *world {
	w := &world{}
	w.a = e.Community(t, "前进社区")
	w.b = e.Community(t, "红旗社区")
	_, w.coordA = e.Person(t, w.a.ID, "社工甲", viewer.Coordinator)
	w.leaderAPerson, w.leaderA = e.Person(t, w.a.ID, "队长甲", viewer.TeamLeader, viewer.Volunteer)
	w.volAPerson, w.volA = e.Person(t, w.a.ID, "志愿者甲", viewer.Volunteer)
	w.resAPerson, w.resA = e.Person(t, w.a.ID, "居民甲")
	_, w.coordB = e.Person(t, w.b.ID, "社工乙", viewer.Coordinator)
	w.resBPerson, _ = e.Person(t, w.b.ID, "居民乙", viewer.Volunteer)
	_, w.adm = e.Person(t, w.b.ID, "管理员", viewer.Admin)
	var slots []*ent.Slot
	w.actA, slots = e.Activity(t, w.a.ID, linlitest.ActivitySpec{Title: "甲的义诊"})
	w.slotA = slots[0]
	w.actB, slots = e.Activity(t, w.b.ID, linlitest.ActivitySpec{Title: "乙的演出"})
	w.slotB = slots[0]
	var err error
	if w.teamA, err = e.Client.Team.Create().SetCommunityID(w.a.ID).SetName("医疗健康服务队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.teamB, err = e.Client.Team.Create().SetCommunityID(w.b.ID).SetName("文化文艺队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.venueA, err = e.Client.Venue.Create().SetCommunityID(w.a.ID).SetName("社区广场").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.venueB, err = e.Client.Venue.Create().SetCommunityID(w.b.ID).SetName("道德讲堂").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	return w
}

func id(i int) string { return linlitest.ID(i) }

func TestReadIsolation(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		list := `{ activities(first: 50) { totalCount edges { node { id title community { id } } } } }`
		type actList struct {
			Activities struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Title string } }
			}
		}
		for _, tc := range []struct {
			who   string
			token string
			want  []string
		}{
			{"coordinator A", w.coordA, []string{id(w.actA.ID)}},
			{"team leader A", w.leaderA, []string{id(w.actA.ID)}},
			{"volunteer A", w.volA, []string{id(w.actA.ID)}},
			{"resident A", w.resA, []string{id(w.actA.ID)}},
			{"coordinator B", w.coordB, []string{id(w.actB.ID)}},
			{"admin", w.adm, []string{id(w.actA.ID), id(w.actB.ID)}},
		} {
			var got actList
			e.Do(t, tc.token, list, nil).Decode(t, &got)
			var ids []string
			for _, ed := range got.Activities.Edges {
				ids = append(ids, ed.Node.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) || got.Activities.TotalCount != len(tc.want) {
				t.Errorf("%s sees activities %v (total %d), want %v", tc.who, ids, got.Activities.TotalCount, tc.want)
			}
		}
		e.Do(t, "", list, nil).WantCode(t, "UNAUTHENTICATED")

		// node(id:) and nodes(ids:) never reach another community's rows, of any type.
		for _, foreign := range []int{w.actB.ID, w.slotB.ID, w.teamB.ID, w.venueB.ID, w.resBPerson.ID} {
			res := e.Do(t, w.coordA, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id(foreign)})
			res.WantCode(t, "NOT_FOUND")
			if string(res.Data) != `{"node":null}` {
				t.Errorf("node(%d) leaked %s", foreign, res.Data)
			}
		}
		res := e.Do(t, w.resA, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": []string{id(w.actA.ID), id(w.actB.ID)}})
		if string(res.Data) != fmt.Sprintf(`{"nodes":[{"id":"%s"},null]}`, id(w.actA.ID)) {
			t.Errorf("nodes across communities: %s %+v", res.Data, res.Errors)
		}
		// The admin reaches both.
		res = e.Do(t, w.adm, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id(w.slotA.ID)})
		if len(res.Errors) > 0 {
			t.Errorf("admin node(slot A): %+v", res.Errors)
		}
		// Nested edges stay inside the community: a foreign team's activities
		// cannot be reached, and a filter naming the other community finds nothing.
		var filtered actList
		e.Do(t, w.coordA, `query($c: ID!) { activities(first: 10, where: {communityID: $c}) { totalCount edges { node { id title } } } }`,
			map[string]any{"c": id(w.b.ID)}).Decode(t, &filtered)
		if filtered.Activities.TotalCount != 0 {
			t.Errorf("coordinator A filtered to community B and saw %+v", filtered)
		}
		res = e.Do(t, w.coordA, `query($id: ID!) { node(id: $id) { ... on Team { activities(first: 5) { totalCount } } } }`,
			map[string]any{"id": id(w.teamB.ID)})
		res.WantCode(t, "NOT_FOUND")
		// Slot → activity → community of one's own rows is fine.
		var own struct {
			Node struct{ Activity struct{ Title string } }
		}
		e.Do(t, w.resA, `query($id: ID!) { node(id: $id) { ... on Slot { activity { title } } } }`,
			map[string]any{"id": id(w.slotA.ID)}).Decode(t, &own)
		if own.Node.Activity.Title != "甲的义诊" {
			t.Errorf("slot → activity: %+v", own)
		}
		// Communities are public.
		var cs struct{ Communities []struct{ Name string } }
		e.Do(t, "", `{ communities { name } }`, nil).Decode(t, &cs)
		if len(cs.Communities) != 2 {
			t.Errorf("communities: %+v", cs)
		}
		// The volunteer list is for staff, and only their own community's.
		vols := `{ volunteers(first: 50) { totalCount edges { node { displayName } } } }`
		e.Do(t, w.resA, vols, nil).WantCode(t, "FORBIDDEN")
		e.Do(t, w.volA, vols, nil).WantCode(t, "FORBIDDEN")
		var vl struct{ Volunteers struct{ TotalCount int } }
		e.Do(t, w.coordA, vols, nil).Decode(t, &vl)
		if vl.Volunteers.TotalCount != 2 { // 队长甲 and 志愿者甲
			t.Errorf("coordinator A sees %d volunteers, want 2", vl.Volunteers.TotalCount)
		}
	})
}

func TestWriteAuthorization(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
		create := `mutation($in: CreateActivityInput!) { createActivity(input: $in, slots: [{name: "座位", capacity: 40}]) { id status community { id } slots { capacity } } }`
		in := map[string]any{"in": map[string]any{
			"title": "法律咨询", "category": "HALL", "serviceType": "LEGAL",
			"startsAt": start, "endsAt": start.Add(2 * time.Hour),
		}}
		for _, tc := range []struct {
			who, token, code string
		}{
			{"anonymous", "", "UNAUTHENTICATED"},
			{"resident", w.resA, "FORBIDDEN"},
			{"volunteer", w.volA, "FORBIDDEN"},
			{"team leader", w.leaderA, "FORBIDDEN"},
		} {
			res := e.Do(t, tc.token, create, in)
			if res.Code() != tc.code {
				t.Errorf("%s createActivity: code %q, want %s", tc.who, res.Code(), tc.code)
			}
		}
		var created struct {
			CreateActivity struct {
				ID, Status string
				Community  struct{ ID string }
			}
		}
		e.Do(t, w.coordA, create, in).Decode(t, &created)
		if created.CreateActivity.Status != "DRAFT" || created.CreateActivity.Community.ID != id(w.a.ID) {
			t.Errorf("created %+v", created)
		}

		// Every staff write aimed at community B from coordinator A fails, and
		// B's rows are unchanged afterwards.
		foreign := []struct {
			name, query string
			vars        map[string]any
		}{
			{"updateActivity", `mutation($id: ID!) { updateActivity(id: $id, input: {title: "hijacked"}) { id } }`, map[string]any{"id": id(w.actB.ID)}},
			{"publishActivity", `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": id(w.actB.ID)}},
			{"cancelActivity", `mutation($id: ID!) { cancelActivity(id: $id) { id } }`, map[string]any{"id": id(w.actB.ID)}},
			{"updateTeam", `mutation($id: ID!) { updateTeam(id: $id, input: {name: "hijacked"}) { id } }`, map[string]any{"id": id(w.teamB.ID)}},
			{"updateVenue", `mutation($id: ID!) { updateVenue(id: $id, input: {name: "hijacked"}) { id } }`, map[string]any{"id": id(w.venueB.ID)}},
			{"setTeamMember", `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p) { id } }`, map[string]any{"t": id(w.teamB.ID), "p": id(w.resBPerson.ID)}},
			{"setTeamMember cross", `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p) { id } }`, map[string]any{"t": id(w.teamA.ID), "p": id(w.resBPerson.ID)}},
			{"removeTeamMember", `mutation($t: ID!, $p: ID!) { removeTeamMember(teamID: $t, personID: $p) }`, map[string]any{"t": id(w.teamB.ID), "p": id(w.resBPerson.ID)}},
			{"setRoles", `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { id } }`, map[string]any{"p": id(w.resBPerson.ID)}},
			{"createActivity with B's venue", `mutation($v: ID!) { createActivity(input: {title: "x", category: HALL, serviceType: LEGAL, startsAt: "2030-01-01T09:00:00Z", endsAt: "2030-01-01T10:00:00Z", venueID: $v}, slots: [{name: "a", capacity: 1}]) { id } }`, map[string]any{"v": id(w.venueB.ID)}},
		}
		for _, f := range foreign {
			res := e.Do(t, w.coordA, f.query, f.vars)
			if len(res.Errors) == 0 {
				t.Errorf("coordinator A %s on community B succeeded: %s", f.name, res.Data)
				continue
			}
			switch res.Code() {
			case "NOT_FOUND", "FORBIDDEN", "VALIDATION_FAILED":
			default:
				t.Errorf("%s: unexpected code %q", f.name, res.Code())
			}
			if f.name == "removeTeamMember" {
				continue
			}
		}
		b, err := e.Client.Activity.Get(e.Sys(), w.actB.ID)
		if err != nil || b.Title != "乙的演出" || b.Status != "PUBLISHED" {
			t.Errorf("community B's activity changed: %+v %v", b, err)
		}
		tb, _ := e.Client.Team.Get(e.Sys(), w.teamB.ID)
		vb, _ := e.Client.Venue.Get(e.Sys(), w.venueB.ID)
		pb, _ := e.Client.Person.Get(e.Sys(), w.resBPerson.ID)
		if tb.Name != "文化文艺队" || vb.Name != "道德讲堂" || len(pb.Roles) != 2 {
			t.Errorf("community B changed: team %q venue %q roles %v", tb.Name, vb.Name, pb.Roles)
		}

		// Coordinators cannot make anyone an admin; admins can act anywhere.
		e.Do(t, w.coordA, `mutation($p: ID!) { setRoles(personID: $p, roles: [ADMIN]) { id } }`,
			map[string]any{"p": id(w.resAPerson.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, w.resA, `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { id } }`,
			map[string]any{"p": id(w.resAPerson.ID)}).WantCode(t, "FORBIDDEN")
		var upd struct{ UpdateActivity struct{ Title string } }
		e.Do(t, w.adm, `mutation($id: ID!) { updateActivity(id: $id, input: {title: "管理员改的"}) { title } }`,
			map[string]any{"id": id(w.actA.ID)}).Decode(t, &upd)
		if upd.UpdateActivity.Title != "管理员改的" {
			t.Errorf("admin update: %+v", upd)
		}

		// Own-community staff operations work end to end.
		var team struct{ CreateTeam struct{ ID string } }
		e.Do(t, w.coordA, `mutation { createTeam(input: {name: "爱心助学团"}) { id } }`, nil).Decode(t, &team)
		e.Do(t, w.coordA, `mutation { createTeam(input: {name: "爱心助学团"}) { id } }`, nil).WantCode(t, "CONFLICT")
		var mem struct{ SetTeamMember struct{ Role string } }
		e.Do(t, w.coordA, `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p, role: LEADER) { role } }`,
			map[string]any{"t": team.CreateTeam.ID, "p": id(w.volAPerson.ID)}).Decode(t, &mem)
		if mem.SetTeamMember.Role != "LEADER" {
			t.Errorf("setTeamMember: %+v", mem)
		}
		var roles struct{ Node struct{ Roles []string } }
		e.Do(t, w.coordA, `query($id: ID!) { node(id: $id) { ... on Person { roles } } }`,
			map[string]any{"id": id(w.volAPerson.ID)}).Decode(t, &roles)
		if fmt.Sprint(roles.Node.Roles) != "[RESIDENT VOLUNTEER TEAM_LEADER]" {
			t.Errorf("leader role not granted: %v", roles.Node.Roles)
		}
		var pub struct{ PublishActivity struct{ Status string } }
		e.Do(t, w.coordA, `mutation($id: ID!) { publishActivity(id: $id) { status } }`,
			map[string]any{"id": created.CreateActivity.ID}).Decode(t, &pub)
		if pub.PublishActivity.Status != "PUBLISHED" {
			t.Errorf("publish: %+v", pub)
		}
		var cancel struct{ CancelActivity struct{ Status string } }
		e.Do(t, w.coordA, `mutation($id: ID!) { cancelActivity(id: $id, reason: "下雨") { status } }`,
			map[string]any{"id": created.CreateActivity.ID}).Decode(t, &cancel)
		if cancel.CancelActivity.Status != "CANCELLED" {
			t.Errorf("cancel: %+v", cancel)
		}
		e.Do(t, w.coordA, `mutation($id: ID!) { publishActivity(id: $id) { status } }`,
			map[string]any{"id": created.CreateActivity.ID}).WantCode(t, "CONFLICT")
	})
}

func TestMasking(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		// The resident leads a team, so everyone in the community may read
		// them (authz.People); their phone is what is masked.
		if _, err := e.Client.TeamMembership.Create().SetCommunityID(w.a.ID).SetTeamID(w.teamA.ID).SetPersonID(w.resAPerson.ID).
			SetRole(teammembership.RoleLEADER).Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		q := `query($id: ID!) { node(id: $id) { ... on Person { phone } } }`
		vars := map[string]any{"id": id(w.resAPerson.ID)}
		full := w.resAPerson.Phone
		masked := full[:3] + "****" + full[7:]
		for _, tc := range []struct {
			who, token, want string
		}{
			{"self", w.resA, full},
			{"coordinator of the community", w.coordA, full},
			{"admin", w.adm, full},
			{"another resident's neighbour (volunteer)", w.volA, masked},
			{"team leader", w.leaderA, masked},
		} {
			var got struct{ Node struct{ Phone string } }
			e.Do(t, tc.token, q, vars).Decode(t, &got)
			if got.Node.Phone != tc.want {
				t.Errorf("%s sees phone %q, want %q", tc.who, got.Node.Phone, tc.want)
			}
		}
		// The coordinator of another community cannot even reach the person.
		e.Do(t, w.coordB, q, vars).WantCode(t, "NOT_FOUND")
		// Through a nested edge the same rule holds.
		var nested struct {
			Teams []struct {
				Memberships []struct{ Person struct{ Phone string } }
			}
		}
		e.Do(t, w.volA, `{ teams { memberships { person { phone } } } }`, nil).Decode(t, &nested)
		if len(nested.Teams) != 1 || len(nested.Teams[0].Memberships) != 1 || nested.Teams[0].Memberships[0].Person.Phone != masked {
			t.Errorf("nested phone: %+v", nested)
		}
	})
}

// A role granted by staff takes effect on the person's next request, even
// though their token was just used (and cached).
func TestRoleChangeTakesEffectAtOnce(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		p, tok := e.Person(t, c.ID, "居民")
		vols := `{ volunteers(first: 5) { totalCount } }`
		e.Do(t, tok, vols, nil).WantCode(t, "FORBIDDEN")
		var r struct{ SetRoles struct{ Roles []string } }
		e.Do(t, coord, `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { roles } }`,
			map[string]any{"p": id(p.ID)}).Decode(t, &r)
		if res := e.Do(t, tok, vols, nil); len(res.Errors) > 0 {
			t.Errorf("new coordinator still refused: %+v", res.Errors)
		}
		e.Do(t, coord, `mutation($p: ID!) { setRoles(personID: $p, roles: [RESIDENT]) { roles } }`,
			map[string]any{"p": id(p.ID)}).Decode(t, &r)
		e.Do(t, tok, vols, nil).WantCode(t, "FORBIDDEN")
	})
}
