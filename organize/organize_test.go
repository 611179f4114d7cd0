package organize_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

const (
	createActivity = `mutation($in: CreateActivityInput!, $slots: [SlotInput!]!) {
		createActivity(input: $in, slots: $slots) { id status title slots { id name capacity } } }`
	updateActivity = `mutation($id: ID!, $in: UpdateActivityInput!, $slots: [SlotInput!]) {
		updateActivity(id: $id, input: $in, slots: $slots) { id status title slots { id name capacity taken waitlisted } } }`
	publishActivity = `mutation($id: ID!) { publishActivity(id: $id) { id status } }`
	cancelActivity  = `mutation($id: ID!, $reason: String) { cancelActivity(id: $id, reason: $reason) { id status } }`
	signUp          = `mutation($slot: ID!) { signUp(input: {slotID: $slot}) { outcome registration { id } } }`
)

// gotActivity is what the mutations above answer.
type gotActivity struct {
	ID     string
	Status string
	Title  string
	Slots  []struct {
		ID                          string
		Name                        string
		Capacity, Taken, Waitlisted int
	}
}

func activityInput(start time.Time, change func(map[string]any)) map[string]any {
	in := map[string]any{"title": "健康义诊", "category": "HALL", "serviceType": "CULTURE",
		"startsAt": start, "endsAt": start.Add(3 * time.Hour)}
	if change != nil {
		change(in)
	}
	return in
}

func soon() time.Time { return time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second) }

// create creates an activity as token and returns it.
func create(t *testing.T, e *linlitest.Env, token string, in map[string]any, slots ...map[string]any) gotActivity {
	t.Helper()
	if len(slots) == 0 {
		slots = []map[string]any{{"name": "座位", "capacity": 10}}
	}
	var out struct{ CreateActivity gotActivity }
	e.Do(t, token, createActivity, map[string]any{"in": in, "slots": slots}).Decode(t, &out)
	return out.CreateActivity
}

func stored(t *testing.T, e *linlitest.Env, id string) (*ent.Activity, []*ent.Slot) {
	t.Helper()
	a, err := e.Client.Activity.Get(e.Sys(), e.IntID(t, id))
	if err != nil {
		t.Fatal(err)
	}
	slots, err := a.QuerySlots().Order(ent.Asc(slot.FieldID)).All(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return a, slots
}

// An activity's life as staff run it, through the API: created as a draft
// with its slots, changed (a slot added, one renamed), published (again is
// a no-op), signed up for, cancelled with a reason (which cancels every
// registration in it; again is a no-op), and then closed to change.
func TestActivityLifecycle(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "居民")

		a := create(t, e, coord, activityInput(soon(), nil), map[string]any{"name": "上午", "capacity": 5})
		if a.Status != "DRAFT" || len(a.Slots) != 1 || a.Slots[0].Capacity != 5 {
			t.Fatalf("created %+v, want a DRAFT with one slot of 5", a)
		}
		var up struct{ UpdateActivity gotActivity }
		e.Do(t, coord, updateActivity, map[string]any{"id": a.ID, "in": map[string]any{"title": "夏季义诊"},
			"slots": []map[string]any{{"id": a.Slots[0].ID, "name": "上午场", "capacity": 5}, {"name": "下午场", "capacity": 8}}}).Decode(t, &up)
		if got := up.UpdateActivity; got.Title != "夏季义诊" || len(got.Slots) != 2 || got.Slots[0].Name != "上午场" || got.Slots[1].Capacity != 8 {
			t.Fatalf("updated %+v", got)
		}
		// A draft takes no sign-ups.
		if res := e.Do(t, resident, signUp, map[string]any{"slot": a.Slots[0].ID}); res.Code() == "" {
			t.Fatalf("signed up for a draft: %s", res.Data)
		}
		for range 2 {
			var pub struct{ PublishActivity gotActivity }
			e.Do(t, coord, publishActivity, map[string]any{"id": a.ID}).Decode(t, &pub)
			if pub.PublishActivity.Status != "PUBLISHED" {
				t.Fatalf("published: %+v", pub.PublishActivity)
			}
		}
		var su struct{ SignUp struct{ Outcome string } }
		e.Do(t, resident, signUp, map[string]any{"slot": a.Slots[0].ID}).Decode(t, &su)
		if su.SignUp.Outcome != "CONFIRMED" {
			t.Fatalf("sign-up: %+v", su)
		}

		for range 2 {
			var cancelled struct{ CancelActivity gotActivity }
			e.Do(t, coord, cancelActivity, map[string]any{"id": a.ID, "reason": "暴雨预警"}).Decode(t, &cancelled)
			if cancelled.CancelActivity.Status != "CANCELLED" {
				t.Fatalf("cancelled: %+v", cancelled.CancelActivity)
			}
		}
		regs, err := e.Client.Registration.Query().Where(registration.HasSlotWith(slot.ActivityID(e.IntID(t, a.ID)))).All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if len(regs) != 1 || regs[0].Status != registration.StatusCANCELLED {
			t.Fatalf("registrations after cancelling the activity: %+v", regs)
		}
		_, slots := stored(t, e, a.ID)
		if slots[0].Taken != 0 {
			t.Errorf("%d seats still taken in a cancelled activity", slots[0].Taken)
		}
		e.Do(t, coord, updateActivity, map[string]any{"id": a.ID, "in": map[string]any{"title": "又改"}}).WantCode(t, "CONFLICT")
		e.Do(t, coord, publishActivity, map[string]any{"id": a.ID}).WantCode(t, "CONFLICT")
		if got, _ := stored(t, e, a.ID); got.Title != "夏季义诊" || got.Status != activity.StatusCANCELLED {
			t.Errorf("after refused changes: %q %s", got.Title, got.Status)
		}
	})
}

