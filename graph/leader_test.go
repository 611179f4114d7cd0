package graph_test

import (
	"testing"
	"time"

	"linli/ent/teammembership"
	"linli/linlitest"
)

// A team leader runs the activities of the teams they lead (create, see the
// drafts, change with slots and capacities, publish, cancel) and nothing
// else: not another team's, not another community's, and not once they
// leave the team.
func TestTeamLeaderRunsOwnTeamActivities(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		leaderID := w.leaderAPerson.ID
		other, err := e.Client.Team.Create().SetCommunityID(w.a.ID).SetName("文化文艺队").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Client.TeamMembership.Create().SetCommunityID(w.a.ID).SetTeamID(w.teamA.ID).
			SetPersonID(leaderID).SetRole(teammembership.RoleLEADER).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}

		start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
		create := `mutation($in: CreateActivityInput!) { createActivity(input: $in, slots: [{name: "座位", capacity: 20}]) { id status slots { id capacity } } }`
		input := func(team *int) map[string]any {
			in := map[string]any{"title": "健康讲座", "category": "HALL", "serviceType": "HEALTH",
				"startsAt": start, "endsAt": start.Add(2 * time.Hour)}
			if team != nil {
				in["teamID"] = id(*team)
			}
			return map[string]any{"in": in}
		}
		type created struct {
			CreateActivity struct {
				ID, Status string
				Slots      []struct {
					ID       string
					Capacity int
				}
			}
		}

		// Only for a team they lead.
		var own created
		e.Do(t, w.leaderA, create, input(&w.teamA.ID)).Decode(t, &own)
		if own.CreateActivity.Status != "DRAFT" || len(own.CreateActivity.Slots) != 1 {
			t.Fatalf("leader's own activity: %+v", own)
		}
		e.Do(t, w.leaderA, create, input(&other.ID)).WantCode(t, "FORBIDDEN")
		e.Do(t, w.leaderA, create, input(nil)).WantCode(t, "FORBIDDEN")
		e.Do(t, w.leaderA, create, input(&w.teamB.ID)).WantCode(t, "FORBIDDEN")

		// The coordinator's draft for the other team stays hidden from the
		// leader; the leader's own draft is visible to them, not to residents.
		var theirs created
		e.Do(t, w.coordA, create, input(&other.ID)).Decode(t, &theirs)
		node := `query($id: ID!) { node(id: $id) { ... on Activity { title status } } }`
		visible := func(token, activityID string) bool {
			res := e.Do(t, token, node, map[string]any{"id": activityID})
			if res.Code() == "NOT_FOUND" {
				return false
			}
			var got struct{ Node *struct{ Title string } }
			res.Decode(t, &got)
			return got.Node != nil
		}
		if !visible(w.leaderA, own.CreateActivity.ID) || visible(w.resA, own.CreateActivity.ID) || visible(w.leaderA, theirs.CreateActivity.ID) {
			t.Errorf("draft visibility: leader sees own %v, resident sees it %v, leader sees other team's %v",
				visible(w.leaderA, own.CreateActivity.ID), visible(w.resA, own.CreateActivity.ID), visible(w.leaderA, theirs.CreateActivity.ID))
		}
		var list struct {
			Activities struct{ TotalCount int }
		}
		e.Do(t, w.leaderA, `{ activities(first: 10, where: {status: DRAFT}) { totalCount } }`, nil).Decode(t, &list)
		if list.Activities.TotalCount != 1 {
			t.Errorf("leader lists %d drafts, want their own 1", list.Activities.TotalCount)
		}

		// Change their own: title, a new slot, a capacity.
		update := `mutation($id: ID!, $in: UpdateActivityInput!, $slots: [SlotInput!]) { updateActivity(id: $id, input: $in, slots: $slots) { title slots { name capacity } } }`
		var upd struct {
			UpdateActivity struct {
				Title string
				Slots []struct {
					Name     string
					Capacity int
				}
			}
		}
		e.Do(t, w.leaderA, update, map[string]any{"id": own.CreateActivity.ID, "in": map[string]any{"title": "健康讲座（改）"},
			"slots": []any{
				map[string]any{"id": own.CreateActivity.Slots[0].ID, "name": "座位", "capacity": 30},
				map[string]any{"name": "引导员", "kind": "VOLUNTEER", "capacity": 2},
			}}).Decode(t, &upd)
		if upd.UpdateActivity.Title != "健康讲座（改）" || len(upd.UpdateActivity.Slots) != 2 {
			t.Fatalf("leader's update: %+v", upd)
		}
		for _, s := range upd.UpdateActivity.Slots {
			if s.Name == "座位" && s.Capacity != 30 {
				t.Errorf("capacity change: %+v", upd.UpdateActivity.Slots)
			}
		}
		// …but not hand it to a team they do not lead.
		e.Do(t, w.leaderA, update, map[string]any{"id": own.CreateActivity.ID, "in": map[string]any{"teamID": id(other.ID)}}).WantCode(t, "FORBIDDEN")
		e.Do(t, w.leaderA, update, map[string]any{"id": own.CreateActivity.ID, "in": map[string]any{"clearTeam": true}}).WantCode(t, "FORBIDDEN")

		publish := `mutation($id: ID!) { publishActivity(id: $id) { status } }`
		var pub struct{ PublishActivity struct{ Status string } }
		e.Do(t, w.leaderA, publish, map[string]any{"id": own.CreateActivity.ID}).Decode(t, &pub)
		if pub.PublishActivity.Status != "PUBLISHED" {
			t.Errorf("leader's publish: %+v", pub)
		}

		// Another team's activity, published so the leader can see it: no
		// change of any kind.
		e.Do(t, w.coordA, publish, map[string]any{"id": theirs.CreateActivity.ID}).Decode(t, &pub)
		for name, q := range map[string]struct {
			query string
			vars  map[string]any
		}{
			"update":   {update, map[string]any{"id": theirs.CreateActivity.ID, "in": map[string]any{"title": "hijacked"}}},
			"add slot": {update, map[string]any{"id": theirs.CreateActivity.ID, "in": map[string]any{}, "slots": []any{map[string]any{"name": "x", "capacity": 1}}}},
			"capacity": {`mutation($s: ID!) { setSlotCapacity(slotID: $s, capacity: 99) { capacity } }`, map[string]any{"s": theirs.CreateActivity.Slots[0].ID}},
			"cancel":   {`mutation($id: ID!) { cancelActivity(id: $id) { status } }`, map[string]any{"id": theirs.CreateActivity.ID}},
			"B update": {update, map[string]any{"id": id(w.actB.ID), "in": map[string]any{"title": "hijacked"}}},
			"B slot":   {`mutation($s: ID!) { setSlotCapacity(slotID: $s, capacity: 99) { capacity } }`, map[string]any{"s": id(w.slotB.ID)}},
		} {
			res := e.Do(t, w.leaderA, q.query, q.vars)
			switch res.Code() {
			case "FORBIDDEN", "NOT_FOUND":
			default:
				t.Errorf("leader %s on another team's activity: code %q, data %s", name, res.Code(), res.Data)
			}
		}
		a, err := e.Client.Activity.Get(e.Sys(), atoi(t, theirs.CreateActivity.ID))
		if err != nil || a.Title != "健康讲座" || a.Status != "PUBLISHED" {
			t.Errorf("the other team's activity changed: %+v %v", a, err)
		}
		if n, _ := a.QuerySlots().Count(e.Sys()); n != 1 {
			t.Errorf("the other team's activity has %d slots, want 1", n)
		}
		if sl, _ := e.Client.Slot.Get(e.Sys(), atoi(t, theirs.CreateActivity.Slots[0].ID)); sl == nil || sl.Capacity != 20 {
			t.Errorf("the other team's slot changed: %+v", sl)
		}
		if sb, _ := e.Client.Slot.Get(e.Sys(), w.slotB.ID); sb.Capacity != w.slotB.Capacity {
			t.Errorf("community B's slot changed: %d", sb.Capacity)
		}

		// Leaving the team ends it on the next request.
		var removed struct{ RemoveTeamMember bool }
		e.Do(t, w.coordA, `mutation($t: ID!, $p: ID!) { removeTeamMember(teamID: $t, personID: $p) }`,
			map[string]any{"t": id(w.teamA.ID), "p": id(leaderID)}).Decode(t, &removed)
		if !removed.RemoveTeamMember {
			t.Fatal("removeTeamMember did nothing")
		}
		e.Do(t, w.leaderA, `mutation($id: ID!) { cancelActivity(id: $id) { status } }`,
			map[string]any{"id": own.CreateActivity.ID}).WantCode(t, "FORBIDDEN")
		e.Do(t, w.leaderA, create, input(&w.teamA.ID)).WantCode(t, "FORBIDDEN")
	})
}
