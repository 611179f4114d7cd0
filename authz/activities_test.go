package authz_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

func id(i int) string { return linlitest.ID(i) }

// town is one community with a coordinator, a resident, a team with its
// leader, and a venue.
type town struct {
	c                       *ent.Community
	coord, resident, leader string
	team                    *ent.Team
	venue                   *ent.Venue
}

func newTown(t *testing.T, e *linlitest.Env) *town {
	w := &town{c: e.Community(t, "前进社区")}
	_, w.coord = e.Person(t, w.c.ID, "社工", viewer.Coordinator)
	_, w.resident = e.Person(t, w.c.ID, "居民")
	leader, tok := e.Person(t, w.c.ID, "队长", viewer.TeamLeader)
	w.leader = tok
	var err error
	if w.team, err = e.Client.Team.Create().SetCommunityID(w.c.ID).SetName("医疗健康服务队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.TeamMembership.Create().SetCommunityID(w.c.ID).SetTeamID(w.team.ID).
		SetPersonID(leader.ID).SetRole(teammembership.RoleLEADER).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.venue, err = e.Client.Venue.Create().SetCommunityID(w.c.ID).SetName("社区广场").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	return w
}

type createdActivity struct {
	ID    string
	Slots []struct{ ID string }
}

// create makes a draft of the town's team at its venue through the API, as
// the coordinator.
func (w *town) create(t *testing.T, e *linlitest.Env, title string) createdActivity {
	t.Helper()
	start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
	var out struct{ CreateActivity createdActivity }
	e.Do(t, w.coord, `mutation($in: CreateActivityInput!) {
		createActivity(input: $in, slots: [{name: "秘密座位", capacity: 7}]) { id slots { id } } }`,
		map[string]any{"in": map[string]any{"title": title, "description": title + "的说明", "category": "HALL",
			"serviceType": "HEALTH", "startsAt": start, "endsAt": start.Add(2 * time.Hour),
			"teamID": id(w.team.ID), "venueID": id(w.venue.ID)}}).Decode(t, &out)
	return out.CreateActivity
}

func (w *town) do(t *testing.T, e *linlitest.Env, op, actID string) {
	t.Helper()
	res := e.Do(t, w.coord, fmt.Sprintf(`mutation($id: ID!) { %s(id: $id) { id } }`, op), map[string]any{"id": actID})
	if len(res.Errors) > 0 {
		t.Fatalf("%s: %+v", op, res.Errors)
	}
}

// seen lists the activity ids token reaches on each read path: node,
// nodes, the list filtered to CANCELLED, and the team's and venue's edges.
func seen(t *testing.T, e *linlitest.Env, w *town, token string, ids ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, aid := range ids {
		res := e.Do(t, token, `query($id: ID!) { node(id: $id) { ... on Activity { id title description } } }`, map[string]any{"id": aid})
		var n struct{ Node *struct{ ID string } }
		_ = json.Unmarshal(res.Data, &n)
		if n.Node != nil {
			out["node"] = append(out["node"], n.Node.ID)
		}
	}
	var ns struct{ Nodes []*struct{ ID string } }
	res := e.Do(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Activity { id title } } }`, map[string]any{"ids": ids})
	_ = json.Unmarshal(res.Data, &ns)
	for _, n := range ns.Nodes {
		if n != nil {
			out["nodes"] = append(out["nodes"], n.ID)
		}
	}
	type conn struct {
		TotalCount int
		Edges      []struct{ Node struct{ ID string } }
	}
	add := func(path string, c conn) {
		for _, ed := range c.Edges {
			out[path] = append(out[path], ed.Node.ID)
		}
		if c.TotalCount != len(c.Edges) {
			out[path] = append(out[path], fmt.Sprintf("totalCount=%d", c.TotalCount))
		}
	}
	var list struct{ Activities conn }
	e.Do(t, token, `{ activities(first: 50, where: {status: CANCELLED}) { totalCount edges { node { id title } } } }`, nil).Decode(t, &list)
	add("activities(CANCELLED)", list.Activities)
	var tv struct {
		Teams  []struct{ Activities conn }
		Venues []struct{ Activities conn }
	}
	e.Do(t, token, `{ teams { activities(first: 10) { totalCount edges { node { id title } } } }
		venues { activities(first: 10) { totalCount edges { node { id title } } } } }`, nil).Decode(t, &tv)
	for _, x := range tv.Teams {
		add("team.activities", x.Activities)
	}
	for _, x := range tv.Venues {
		add("venue.activities", x.Activities)
	}
	return out
}

var paths = []string{"node", "nodes", "activities(CANCELLED)", "team.activities", "venue.activities"}

// A draft cancelled before it was ever published stays with its organisers
// on every read path; an activity cancelled after publication stays
// visible to residents (they were told it is off).
func TestCancelledDraftStaysHidden(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newTown(t, e)
		draft := w.create(t, e, "秘密草稿")
		w.do(t, e, "cancelActivity", draft.ID)
		public := w.create(t, e, "已发布后取消")
		w.do(t, e, "publishActivity", public.ID)
		w.do(t, e, "cancelActivity", public.ID)

		for who, tc := range map[string]struct {
			token string
			want  []string
		}{
			"resident":    {w.resident, []string{public.ID}},
			"team leader": {w.leader, []string{draft.ID, public.ID}},
			"coordinator": {w.coord, []string{draft.ID, public.ID}},
		} {
			got := seen(t, e, w, tc.token, draft.ID, public.ID)
			for _, p := range paths {
				g := slices.Clone(got[p])
				slices.Sort(g)
				want := slices.Clone(tc.want)
				slices.Sort(want)
				if !slices.Equal(g, want) {
					t.Errorf("%s through %s sees %v, want %v", who, p, got[p], tc.want)
				}
			}
		}
	})
}

// Slots describe their activity (names, capacities, counts): a slot of an
// activity the viewer may not see is hidden too, by node(id:) and nodes.
func TestSlotsFollowTheirActivity(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newTown(t, e)
		draft := w.create(t, e, "草稿")
		cancelled := w.create(t, e, "取消的草稿")
		w.do(t, e, "cancelActivity", cancelled.ID)
		public := w.create(t, e, "公开")
		w.do(t, e, "publishActivity", public.ID)
		slotOf := func(a createdActivity) string { return a.Slots[0].ID }

		q := `query($id: ID!) { node(id: $id) { ... on Slot { id name capacity } } }`
		for who, tc := range map[string]struct {
			token   string
			visible map[string]bool
		}{
			"resident":    {w.resident, map[string]bool{slotOf(draft): false, slotOf(cancelled): false, slotOf(public): true}},
			"team leader": {w.leader, map[string]bool{slotOf(draft): true, slotOf(cancelled): true, slotOf(public): true}},
			"coordinator": {w.coord, map[string]bool{slotOf(draft): true, slotOf(cancelled): true, slotOf(public): true}},
		} {
			for sid, want := range tc.visible {
				res := e.Do(t, tc.token, q, map[string]any{"id": sid})
				var n struct{ Node *struct{ Name string } }
				_ = json.Unmarshal(res.Data, &n)
				if got := n.Node != nil; got != want {
					t.Errorf("%s node(slot %s): visible=%v, want %v (%s)", who, sid, got, want, res.Data)
				}
				if !want && res.Code() != "NOT_FOUND" {
					t.Errorf("%s node(hidden slot %s): code %q, want NOT_FOUND", who, sid, res.Code())
				}
			}
		}
		res := e.Do(t, w.resident, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Slot { id name } } }`,
			map[string]any{"ids": []string{slotOf(draft), slotOf(public)}})
		if want := fmt.Sprintf(`{"nodes":[null,{"id":"%s","name":"秘密座位"}]}`, slotOf(public)); string(res.Data) != want {
			t.Errorf("resident nodes(slots) = %s, want %s", res.Data, want)
		}

		// A sign-up's refusal does not tell a resident about a hidden
		// activity either: a cancelled draft's slot is no slot at all, a
		// published one that was called off says so.
		signUp := `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`
		e.Do(t, w.resident, signUp, map[string]any{"s": slotOf(cancelled)}).WantCode(t, "NOT_FOUND")
		e.Do(t, w.resident, signUp, map[string]any{"s": slotOf(draft)}).WantCode(t, "NOT_FOUND")
		e.Do(t, w.leader, signUp, map[string]any{"s": slotOf(cancelled)}).WantCode(t, "ACTIVITY_CANCELLED")
		e.Do(t, w.leader, signUp, map[string]any{"s": slotOf(draft)}).WantCode(t, "SIGNUP_NOT_OPEN")
		w.do(t, e, "cancelActivity", public.ID)
		e.Do(t, w.resident, signUp, map[string]any{"s": slotOf(public)}).WantCode(t, "ACTIVITY_CANCELLED")
	})
}