// updateActivity is one transaction: a capacity the ledger refuses (below
// the seats taken) leaves the title, the other slots and the new slot
// unsaved; a capacity it accepts is saved with the rest and promotes from
// the waitlist.
func TestUpdateActivityIsOneTransaction(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		a := create(t, e, coord, activityInput(soon(), nil),
			map[string]any{"name": "讲座", "capacity": 2}, map[string]any{"name": "志愿者", "kind": "VOLUNTEER", "capacity": 3})
		e.Do(t, coord, publishActivity, map[string]any{"id": a.ID}).Decode(t, &struct{}{})
		var outcomes []string
		for _, name := range []string{"居民甲", "居民乙", "居民丙"} {
			_, tok := e.Person(t, c.ID, name)
			var su struct{ SignUp struct{ Outcome string } }
			e.Do(t, tok, signUp, map[string]any{"slot": a.Slots[0].ID}).Decode(t, &su)
			outcomes = append(outcomes, su.SignUp.Outcome)
		}
		if outcomes[2] != "WAITLISTED" {
			t.Fatalf("outcomes %v, want the third waitlisted", outcomes)
		}

		change := func(capacity int) map[string]any {
			return map[string]any{"id": a.ID, "in": map[string]any{"title": "改过的标题"}, "slots": []map[string]any{
				{"id": a.Slots[1].ID, "name": "志愿者（改）", "kind": "VOLUNTEER", "capacity": 4},
				{"id": a.Slots[0].ID, "name": "讲座", "capacity": capacity},
				{"name": "新增场次", "capacity": 6},
			}}
		}
		res := e.Do(t, coord, updateActivity, change(1))
		if res.Code() != "VALIDATION_FAILED" || res.Field() != "slots[1].capacity" {
			t.Errorf("capacity 1 under 2 taken: %q on %q, want VALIDATION_FAILED on slots[1].capacity (%+v)", res.Code(), res.Field(), res.Errors)
		}
		got, slots := stored(t, e, a.ID)
		if got.Title != "健康义诊" || len(slots) != 2 || slots[0].Capacity != 2 || slots[1].Name != "志愿者" || slots[1].Capacity != 3 {
			t.Fatalf("the refused update saved something: title %q, %d slots, capacities %d %d, name %q",
				got.Title, len(slots), slots[0].Capacity, slots[len(slots)-1].Capacity, slots[1].Name)
		}

		var up struct{ UpdateActivity gotActivity }
		e.Do(t, coord, updateActivity, change(3)).Decode(t, &up)
		got, slots = stored(t, e, a.ID)
		if got.Title != "改过的标题" || len(slots) != 3 || slots[0].Capacity != 3 || slots[1].Capacity != 4 || slots[2].Name != "新增场次" {
			t.Fatalf("the accepted update: title %q, slots %+v", got.Title, slots)
		}
		if slots[0].Taken != 3 || slots[0].Waitlisted != 0 {
			t.Errorf("after raising the capacity to 3: taken %d, waitlisted %d; want the waiting resident promoted", slots[0].Taken, slots[0].Waitlisted)
		}
	})
}

