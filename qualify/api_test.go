package qualify_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/qualify"
	"linli/viewer"
)

const signUpQuery = `mutation($in: SignUpInput!) { signUp(input: $in) { outcome registration { id } } }`

type world struct {
	e     *linlitest.Env
	c     *ent.Community
	staff string
}

func (w *world) do(t *testing.T, token, q string, vars map[string]any, out any) {
	t.Helper()
	w.e.Do(t, token, q, vars).Decode(t, out)
}

func (w *world) kind(t *testing.T, name string) int {
	t.Helper()
	var out struct{ CreateQualificationKind struct{ ID linlitest.RowID } }
	w.do(t, w.staff, `mutation($c: ID!, $n: String!) { createQualificationKind(communityID: $c, name: $n) { id } }`,
		map[string]any{"c": w.e.ID(w.c.ID), "n": name}, &out)
	return out.CreateQualificationKind.ID.Int()
}

func (w *world) record(t *testing.T, personID, kindID int, expiresOn string) int {
	t.Helper()
	var out struct{ RecordQualification struct{ ID linlitest.RowID } }
	w.do(t, w.staff, `mutation($in: RecordQualificationInput!) { recordQualification(input: $in) { id expiresOn evidenceRef } }`,
		map[string]any{"in": map[string]any{"personID": w.e.ID(personID), "kindID": w.e.ID(kindID), "expiresOn": expiresOn,
			"evidenceRef": "110341234567890"}}, &out)
	return out.RecordQualification.ID.Int()
}

func (w *world) require(t *testing.T, slotID int, kinds []int, limit *int) {
	t.Helper()
	ids := []string{}
	for _, k := range kinds {
		ids = append(ids, w.e.ID(k))
	}
	var out struct{ SetSlotRequirements struct{ ID string } }
	w.do(t, w.staff, `mutation($s: ID!, $in: SlotRequirementsInput!) { setSlotRequirements(slotID: $s, input: $in) { id noShowLimit requiredQualifications { id name } } }`,
		map[string]any{"s": w.e.ID(slotID), "in": map[string]any{"qualificationKindIDs": ids, "noShowLimit": limit}}, &out)
}

func (w *world) signUp(t *testing.T, token string, slotID int) (string, int, string) {
	t.Helper()
	res := w.e.Do(t, token, signUpQuery, map[string]any{"in": map[string]any{"slotID": w.e.ID(slotID)}})
	if code := res.Code(); code != "" {
		return "", 0, code
	}
	var out struct {
		SignUp struct {
			Outcome      string
			Registration struct{ ID linlitest.RowID }
		}
	}
	res.Decode(t, &out)
	return out.SignUp.Outcome, out.SignUp.Registration.ID.Int(), ""
}

func newWorld(t *testing.T, e *linlitest.Env) *world {
	c := e.Community(t, "前进社区")
	_, staff := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
	return &world{e: e, c: c, staff: staff}
}

func day(d int) string { return cst.Date(time.Now().AddDate(0, 0, d)) }