// The attack from issue 9: a resident recovered a draft's title letter by
// letter through where-inputs that traverse edges (hasTeamWith /
// hasVenueWith → hasActivitiesWith), which are SQL subqueries no privacy
// rule sees. A filter must answer the same whether or not a hidden
// activity matches it.
func TestFiltersDoNotRevealHiddenActivities(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newTown(t, e)
		w.create(t, e, "秘密草稿")
		cancelled := w.create(t, e, "机密计划")
		w.do(t, e, "cancelActivity", cancelled.ID)
		public := w.create(t, e, "公开讲座")
		w.do(t, e, "publishActivity", public.ID)

		for _, q := range []string{
			`query($p: String!) { activities(first: 10, where: {hasTeamWith: {hasActivitiesWith: {titleHasPrefix: $p}}}) { totalCount edges { node { id } } } }`,
			`query($p: String!) { activities(first: 10, where: {hasVenueWith: {hasActivitiesWith: {titleHasPrefix: $p}}}) { totalCount edges { node { id } } } }`,
			`query($p: String!) { activities(first: 10, where: {hasTeamWith: {hasActivitiesWith: {descriptionContains: $p}}}) { totalCount edges { node { id } } } }`,
		} {
			answer := func(prefix string) string {
				res := e.Do(t, w.resident, q, map[string]any{"p": prefix})
				return fmt.Sprintf("%s %v", res.Data, res.Code())
			}
			none := answer("无此标题")
			for _, probe := range []string{"秘", "秘密", "机", "机密计划"} {
				if got := answer(probe); got != none {
					t.Errorf("probe %q answers %s, but a non-matching one %s: the filter reveals a hidden activity\n%s", probe, got, none, q)
				}
			}
		}

		// Filters on the activity's own fields stay (API.md) and obey the read rule.
		var list struct {
			Activities struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		e.Do(t, w.resident, `{ activities(first: 10, where: {titleHasPrefix: "机", status: CANCELLED}) { totalCount edges { node { id } } } }`, nil).Decode(t, &list)
		if list.Activities.TotalCount != 0 {
			t.Errorf("resident filtered their way to a cancelled draft: %+v", list)
		}
		e.Do(t, w.resident, `{ activities(first: 10, where: {openForSignup: true, hasTeamWith: {name: "医疗健康服务队"}}) { totalCount edges { node { id } } } }`, nil).Decode(t, &list)
		if list.Activities.TotalCount != 1 || list.Activities.Edges[0].Node.ID != public.ID {
			t.Errorf("openForSignup and hasTeamWith{name}: %+v, want the published activity %s", list, public.ID)
		}
	})
}