// Who may run activities, teams and people, and the codes of every
// refusal: anonymous UNAUTHENTICATED; residents and volunteers FORBIDDEN;
// a team leader only for the teams they lead; bad input VALIDATION_FAILED
// naming the field; a change the activity's state forbids CONFLICT.
func TestOrganizeRefusals(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "居民")
		_, volunteer := e.Person(t, c.ID, "志愿者", viewer.Volunteer)
		leader, leaderToken := e.Person(t, c.ID, "队长", viewer.TeamLeader)
		other := e.Community(t, "红旗社区")
		_, otherCoord := e.Person(t, other.ID, "别的社工", viewer.Coordinator)
		stranger, _ := e.Person(t, other.ID, "别的居民")

		var teams struct{ A, B struct{ ID string } }
		e.Do(t, coord, `mutation { a: createTeam(input: {name: "医疗队"}) { id } b: createTeam(input: {name: "文艺队"}) { id } }`, nil).Decode(t, &teams)
		e.Do(t, coord, `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p, role: LEADER) { id } }`,
			map[string]any{"t": teams.A.ID, "p": e.ID(leader.ID)}).Decode(t, &struct{}{})
		ofTeam := func(team string) map[string]any {
			return activityInput(soon(), func(m map[string]any) { m["teamID"] = team })
		}
		seat := []map[string]any{{"name": "座位", "capacity": 10}}
		mine := create(t, e, leaderToken, ofTeam(teams.A.ID))
		theirs := create(t, e, coord, ofTeam(teams.B.ID))
		e.Do(t, coord, publishActivity, map[string]any{"id": theirs.ID}).Decode(t, &struct{}{})
		// Another team's draft is not even visible to a leader.
		theirDraft := create(t, e, coord, ofTeam(teams.B.ID))

		for _, tc := range []struct {
			name, token, query string
			vars               map[string]any
			code, field        string
		}{
			{"anonymous creates", "", createActivity, map[string]any{"in": activityInput(soon(), nil), "slots": seat}, "UNAUTHENTICATED", ""},
			{"resident creates", resident, createActivity, map[string]any{"in": activityInput(soon(), nil), "slots": seat}, "FORBIDDEN", ""},
			{"volunteer creates", volunteer, createActivity, map[string]any{"in": activityInput(soon(), nil), "slots": seat}, "FORBIDDEN", ""},
			{"leader creates for another team", leaderToken, createActivity, map[string]any{"in": ofTeam(teams.B.ID), "slots": seat}, "FORBIDDEN", ""},
			{"leader creates for no team", leaderToken, createActivity, map[string]any{"in": activityInput(soon(), nil), "slots": seat}, "FORBIDDEN", ""},
			{"leader changes another team's activity", leaderToken, updateActivity, map[string]any{"id": theirs.ID, "in": map[string]any{"title": "x"}}, "FORBIDDEN", ""},
			{"leader moves their activity to another team", leaderToken, updateActivity, map[string]any{"id": mine.ID, "in": map[string]any{"teamID": teams.B.ID}}, "FORBIDDEN", ""},
			{"leader publishes another team's draft", leaderToken, publishActivity, map[string]any{"id": theirDraft.ID}, "NOT_FOUND", ""},
			{"leader changes another team's draft", leaderToken, updateActivity, map[string]any{"id": theirDraft.ID, "in": map[string]any{"title": "x"}}, "NOT_FOUND", ""},
			{"leader cancels another team's activity", leaderToken, cancelActivity, map[string]any{"id": theirs.ID}, "FORBIDDEN", ""},
			{"another community's coordinator changes it", otherCoord, updateActivity, map[string]any{"id": theirs.ID, "in": map[string]any{"title": "x"}}, "NOT_FOUND", ""},
			{"resident creates a team", resident, `mutation { createTeam(input: {name: "新队"}) { id } }`, nil, "FORBIDDEN", ""},
			{"leader creates a team", leaderToken, `mutation { createTeam(input: {name: "新队"}) { id } }`, nil, "FORBIDDEN", ""},
			{"a team's name twice", coord, `mutation { createTeam(input: {name: "医疗队"}) { id } }`, nil, "CONFLICT", "name"},
			{"a team without a name", coord, `mutation { createTeam(input: {name: "  "}) { id } }`, nil, "VALIDATION_FAILED", "name"},
			{"a venue's name twice", coord, `mutation { a: createVenue(input: {name: "活动室"}) { id } b: createVenue(input: {name: "活动室"}) { id } }`, nil, "CONFLICT", "name"},
			{"resident sets roles", resident, `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { id } }`, map[string]any{"p": e.ID(leader.ID)}, "FORBIDDEN", ""},
			{"coordinator grants ADMIN", coord, `mutation($p: ID!) { setRoles(personID: $p, roles: [ADMIN]) { id } }`, map[string]any{"p": e.ID(leader.ID)}, "FORBIDDEN", ""},
			{"a member from another community", coord, `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p) { id } }`,
				map[string]any{"t": teams.A.ID, "p": e.ID(stranger.ID)}, "VALIDATION_FAILED", "personID"},
			{"an empty title", coord, createActivity, map[string]any{"in": activityInput(soon(), func(m map[string]any) { m["title"] = " " }), "slots": seat}, "VALIDATION_FAILED", "title"},
			{"no slots", coord, createActivity, map[string]any{"in": activityInput(soon(), nil), "slots": []map[string]any{}}, "VALIDATION_FAILED", "slots"},
			{"a new slot with an id", coord, createActivity, map[string]any{"in": activityInput(soon(), nil),
				"slots": []map[string]any{{"id": theirs.Slots[0].ID, "name": "座位", "capacity": 1}}}, "VALIDATION_FAILED", "slots[0].id"},
			{"a negative capacity", coord, createActivity, map[string]any{"in": activityInput(soon(), nil),
				"slots": []map[string]any{{"name": "座位", "capacity": -1}}}, "VALIDATION_FAILED", "slots[0].capacity"},
			{"no seats per sign-up", coord, createActivity, map[string]any{"in": activityInput(soon(), nil),
				"slots": []map[string]any{{"name": "座位", "capacity": 3, "maxSeatsPerSignup": 0}}}, "VALIDATION_FAILED", "slots[0].maxSeatsPerSignup"},
			{"a slot without a name", coord, createActivity, map[string]any{"in": activityInput(soon(), nil),
				"slots": []map[string]any{{"name": "", "capacity": 3}}}, "VALIDATION_FAILED", "slots[0].name"},
			{"check-in opening a day and a minute early", coord, createActivity, map[string]any{"in": activityInput(soon(), func(m map[string]any) { m["checkinOpensMinutes"] = 24*60 + 1 }),
				"slots": seat}, "VALIDATION_FAILED", "checkinOpensMinutes"},
			{"an activity of 32 days", coord, createActivity, map[string]any{"in": activityInput(soon(), func(m map[string]any) { m["endsAt"] = soon().Add(32 * 24 * time.Hour) }),
				"slots": seat}, "VALIDATION_FAILED", "endsAt"},
			{"sign-up closing after the end", coord, createActivity, map[string]any{"in": activityInput(soon(), func(m map[string]any) { m["signupClosesAt"] = soon().Add(4 * time.Hour) }),
				"slots": seat}, "VALIDATION_FAILED", "signupClosesAt"},
			{"a team of another community", otherCoord, createActivity, map[string]any{"in": ofTeam(teams.A.ID), "slots": seat}, "VALIDATION_FAILED", "teamID"},
			{"a slot of another activity", coord, updateActivity, map[string]any{"id": theirs.ID, "in": map[string]any{},
				"slots": []map[string]any{{"id": mine.Slots[0].ID, "name": "座位", "capacity": 10}}}, "VALIDATION_FAILED", "slots[0].id"},
		} {
			res := e.Do(t, tc.token, tc.query, tc.vars)
			if res.Code() != tc.code || res.Field() != tc.field {
				t.Errorf("%s: %q on %q, want %s on %q (%+v)", tc.name, res.Code(), res.Field(), tc.code, tc.field, res.Errors)
			}
		}
		// The leader runs their own team's activity.
		e.Do(t, leaderToken, updateActivity, map[string]any{"id": mine.ID, "in": map[string]any{"title": "队里的活动"}}).Decode(t, &struct{}{})
		e.Do(t, leaderToken, publishActivity, map[string]any{"id": mine.ID}).Decode(t, &struct{}{})
		if got, _ := stored(t, e, theirs.ID); got.Title != "健康义诊" || got.Status != activity.StatusPUBLISHED {
			t.Errorf("the refused changes touched the other team's activity: %q %s", got.Title, got.Status)
		}
	})
}

