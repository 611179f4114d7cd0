package audit_test

import (
	"testing"
	"time"

	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// TestEveryAuditedAction performs each audited action through the API and
// finds exactly its entry in auditLog: the action's stable name, the staff
// member who did it (none for the tablet that pairs itself), the row acted
// on and the client address the request came from.
func TestEveryAuditedAction(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "社工", viewer.Coordinator)
		p, ptok := e.Person(t, c.ID, "张阿姨")
		_, qtok := e.Person(t, c.ID, "李大爷", viewer.Volunteer)
		team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName("文艺队").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		venue, err := e.Client.Venue.Create().SetCommunityID(c.ID).SetName("活动室").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "志愿者", Kind: slot.KindVOLUNTEER, Capacity: 5, RequiresApproval: true}}})

		type want struct {
			action  string
			subject int
			actor   string // "" for none
		}
		var wants []want
		do := func(token, query string, vars map[string]any, out any) {
			t.Helper()
			r := e.Do(t, token, query, vars)
			if out != nil {
				r.Decode(t, out)
			} else if err := r.Err(); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}

		do(tok, `mutation($p: ID!) { setRoles(personID: $p, roles: [RESIDENT, VOLUNTEER]) { id } }`, map[string]any{"p": e.ID(p.ID)}, nil)
		// A repeat that changes nothing writes nothing.
		do(tok, `mutation($p: ID!) { setRoles(personID: $p, roles: [VOLUNTEER]) { id } }`, map[string]any{"p": e.ID(p.ID)}, nil)
		wants = append(wants, want{"person.roles_set", p.ID, "社工"})
		for range 2 {
			do(tok, `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p) { id } }`, map[string]any{"t": e.ID(team.ID), "p": e.ID(p.ID)}, nil)
		}
		wants = append(wants, want{"team.member_set", p.ID, "社工"})
		do(tok, `mutation($t: ID!, $p: ID!) { removeTeamMember(teamID: $t, personID: $p) }`, map[string]any{"t": e.ID(team.ID), "p": e.ID(p.ID)}, nil)
		wants = append(wants, want{"team.member_remove", p.ID, "社工"})

		var su struct {
			SignUp struct{ Registration struct{ ID string } }
		}
		signUp := `mutation($s: ID!) { signUp(input: {slotID: $s}) { registration { id } } }`
		do(ptok, signUp, map[string]any{"s": e.ID(slots[0].ID)}, &su)
		preg := e.IntID(t, su.SignUp.Registration.ID)
		do(qtok, signUp, map[string]any{"s": e.ID(slots[0].ID)}, &su)
		qreg := e.IntID(t, su.SignUp.Registration.ID)
		do(tok, `mutation($r: ID!) { approveRegistration(registrationID: $r) { id } }`, map[string]any{"r": e.ID(preg)}, nil)
		do(tok, `mutation($r: ID!) { approveRegistration(registrationID: $r) { id } }`, map[string]any{"r": e.ID(preg)}, nil)
		wants = append(wants, want{"registration.approve", preg, "社工"})
		do(tok, `mutation($r: ID!) { rejectRegistration(registrationID: $r, reason: "名额已满") { id } }`, map[string]any{"r": e.ID(qreg)}, nil)
		wants = append(wants, want{"registration.reject", qreg, "社工"})

		// The activity is under way: staff check 张阿姨 in and out by hand,
		// correct her hours, then undo the check-out.
		starts := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
		if err := e.Client.Activity.UpdateOne(a).SetStartsAt(starts).SetEndsAt(starts.Add(3 * time.Hour)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		// (In at the start, out now: a check-out crediting no minute would
		// be NO_TIME_SERVED.)
		manual := `mutation($a: ID!, $r: ID!, $k: CheckInKind!, $n: String!, $at: Time) { manualCheckIn(input: {activityID: $a, registrationID: $r, kind: $k, nonce: $n, at: $at}) { status } }`
		var res struct{ ManualCheckIn struct{ Status string } }
		for _, kind := range []string{"IN", "OUT"} {
			vars := map[string]any{"a": e.ID(a.ID), "r": e.ID(preg), "k": kind, "n": "n-" + kind}
			if kind == "IN" {
				vars["at"] = starts.Format(time.RFC3339)
			}
			do(tok, manual, vars, &res)
			if res.ManualCheckIn.Status != "OK" {
				t.Fatalf("manual %s: %s", kind, res.ManualCheckIn.Status)
			}
		}
		rec, err := e.Client.ServiceRecord.Query().Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		do(tok, `mutation($id: ID!, $from: Time!, $to: Time!) { correctServiceRecord(id: $id, input: {startedAt: $from, endedAt: $to, reason: "纸质签到表为准"}) { id } }`,
			map[string]any{"id": e.ID(rec.ID), "from": starts.Format(time.RFC3339), "to": starts.Add(time.Hour).Format(time.RFC3339)}, nil)
		wants = append(wants, want{"service_record.correct", rec.ID, "社工"})
		do(tok, `mutation($r: ID!) { undoCheckIn(registrationID: $r, reason: "误签退") { id } }`, map[string]any{"r": e.ID(preg)}, nil)
		wants = append(wants, want{"checkin.undo", preg, "社工"})

		var reg struct {
			RegisterKiosk struct{ Kiosk struct{ ID string } }
		}
		do(tok, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "门口平板") { kiosk { id } } }`, map[string]any{"v": e.ID(venue.ID)}, &reg)
		kid := e.IntID(t, reg.RegisterKiosk.Kiosk.ID)
		wants = append(wants, want{"kiosk.register", kid, "社工"})
		var code struct{ CreateKioskPairingCode struct{ Code string } }
		do(tok, `mutation($k: ID!) { createKioskPairingCode(kioskID: $k) { code } }`, map[string]any{"k": e.ID(kid)}, &code)
		wants = append(wants, want{"kiosk.pairing_code", kid, "社工"})
		do("", `mutation($c: String!) { pairKiosk(code: $c) { token } }`, map[string]any{"c": code.CreateKioskPairingCode.Code}, nil)
		wants = append(wants, want{"kiosk.pair", kid, ""})
		do(tok, `mutation($k: ID!) { revokeKiosk(id: $k) { id } }`, map[string]any{"k": e.ID(kid)}, nil)
		wants = append(wants, want{"kiosk.revoke", kid, "社工"})

		var all page
		do(tok, logQuery, map[string]any{"first": 100}, &all)
		if all.AuditLog.TotalCount != len(wants) {
			for _, ed := range all.AuditLog.Edges {
				t.Logf("%s %s %s", ed.Node.Action, ed.Node.Subject, ed.Node.Detail)
			}
			t.Fatalf("%d entries, want one per action (%d)", all.AuditLog.TotalCount, len(wants))
		}
		for _, w := range wants {
			var p page
			do(tok, logQuery, map[string]any{"w": map[string]any{"actions": []string{w.action}}}, &p)
			if p.AuditLog.TotalCount != 1 {
				t.Fatalf("%s: %d entries", w.action, p.AuditLog.TotalCount)
			}
			n := p.AuditLog.Edges[0].Node
			actor := ""
			if n.Actor != nil {
				actor = n.Actor.DisplayName
			}
			if n.SubjectID != e.ID(w.subject) || actor != w.actor || n.ClientAddress != "127.0.0.1" || n.Detail == "" || n.Subject == "" || n.At.IsZero() {
				t.Errorf("%s: entry %+v (actor %q), want subject %d, actor %q from 127.0.0.1", w.action, n, actor, w.subject, w.actor)
			}
		}
	})
}
