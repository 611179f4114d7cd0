package rights_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/ent/activity"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// statsQuery asks for every figure of communityStatistics, breakdowns
// included, so "equal" means the whole answer.
const statsQuery = `query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) {
  from to activitiesHeld participantPersonTimes attendeePersonTimes volunteerPersonTimes beneficiaryPersonTimes serviceHours
  registeredVolunteers residentPopulation volunteerShare requestsReceived requestsResolved disputesMediated homeVisits
  householdsVisited responseRate resolutionRate satisfactionRate
  byCategory { category activitiesHeld participantPersonTimes }
  byServiceType { serviceType activitiesHeld participantPersonTimes }
  byTeam { team { id name } activitiesHeld volunteerPersonTimes serviceHours homeVisits }
  byMonth { month activitiesHeld participantPersonTimes requestsReceived } } }`

// world is a community with a volunteer who has served (a back-entered
// activity and a home visit), submitted a request that was resolved and
// rated, and is in a team; and the staff who run it.
type world struct {
	e                   *linlitest.Env
	cid                 int
	coord, coord2, vtok string
	vid                 int
	name, phone         string
	act                 int
	reqID, req2         string
	from, to            time.Time
}

func newWorld(t *testing.T, e *linlitest.Env) *world {
	t.Helper()
	c := e.Community(t, "前进社区")
	_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
	_, coord2 := e.Person(t, c.ID, "刘建国", viewer.Coordinator)
	v, vtok := e.Person(t, c.ID, "欧阳志愿者", viewer.Volunteer)
	other, _ := e.Person(t, c.ID, "另一位志愿者", viewer.Volunteer)
	now := time.Now().UTC().Truncate(time.Hour)
	w := &world{e: e, cid: c.ID, coord: coord, coord2: coord2, vtok: vtok, vid: v.ID, name: v.DisplayName, phone: v.Phone,
		from: now.AddDate(-1, 0, 0), to: now.Add(48 * time.Hour)}
	team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName("生活帮帮团").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	e.Do(t, coord, `mutation($t: ID!, $p: ID!) { setTeamMember(teamID: $t, personID: $p, role: MEMBER) { id } }`,
		map[string]any{"t": e.ID(team.ID), "p": e.ID(v.ID)}).WantCode(t, "")

	// An activity that ended yesterday, entered from its paper sheet.
	start := time.Now().UTC().Add(-27 * time.Hour).Truncate(time.Minute)
	a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "扶贫帮困日", Category: activity.CategorySQUARE,
		ServiceType: activity.ServiceTypePOVERTY_RELIEF, Status: activity.StatusPUBLISHED, StartsAt: start,
		Slots: []linlitest.SlotSpec{{Name: "医生", Kind: slot.KindVOLUNTEER, Capacity: 5}}})
	w.act = a.ID
	var lines []struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	r := e.Do(t, coord, `mutation($a: ID!, $e: [AttendanceEntryInput!]!) { recordAttendance(activityID: $a, entries: $e) { status message } }`,
		map[string]any{"a": e.ID(a.ID), "e": []map[string]any{
			{"slotID": e.ID(slots[0].ID), "name": v.DisplayName, "phone": v.Phone, "checkedInAt": start.Format(time.RFC3339), "checkedOutAt": start.Add(2 * time.Hour).Format(time.RFC3339)},
			{"slotID": e.ID(slots[0].ID), "name": other.DisplayName, "phone": other.Phone, "checkedInAt": start.Format(time.RFC3339), "checkedOutAt": start.Add(time.Hour).Format(time.RFC3339)},
		}})
	r.WantCode(t, "")
	r.Decode(t, &struct{ RecordAttendance any }{&lines})
	for _, l := range lines {
		if l.Status != "OK" {
			t.Fatalf("back entry: %+v", lines)
		}
	}

	// A home visit with the volunteer.
	var hh struct{ CreateHousehold struct{ ID string } }
	e.Do(t, coord, `mutation { createHousehold(input: {address: "上码头小区3栋2单元301", headName: "王大爷", size: 2}) { id } }`, nil).Decode(t, &hh)
	e.Do(t, coord, `mutation($h: ID!, $v: [ID!], $at: Time!) { recordHomeVisit(input: {householdID: $h, kind: CARE_VISIT, visitedAt: $at, minutes: 90, volunteerIDs: $v, notes: "欧阳志愿者 13900000000 陪同"}) { id } }`,
		map[string]any{"h": hh.CreateHousehold.ID, "v": []string{e.ID(v.ID)}, "at": time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339)}).WantCode(t, "")

	// A request of theirs, resolved and rated.
	var sub struct{ SubmitRequest struct{ ID string } }
	e.Do(t, vtok, `mutation { submitRequest(input: {kind: REPAIR, title: "欧阳志愿者家水管漏水", description: "请打电话 `+v.Phone+`"}) { id } }`, nil).Decode(t, &sub)
	w.reqID = sub.SubmitRequest.ID
	for _, m := range []string{
		`mutation($id: ID!) { acceptRequest(id: $id) { status } }`,
		`mutation($id: ID!) { resolveRequest(id: $id, outcome: SOLVED, resolution: "已为欧阳志愿者更换阀门") { status } }`,
	} {
		e.Do(t, coord, m, map[string]any{"id": w.reqID}).WantCode(t, "")
	}
	e.Do(t, vtok, `mutation($id: ID!) { confirmRequest(id: $id, satisfaction: 5, comment: "谢谢") { status } }`, map[string]any{"id": w.reqID}).WantCode(t, "")
	// And one still waiting.
	var sub2 struct{ SubmitRequest struct{ ID string } }
	e.Do(t, vtok, `mutation { submitRequest(input: {kind: ELDERLY_CARE, title: "欧阳志愿者想请人陪诊", description: "周三上午"}) { id } }`, nil).Decode(t, &sub2)
	w.req2 = sub2.SubmitRequest.ID
	return w
}