// The kind of a slot someone signed up for cannot change (a seat would
// become a volunteer position); a slot nobody took can.
func TestSlotKindFixedOnceTaken(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "居民")
		a := create(t, e, coord, activityInput(soon(), nil), map[string]any{"name": "座位", "capacity": 5}, map[string]any{"name": "空", "capacity": 5})
		e.Do(t, coord, publishActivity, map[string]any{"id": a.ID}).Decode(t, &struct{}{})
		e.Do(t, resident, signUp, map[string]any{"slot": a.Slots[0].ID}).Decode(t, &struct{}{})
		res := e.Do(t, coord, updateActivity, map[string]any{"id": a.ID, "in": map[string]any{}, "slots": []map[string]any{
			{"id": a.Slots[1].ID, "name": "空", "kind": "VOLUNTEER", "capacity": 5},
			{"id": a.Slots[0].ID, "name": "座位", "kind": "VOLUNTEER", "capacity": 5}}})
		if res.Code() != "VALIDATION_FAILED" || res.Field() != "slots[1].kind" {
			t.Fatalf("kind of a taken slot: %q on %q", res.Code(), res.Field())
		}
		if _, slots := stored(t, e, a.ID); slots[1].Kind != slot.KindATTENDEE {
			t.Errorf("the refused update changed the free slot's kind to %s", slots[1].Kind)
		}
		e.Do(t, coord, updateActivity, map[string]any{"id": a.ID, "in": map[string]any{}, "slots": []map[string]any{
			{"id": a.Slots[1].ID, "name": "空", "kind": "VOLUNTEER", "capacity": 5}}}).Decode(t, &struct{}{})
		if _, slots := stored(t, e, a.ID); slots[1].Kind != slot.KindVOLUNTEER {
			t.Errorf("the free slot's kind is %s", slots[1].Kind)
		}
	})
}