// A slot that requires a qualification refuses a volunteer without it
// (NOT_QUALIFIED), takes them once staff entered it, and refuses again
// once it expired; approval checks it again at its moment.
func TestQualificationGatesSignUp(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		doctorKind := w.kind(t, "执业医师")
		firstAid := w.kind(t, "急救")
		vol, volTok := e.Person(t, w.c.ID, "吴小雨", viewer.Volunteer)
		_, slots := e.Activity(t, w.c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "医生", Kind: slot.KindVOLUNTEER, Capacity: 2},
			{Name: "急救员", Kind: slot.KindVOLUNTEER, Capacity: 2, RequiresApproval: true},
		}})
		doctor, medic := slots[0].ID, slots[1].ID
		w.require(t, doctor, []int{doctorKind, firstAid}, nil)
		w.require(t, medic, []int{firstAid}, nil)

		if _, _, code := w.signUp(t, volTok, doctor); code != "NOT_QUALIFIED" {
			t.Fatalf("unqualified sign-up: %q, want NOT_QUALIFIED", code)
		}
		// One of the two is not enough: all are required.
		w.record(t, vol.ID, doctorKind, day(1))
		res := e.Do(t, volTok, signUpQuery, map[string]any{"in": map[string]any{"slotID": e.ID(doctor)}})
		res.WantCode(t, "NOT_QUALIFIED")
		if err := res.Err(); err == nil || !strings.Contains(err.Error(), "急救") || strings.Contains(err.Error(), "执业医师") {
			t.Fatalf("refusal should name the missing kind only: %v", err)
		}
		// In force through its expiry date (today, China time).
		w.record(t, vol.ID, firstAid, day(0))
		outcome, regID, code := w.signUp(t, volTok, doctor)
		if code != "" || outcome != "CONFIRMED" {
			t.Fatalf("qualified sign-up: %q %q", outcome, code)
		}
		e.Do(t, volTok, `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`, map[string]any{"r": e.ID(regID)})

		// Expired (its last day was yesterday): refused again.
		w.record(t, vol.ID, doctorKind, day(-1))
		if _, _, code := w.signUp(t, volTok, doctor); code != "NOT_QUALIFIED" {
			t.Fatalf("sign-up after expiry: %q, want NOT_QUALIFIED", code)
		}
		var mine struct {
			MyQualifications []struct {
				ExpiresOn string
				InForce   bool
				Kind      struct{ Name string }
			}
		}
		w.do(t, volTok, `{ myQualifications { expiresOn inForce kind { name } } }`, nil, &mine)
		if len(mine.MyQualifications) != 2 || mine.MyQualifications[0].InForce || !mine.MyQualifications[1].InForce {
			t.Fatalf("my qualifications: %+v", mine)
		}

		// Approval decides at its own moment: a pending sign-up whose
		// qualification expired meanwhile is not approved.
		outcome, pendingID, code := w.signUp(t, volTok, medic)
		if outcome != "PENDING_APPROVAL" {
			t.Fatalf("medic sign-up: %q %q", outcome, code)
		}
		if err := e.Client.Qualification.Update().SetValidUntil(time.Now().Add(-time.Second)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.Do(t, w.staff, `mutation($r: ID!) { approveRegistration(registrationID: $r) { status } }`, map[string]any{"r": e.ID(pendingID)}).
			WantCode(t, "NOT_QUALIFIED")
		w.record(t, vol.ID, firstAid, day(365))
		var ok struct{ ApproveRegistration struct{ Status string } }
		w.do(t, w.staff, `mutation($r: ID!) { approveRegistration(registrationID: $r) { status } }`, map[string]any{"r": e.ID(pendingID)}, &ok)
		if ok.ApproveRegistration.Status != "CONFIRMED" {
			t.Fatalf("approval: %+v", ok)
		}

		// Only staff enter qualifications; the entry is audited.
		e.Do(t, volTok, `mutation($in: RecordQualificationInput!) { recordQualification(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"personID": e.ID(vol.ID), "kindID": e.ID(doctorKind), "expiresOn": day(9), "evidenceRef": "x"}}).
			WantCode(t, "FORBIDDEN")
		e.Do(t, w.staff, `mutation($in: RecordQualificationInput!) { recordQualification(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"personID": e.ID(vol.ID), "kindID": e.ID(doctorKind), "expiresOn": "2026-13-01", "evidenceRef": "x"}}).
			WantCode(t, "VALIDATION_FAILED")
		var log struct {
			AuditLog struct {
				Edges []struct {
					Node struct{ Action, Detail string }
				}
			}
		}
		w.do(t, w.staff, `{ auditLog(first: 50) { edges { node { action detail } } } }`, nil, &log)
		n := 0
		for _, ed := range log.AuditLog.Edges {
			if ed.Node.Action == qualify.ActionRecord && strings.Contains(ed.Node.Detail, "110341234567890") {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("audited qualification entries with the evidence: %d, want 4 (%+v)", n, log)
		}
	})
}