func (w *world) stats(t *testing.T) string {
	t.Helper()
	r := w.e.Do(t, w.coord, statsQuery, map[string]any{"c": w.e.ID(w.cid),
		"f": w.from.Format(time.RFC3339), "t": w.to.Format(time.RFC3339)})
	r.WantCode(t, "")
	b, err := json.Marshal(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// everything is what staff can read about the community through queries
// and every CSV export, as one text to search.
func (w *world) everything(t *testing.T) string {
	t.Helper()
	e := w.e
	var b strings.Builder
	for _, q := range []struct {
		q    string
		vars map[string]any
	}{
		{`query($id: ID!) { node(id: $id) { ... on Person { displayName phone } } }`, map[string]any{"id": e.ID(w.vid)}},
		{`query($r: ID!) { node(id: $r) { ... on Request { title description resolution submitter { displayName phone } history { note actor { displayName } } } } }`, map[string]any{"r": w.reqID}},
		{`{ requests(first: 100) { edges { node { title description submitter { displayName phone } } } } }`, nil},
		{`{ serviceRecords(first: 100) { edges { node { personInCharge recordedBy person { displayName phone } } } } }`, nil},
		{`query($c: ID!) { auditLog(communityID: $c, first: 100) { edges { node { action subject detail actor { displayName phone } } } } }`, map[string]any{"c": e.ID(w.cid)}},
		{`query($c: ID!) { consents(communityID: $c) { personName } }`, map[string]any{"c": e.ID(w.cid)}},
	} {
		r := e.Do(t, w.coord, q.q, q.vars)
		r.WantCode(t, "")
		j, _ := json.Marshal(r.Data)
		b.Write(j)
	}
	from, to := time.Now().UTC().AddDate(-1, 0, 0).Format("2006-01-02"), time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
	for _, path := range []string{
		"/exports/activities/" + e.ID(w.act) + "/sign-in-sheet",
		"/exports/service-records?from=" + from + "&to=" + to,
		"/exports/requests?from=" + from + "&to=" + to,
		"/exports/statistics?from=" + from + "&to=" + to,
	} {
		req, _ := http.NewRequest("GET", e.Server.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+w.coord)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		b.Write(body)
	}
	return b.String()
}

// TestDeleteVolunteerKeepsStatistics is issue 18's acceptance test: a
// volunteer with service records, a request and a home visit is deleted on
// their written request; the year's communityStatistics are unchanged, their
// name and phone are in no query, export or subscription, their login and
// token are refused, and their certificate no longer names them.
func TestDeleteVolunteerKeepsStatistics(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		var cert struct{ IssueCertificate struct{ Code string } }
		e.Do(t, w.vtok, `mutation { issueCertificate { code } }`, nil).Decode(t, &cert)

		before := w.stats(t)
		if all := w.everything(t); !strings.Contains(all, w.name) || !strings.Contains(all, w.phone) {
			t.Fatalf("the volunteer's name and phone should be visible before the deletion (the check below could not fail otherwise)")
		}
		if !strings.Contains(before, `"serviceHours":3.5`) && !strings.Contains(before, `"serviceHours":4.5`) {
			t.Logf("statistics before: %s", before)
		}

		// A staff member watching request updates live.
		ws := dial(t, e, w.coord)
		ws.subscribe("1", `subscription($c: ID!) { requestUpdates(communityID: $c) { action note actor { displayName phone } request { title description submitter { displayName phone } } } }`,
			map[string]any{"c": e.ID(w.cid)})

		// The volunteer's own live connection.
		own := dial(t, e, w.vtok)
		own.subscribe("1", `subscription { myRequestUpdates { action } }`, nil)

		// Only staff of the community act, on a written request.
		e.Do(t, w.vtok, `mutation($p: ID!) { deletePerson(personID: $p, reason: "x", writtenRequestRef: "x") }`,
			map[string]any{"p": e.ID(w.vid)}).WantCode(t, "NOT_FOUND")
		e.Do(t, w.coord, `mutation($p: ID!) { deletePerson(personID: $p, reason: "本人书面申请注销", writtenRequestRef: "") }`,
			map[string]any{"p": e.ID(w.vid)}).WantCode(t, "VALIDATION_FAILED")
		var del struct{ DeletePerson bool }
		e.Do(t, w.coord, `mutation($p: ID!) { deletePerson(personID: $p, reason: "本人书面申请注销", writtenRequestRef: "申请书 2026-118") }`,
			map[string]any{"p": e.ID(w.vid)}).Decode(t, &del)
		if !del.DeletePerson {
			t.Fatal("deletePerson answered false")
		}

		if after := w.stats(t); after != before {
			t.Fatalf("statistics changed by the deletion:\nbefore %s\nafter  %s", before, after)
		}
		all := w.everything(t)
		for _, s := range []string{w.name, w.phone, w.phone[len(w.phone)-4:] + `"`, "欧阳"} {
			if strings.Contains(all, s) {
				i := strings.Index(all, s)
				t.Errorf("%q still visible after the deletion: …%s…", s, all[max(0, i-120):min(len(all), i+80)])
			}
		}
		if !strings.Contains(all, "已注销用户") {
			t.Errorf("the deleted volunteer should show under a pseudonym")
		}

		// An update of their request reaches the subscriber without them.
		e.Do(t, w.coord2, `mutation($id: ID!) { acceptRequest(id: $id) { status } }`, map[string]any{"id": w.req2}).WantCode(t, "")
		m, err := ws.read(10 * time.Second)
		if err != nil || m.Type != "next" {
			t.Fatalf("want an update, got %+v %v", m, err)
		}
		if p := string(m.Payload); strings.Contains(p, w.name) || strings.Contains(p, w.phone) || strings.Contains(p, "欧阳") || !strings.Contains(p, "已注销用户") {
			t.Errorf("subscription payload names the deleted person: %s", p)
		}

		// Their live connection was closed (4403, as for a role change).
		for {
			m, err := own.read(10 * time.Second)
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != 4403 {
					t.Errorf("the deleted person's socket: want close 4403, got %v", err)
				}
				break
			}
			if m.Type == "next" && strings.Contains(string(m.Payload), w.phone) {
				t.Errorf("the deleted person's socket got %s", m.Payload)
			}
		}

		// Their token and their password no longer work.
		r := e.Do(t, w.vtok, `{ viewer { id } }`, nil)
		if r.Code() != "UNAUTHENTICATED" {
			t.Errorf("the deleted person's token: want UNAUTHENTICATED, got %s", r.Code())
		}
		e.Do(t, "", `mutation($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { token } }`,
			map[string]any{"p": w.phone, "pw": linlitest.Password}).WantCode(t, "UNAUTHENTICATED")

		// The certificate still verifies its hours, as nobody's.
		var ver struct {
			VerifyCertificate struct {
				PersonName    string
				HolderDeleted bool
				TotalHours    float64
			}
		}
		e.Do(t, "", `query($c: String!) { verifyCertificate(code: $c) { personName holderDeleted totalHours } }`,
			map[string]any{"c": cert.IssueCertificate.Code}).Decode(t, &ver)
		if !ver.VerifyCertificate.HolderDeleted || ver.VerifyCertificate.PersonName != "" || ver.VerifyCertificate.TotalHours == 0 {
			t.Errorf("certificate after deletion: %+v", ver.VerifyCertificate)
		}

		// Audited, once; a second deletion changes nothing.
		e.Do(t, w.coord, `mutation($p: ID!) { deletePerson(personID: $p, reason: "重复", writtenRequestRef: "申请书 2026-118") }`,
			map[string]any{"p": e.ID(w.vid)}).WantCode(t, "")
		var log struct {
			AuditLog struct {
				Edges []struct{ Node struct{ Detail string } }
			}
		}
		e.Do(t, w.coord, `query($c: ID!) { auditLog(communityID: $c, first: 10, where: {actions: ["person.delete"]}) { edges { node { detail } } } }`,
			map[string]any{"c": e.ID(w.cid)}).Decode(t, &log)
		if len(log.AuditLog.Edges) != 1 || !strings.Contains(log.AuditLog.Edges[0].Node.Detail, "申请书 2026-118") {
			t.Errorf("audit entries of the deletion: %+v", log.AuditLog.Edges)
		}
	})
}