// Team membership and roles take effect at once, on the very tokens people
// hold: a person made a team's leader may run its activities on their next
// request; taken out of the team, they may not; setRoles keeps RESIDENT,
// and VOLUNTEER gives a volunteer profile.
func TestTeamMembershipAndRoles(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		p, token := e.Person(t, c.ID, "方志远")
		var team struct{ CreateTeam struct{ ID string } }
		e.Do(t, coord, `mutation { createTeam(input: {name: "医疗健康服务队"}) { id } }`, nil).Decode(t, &team)
		teamID := team.CreateTeam.ID
		in := activityInput(soon(), func(m map[string]any) { m["teamID"] = teamID })
		seat := []map[string]any{{"name": "座位", "capacity": 10}}
		e.Do(t, token, createActivity, map[string]any{"in": in, "slots": seat}).WantCode(t, "FORBIDDEN")

		setMember := `mutation($t: ID!, $p: ID!, $r: TeamRole) { setTeamMember(teamID: $t, personID: $p, role: $r) { role } }`
		var m struct{ SetTeamMember struct{ Role string } }
		e.Do(t, coord, setMember, map[string]any{"t": teamID, "p": e.ID(p.ID), "r": "MEMBER"}).Decode(t, &m)
		e.Do(t, coord, setMember, map[string]any{"t": teamID, "p": e.ID(p.ID), "r": "LEADER"}).Decode(t, &m)
		if m.SetTeamMember.Role != "LEADER" {
			t.Fatalf("role %q", m.SetTeamMember.Role)
		}
		n, err := e.Client.TeamMembership.Query().Count(e.Sys())
		if err != nil || n != 1 {
			t.Fatalf("%d memberships (%v), want the one changed in place", n, err)
		}
		a := create(t, e, token, in)

		var removed struct{ RemoveTeamMember bool }
		remove := `mutation($t: ID!, $p: ID!) { removeTeamMember(teamID: $t, personID: $p) }`
		e.Do(t, coord, remove, map[string]any{"t": teamID, "p": e.ID(p.ID)}).Decode(t, &removed)
		if !removed.RemoveTeamMember {
			t.Fatal("removeTeamMember answered false")
		}
		e.Do(t, token, publishActivity, map[string]any{"id": a.ID}).WantCode(t, "FORBIDDEN")
		e.Do(t, coord, remove, map[string]any{"t": teamID, "p": e.ID(p.ID)}).Decode(t, &removed)
		if removed.RemoveTeamMember {
			t.Error("removing a non-member answered true")
		}

		var roles struct{ SetRoles struct{ Roles []string } }
		e.Do(t, coord, `mutation($p: ID!) { setRoles(personID: $p, roles: [VOLUNTEER, VOLUNTEER]) { roles } }`, map[string]any{"p": e.ID(p.ID)}).Decode(t, &roles)
		if len(roles.SetRoles.Roles) != 2 || roles.SetRoles.Roles[0] != "RESIDENT" || roles.SetRoles.Roles[1] != "VOLUNTEER" {
			t.Errorf("roles %v, want RESIDENT and VOLUNTEER once", roles.SetRoles.Roles)
		}
		if has, err := e.Client.VolunteerProfile.Query().Count(e.Sys()); err != nil || has != 1 {
			t.Errorf("%d volunteer profiles (%v), want 1", has, err)
		}
		// Made coordinator, the same token may create a team.
		e.Do(t, coord, `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { id } }`, map[string]any{"p": e.ID(p.ID)}).Decode(t, &struct{}{})
		e.Do(t, token, `mutation { createTeam(input: {name: "新队"}) { id } }`, nil).Decode(t, &struct{}{})
	})
}