// Staff see the qualifications about to expire; the daily job tells the
// holder and the staff once.
func TestExpiringQualifications(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		k := w.kind(t, "护士")
		soon, soonTok := e.Person(t, w.c.ID, "护士甲", viewer.Volunteer)
		later, _ := e.Person(t, w.c.ID, "护士乙", viewer.Volunteer)
		w.record(t, soon.ID, k, day(10))
		w.record(t, later.ID, k, day(90))

		var list struct {
			ExpiringQualifications []struct {
				ExpiresOn string
				Person    struct{ DisplayName string }
			}
		}
		w.do(t, w.staff, `{ expiringQualifications(withinDays: 30) { expiresOn person { displayName } } }`, nil, &list)
		if len(list.ExpiringQualifications) != 1 || list.ExpiringQualifications[0].Person.DisplayName != "护士甲" {
			t.Fatalf("expiring: %+v", list)
		}
		e.Do(t, soonTok, `{ expiringQualifications { id } }`, nil).WantCode(t, "FORBIDDEN")

		for range 2 { // the second run finds nothing new
			if _, err := qualify.NotifyExpiring(e.Sys(), e.Client, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		inbox := func(token string) []string {
			var out struct {
				Notifications struct {
					Edges []struct{ Node struct{ Kind, Body string } }
				}
			}
			w.do(t, token, `{ notifications(first: 20) { edges { node { kind body } } } }`, nil, &out)
			var kinds []string
			for _, ed := range out.Notifications.Edges {
				kinds = append(kinds, ed.Node.Kind+":"+ed.Node.Body)
			}
			return kinds
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			v, s := inbox(soonTok), inbox(w.staff)
			if len(v) == 1 && len(s) == 1 {
				if !strings.HasPrefix(v[0], "QUALIFICATION_EXPIRING:") || !strings.Contains(v[0], "护士") ||
					!strings.HasPrefix(s[0], "QUALIFICATIONS_EXPIRING:") || !strings.Contains(s[0], "护士甲") || strings.Contains(s[0], "护士乙") {
					t.Fatalf("notifications: %q / %q", v, s)
				}
				break
			}
			if len(v) > 1 || len(s) > 1 || time.Now().After(deadline) {
				t.Fatalf("notifications: volunteer %q, staff %q", v, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// pastRegistration makes a registration in an activity that ended
// endedAgo ago, in status st (a CONFIRMED one is a no-show: nobody came).
func pastRegistration(t *testing.T, e *linlitest.Env, cid, personID int, endedAgo time.Duration, st registration.Status) {
	t.Helper()
	a, sl := e.Activity(t, cid, linlitest.ActivitySpec{StartsAt: time.Now().Add(-endedAgo - 2*time.Hour)})
	if err := e.Client.Activity.UpdateOneID(a.ID).SetEndsAt(time.Now().Add(-endedAgo)).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	err := e.Client.Registration.Create().SetCommunityID(cid).SetActivityID(a.ID).SetSlotID(sl[0].ID).SetPersonID(personID).
		SetStatus(st).SetSeats(1).SetCheckInCode(fmt.Sprintf("C%d%d", personID, time.Now().UnixNano())).Exec(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
}

// No-shows in the window send a sign-up to approval above the slot's
// limit, and put the person on the activity's at-risk list; older ones
// are forgotten until the window is widened.
func TestNoShows(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		flaky, flakyTok := e.Person(t, w.c.ID, "常缺席")
		_, steadyTok := e.Person(t, w.c.ID, "守时")
		month := 30 * 24 * time.Hour
		pastRegistration(t, e, w.c.ID, flaky.ID, 24*time.Hour, registration.StatusCONFIRMED)
		pastRegistration(t, e, w.c.ID, flaky.ID, 2*month, registration.StatusNO_SHOW)
		pastRegistration(t, e, w.c.ID, flaky.ID, 3*month, registration.StatusCHECKED_IN) // came
		pastRegistration(t, e, w.c.ID, flaky.ID, 3*month, registration.StatusCANCELLED)
		pastRegistration(t, e, w.c.ID, flaky.ID, 8*month, registration.StatusNO_SHOW) // forgotten after 6 months

		a, slots := e.Activity(t, w.c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "观众", Capacity: 10}}})
		one := 1
		w.require(t, slots[0].ID, nil, &one)
		if outcome, _, code := w.signUp(t, flakyTok, slots[0].ID); outcome != "PENDING_APPROVAL" {
			t.Fatalf("two no-shows over a limit of 1: %q %q", outcome, code)
		}
		if outcome, _, code := w.signUp(t, steadyTok, slots[0].ID); outcome != "CONFIRMED" {
			t.Fatalf("no no-shows: %q %q", outcome, code)
		}
		atRisk := func(min int) map[string]int {
			var out struct {
				AtRiskRegistrations []struct {
					NoShows int
					Person  struct{ DisplayName string }
				}
			}
			w.do(t, w.staff, `query($a: ID!, $m: Int) { atRiskRegistrations(activityID: $a, minNoShows: $m) { noShows person { displayName } registration { status } } }`,
				map[string]any{"a": e.ID(a.ID), "m": min}, &out)
			got := map[string]int{}
			for _, r := range out.AtRiskRegistrations {
				got[r.Person.DisplayName] = r.NoShows
			}
			return got
		}
		if got := atRisk(2); len(got) != 1 || got["常缺席"] != 2 {
			t.Fatalf("at risk: %v, want 常缺席 with 2", got)
		}
		e.Do(t, flakyTok, `query($a: ID!) { atRiskRegistrations(activityID: $a) { noShows } }`, map[string]any{"a": e.ID(a.ID)}).WantCode(t, "FORBIDDEN")
		var set struct{ SetNoShowWindow int }
		w.do(t, w.staff, `mutation($c: ID!) { setNoShowWindow(communityID: $c, months: 12) }`, map[string]any{"c": e.ID(w.c.ID)}, &set)
		if got := atRisk(2); got["常缺席"] != 3 {
			t.Fatalf("at risk with a 12-month window: %v, want 3", got)
		}
	})
}

type teamWorld struct {
	*world
	team    *ent.Team
	leader  string
	members []*ent.Person
	tokens  []string
}

func newTeam(t *testing.T, w *world, name string, n int) *teamWorld {
	e := w.e
	tm, err := e.Client.Team.Create().SetCommunityID(w.c.ID).SetName(name).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	lead, leadTok := e.Person(t, w.c.ID, name+"队长", viewer.TeamLeader, viewer.Volunteer)
	tw := &teamWorld{world: w, team: tm, leader: leadTok}
	if err := e.Client.TeamMembership.Create().SetCommunityID(w.c.ID).SetTeamID(tm.ID).SetPersonID(lead.ID).
		SetRole(teammembership.RoleLEADER).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p, tok := e.Person(t, w.c.ID, fmt.Sprintf("%s队员%d", name, i+1), viewer.Volunteer)
		if err := e.Client.TeamMembership.Create().SetCommunityID(w.c.ID).SetTeamID(tm.ID).SetPersonID(p.ID).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		tw.members, tw.tokens = append(tw.members, p), append(tw.tokens, tok)
	}
	return tw
}

const teamQuery = `mutation($in: TeamSignUpInput!) { signUpTeam(input: $in) { members { personID registrationID status } } }`

type teamAnswer struct {
	SignUpTeam struct {
		Members []struct {
			PersonID, RegistrationID linlitest.RowID
			Status                   string
		}
	}
}

func (tw *teamWorld) input(slotID int, people []*ent.Person, key string) map[string]any {
	ids := []string{}
	for _, p := range people {
		ids = append(ids, tw.e.ID(p.ID))
	}
	in := map[string]any{"slotID": tw.e.ID(slotID), "teamID": tw.e.ID(tw.team.ID), "personIDs": ids}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return map[string]any{"in": in}
}

func rows(t *testing.T, e *linlitest.Env, slotID int) (taken, active int) {
	t.Helper()
	sl, err := e.Client.Slot.Get(e.Sys(), slotID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.Client.Registration.Query().Where(registration.SlotID(slotID),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusPENDING_APPROVAL, registration.StatusWAITLISTED)).Count(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return sl.Taken, n
}

// A team sign-up is all or nothing: one that does not fit, or names a
// member who may not take the position, books nobody and names who and
// why; one that fits books each member; a retry with its key is answered
// the same; removal frees the seats.
func TestTeamSignUp(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		tw := newTeam(t, w, "医疗健康", 3)
		k := w.kind(t, "急救")
		_, slots := e.Activity(t, w.c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "引导员", Kind: slot.KindVOLUNTEER, Capacity: 2},
			{Name: "急救员", Kind: slot.KindVOLUNTEER, Capacity: 5},
			{Name: "观众", Capacity: 5},
		}})
		small, medic, seats := slots[0].ID, slots[1].ID, slots[2].ID
		w.require(t, medic, []int{k}, nil)

		res := e.Do(t, tw.leader, teamQuery, tw.input(small, tw.members, ""))
		res.WantCode(t, "CAPACITY_FULL")
		if taken, n := rows(t, e, small); taken != 0 || n != 0 {
			t.Fatalf("a team sign-up that does not fit booked %d seats, %d registrations", taken, n)
		}
		w.record(t, tw.members[0].ID, k, day(30))
		w.record(t, tw.members[2].ID, k, day(30))
		res = e.Do(t, tw.leader, teamQuery, tw.input(medic, tw.members, ""))
		res.WantCode(t, "NOT_QUALIFIED")
		if msg := res.Err().Error(); !strings.Contains(msg, tw.members[1].DisplayName) || strings.Contains(msg, tw.members[0].DisplayName) {
			t.Fatalf("the refusal should name the unqualified member only: %s", msg)
		}
		if taken, n := rows(t, e, medic); taken != 0 || n != 0 {
			t.Fatalf("a refused team sign-up booked %d seats, %d registrations", taken, n)
		}
		e.Do(t, tw.leader, teamQuery, tw.input(seats, tw.members, "")).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, tw.tokens[0], teamQuery, tw.input(medic, tw.members[:1], "")).WantCode(t, "FORBIDDEN")
		stranger, _ := e.Person(t, w.c.ID, "外人", viewer.Volunteer)
		e.Do(t, tw.leader, teamQuery, tw.input(medic, []*ent.Person{stranger}, "")).WantCode(t, "VALIDATION_FAILED")

		w.record(t, tw.members[1].ID, k, day(30))
		var first, again teamAnswer
		w.do(t, tw.leader, teamQuery, tw.input(medic, tw.members, "team-key-1"), &first)
		w.do(t, tw.leader, teamQuery, tw.input(medic, tw.members, "team-key-1"), &again)
		if len(first.SignUpTeam.Members) != 3 || fmt.Sprint(first) != fmt.Sprint(again) {
			t.Fatalf("sign-up %+v, retry %+v", first, again)
		}
		for _, m := range first.SignUpTeam.Members {
			if m.Status != "CONFIRMED" {
				t.Fatalf("member %+v", m)
			}
		}
		if taken, n := rows(t, e, medic); taken != 3 || n != 3 {
			t.Fatalf("after the team sign-up: taken %d, %d registrations", taken, n)
		}
		e.Do(t, tw.leader, teamQuery, tw.input(medic, tw.members[:1], "team-key-1")).WantCode(t, "CONFLICT")
		// Someone already in: nobody is booked again.
		e.Do(t, tw.leader, teamQuery, tw.input(medic, tw.members[:2], "")).WantCode(t, "ALREADY_REGISTERED")

		var removed struct {
			RemoveTeamSignUps struct{ Members []struct{ Status string } }
		}
		w.do(t, tw.leader, `mutation($in: RemoveTeamSignUpsInput!) { removeTeamSignUps(input: $in) { members { status } } }`,
			tw.input(medic, tw.members[:2], ""), &removed)
		if len(removed.RemoveTeamSignUps.Members) != 2 {
			t.Fatalf("removed %+v", removed)
		}
		if taken, n := rows(t, e, medic); taken != 1 || n != 1 {
			t.Fatalf("after removing two: taken %d, %d registrations", taken, n)
		}
	})
}