// Capacity changes in updateActivity and sign-ups racing on one slot: each
// update is saved whole or refused whole, lowering below the seats taken at
// that moment is refused with VALIDATION_FAILED, and afterwards the slot's
// counters are exactly its registrations' seats, with no seat oversold.
func TestUpdateActivityRacesSignUps(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		a := create(t, e, coord, activityInput(soon(), nil), map[string]any{"name": "广场演出", "capacity": 12})
		e.Do(t, coord, publishActivity, map[string]any{"id": a.ID}).Decode(t, &struct{}{})
		_, tokens := e.People(t, c.ID, 30, "居民")
		hc := linlitest.ConcurrentClient(16)
		url := e.Server.URL + "/graphql"

		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for _, tok := range tokens {
			wg.Go(func() {
				res := linlitest.Post(t, hc, url, tok, signUp, map[string]any{"slot": a.Slots[0].ID})
				if len(res.Errors) > 0 {
					errs <- fmt.Sprintf("sign-up: %+v", res.Errors)
				}
			})
		}
		applied := map[int]int{}
		var mu sync.Mutex
		for i, capacity := range []int{6, 20, 8, 25, 10, 30} {
			wg.Go(func() {
				title := fmt.Sprintf("第%d次修改", i)
				res := linlitest.Post(t, hc, url, coord, updateActivity, map[string]any{"id": a.ID, "in": map[string]any{"title": title},
					"slots": []map[string]any{{"id": a.Slots[0].ID, "name": "广场演出", "capacity": capacity}}})
				switch {
				case len(res.Errors) == 0:
					mu.Lock()
					applied[i] = capacity
					mu.Unlock()
				case res.Code() != "VALIDATION_FAILED" || res.Field() != "slots[0].capacity":
					errs <- fmt.Sprintf("update to %d: %+v", capacity, res.Errors)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		got, slots := stored(t, e, a.ID)
		s := slots[0]
		regs, err := e.Client.Registration.Query().Where(registration.SlotID(s.ID)).All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		var taken, waiting int
		for _, r := range regs {
			switch r.Status {
			case registration.StatusCONFIRMED:
				taken += r.Seats
			case registration.StatusWAITLISTED:
				waiting += r.Seats
			}
		}
		if s.Taken != taken || s.Waitlisted != waiting || s.Taken > s.Capacity || taken+waiting != len(tokens) {
			t.Errorf("slot taken %d waitlisted %d capacity %d; registrations hold %d confirmed and %d waiting of %d",
				s.Taken, s.Waitlisted, s.Capacity, taken, waiting, len(tokens))
		}
		if waiting > 0 && s.Taken < s.Capacity {
			t.Errorf("%d wait while %d of %d seats are taken", waiting, s.Taken, s.Capacity)
		}
		// The activity's title is that of an update that was saved, with
		// the capacity it set, or the original when none was.
		if len(applied) == 0 {
			if got.Title != "健康义诊" || s.Capacity != 12 {
				t.Errorf("no update was saved, yet the title is %q and the capacity %d", got.Title, s.Capacity)
			}
			return
		}
		var i int
		if _, err := fmt.Sscanf(got.Title, "第%d次修改", &i); err != nil || applied[i] != s.Capacity {
			t.Errorf("title %q and capacity %d do not come from one saved update (saved: %v)", got.Title, s.Capacity, applied)
		}
	})
}