// Team sign-ups racing single sign-ups never over-fill the slot, and each
// team is booked whole or not at all.
func TestTeamSignUpRacesSingles(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		const capacity = 12
		_, slots := e.Activity(t, w.c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{
			{Name: "志愿者", Kind: slot.KindVOLUNTEER, Capacity: capacity, NoWaitlist: true},
		}})
		sl := slots[0].ID
		var teams []*teamWorld
		for i := range 4 {
			teams = append(teams, newTeam(t, w, fmt.Sprintf("队%d", i), 4))
		}
		_, singles := e.People(t, w.c.ID, 12, "散客", viewer.Volunteer)
		var wg sync.WaitGroup
		for _, tw := range teams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.Do(t, tw.leader, teamQuery, tw.input(sl, tw.members, ""))
			}()
		}
		for _, tok := range singles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.Do(t, tok, signUpQuery, map[string]any{"in": map[string]any{"slotID": e.ID(sl)}})
			}()
		}
		wg.Wait()
		taken, n := rows(t, e, sl)
		if taken > capacity || taken != n {
			t.Fatalf("taken %d, %d registrations, capacity %d", taken, n, capacity)
		}
		if taken < capacity-3 {
			t.Fatalf("only %d of %d seats taken", taken, capacity)
		}
		for _, tw := range teams {
			var ids []int
			for _, m := range tw.members {
				ids = append(ids, m.ID)
			}
			got, err := e.Client.Registration.Query().Where(registration.SlotID(sl), registration.PersonIDIn(ids...)).Count(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			if got != 0 && got != len(ids) {
				t.Fatalf("team %s got %d of %d seats", tw.team.Name, got, len(ids))
			}
		}
	})
}
