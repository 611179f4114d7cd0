package requests_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/linlitest"
)

// The whole lifecycle through the API, with its history.
func TestLifecycleAndHistory(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		r := w.submit(t, aSubmitter, "楼道灯不亮", "3栋2单元楼道灯坏了一周")
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
		if r.Status != "SUBMITTED" || r.Number != fmt.Sprintf("QJ-%d-0001", year) || r.Submitter == nil || e.IntID(t, r.Submitter.ID) != w.sub.ID {
			t.Fatalf("submitted: %+v", r)
		}
		before := time.Now()
		acc := w.must(t, aStaff, acceptM, r.ID, nil)
		// REPAIR is due three days after acceptance by default.
		if acc.Status != "ACCEPTED" || acc.DueAt == nil || acc.DueAt.Sub(before) < 71*time.Hour || acc.DueAt.Sub(before) > 73*time.Hour {
			t.Fatalf("accepted: %+v", acc)
		}
		w.must(t, aStaff, assignM, r.ID, w.assignVars())
		w.must(t, aAssignee, startM, r.ID, nil)
		w.must(t, aAssignee, resolveM, r.ID, nil)
		if got := w.must(t, aSubmitter, confirmM, r.ID, nil); got.Status != "CLOSED" {
			t.Fatalf("confirmed: %+v", got)
		}
		var out struct {
			Node struct {
				Status, Outcome, Resolution string
				Satisfaction                int
				ConfirmedByStaff            bool
				AcceptedAt, ResolvedAt      *time.Time
				ClosedAt                    *time.Time
				Team                        struct{ Name string }
				Assignee                    struct{ DisplayName string }
				History                     []struct {
					Action, Status, Note string
					Actor                struct{ DisplayName string }
				}
			}
		}
		e.Do(t, w.tokens[aStaff], `query($id: ID!) { node(id: $id) { ... on Request { status outcome resolution satisfaction confirmedByStaff
			acceptedAt resolvedAt closedAt team { name } assignee { displayName }
			history { action status note actor { displayName } } } } }`, map[string]any{"id": r.ID}).Decode(t, &out)
		n := out.Node
		if n.Status != "CLOSED" || n.Outcome != "SOLVED" || n.Resolution != "换了新的水龙头" || n.Satisfaction != 5 || n.ConfirmedByStaff ||
			n.AcceptedAt == nil || n.ResolvedAt == nil || n.ClosedAt == nil || n.Team.Name != "邻里互助队" || n.Assignee.DisplayName != "志愿者小张" {
			t.Fatalf("closed request: %+v", n)
		}
		var steps []string
		for _, h := range n.History {
			steps = append(steps, h.Action+":"+h.Status+":"+h.Actor.DisplayName)
		}
		want := "SUBMIT:SUBMITTED:王大爷 ACCEPT:ACCEPTED:社区书记 ASSIGN:ASSIGNED:社区书记 START:IN_PROGRESS:志愿者小张 RESOLVE:RESOLVED:志愿者小张 CONFIRM:CLOSED:王大爷"
		if got := strings.Join(steps, " "); got != want {
			t.Fatalf("history:\n got %s\nwant %s", got, want)
		}
		if n.History[2].Note != "邻里互助队 / 志愿者小张" || n.History[5].Note != "很满意" {
			t.Fatalf("notes: %+v", n.History)
		}
		// The resident sees who handled it, and the volunteer whom they
		// served (phones masked); the other resident sees neither.
		var counterpart struct {
			Node struct {
				Assignee  *struct{ DisplayName, Phone string }
				Submitter *struct{ DisplayName, Phone string }
			}
		}
		q := `query($id: ID!) { node(id: $id) { ... on Request { assignee { displayName phone } submitter { displayName phone } } } }`
		e.Do(t, w.tokens[aSubmitter], q, map[string]any{"id": r.ID}).Decode(t, &counterpart)
		if a := counterpart.Node.Assignee; a == nil || a.DisplayName != "志愿者小张" || a.Phone == w.vol.Phone {
			t.Fatalf("the submitter's view of the assignee: %+v", a)
		}
		e.Do(t, w.tokens[aAssignee], q, map[string]any{"id": r.ID}).Decode(t, &counterpart)
		if s := counterpart.Node.Submitter; s == nil || s.DisplayName != "王大爷" || s.Phone == w.sub.Phone {
			t.Fatalf("the assignee's view of the submitter: %+v", s)
		}
		var dir struct{ Node *struct{ DisplayName string } }
		res0 := e.Do(t, w.tokens[aResident], `query($id: ID!) { node(id: $id) { ... on Person { displayName } } }`, map[string]any{"id": e.ID(w.vol.ID)})
		_ = json.Unmarshal(res0.Data, &dir)
		if dir.Node != nil {
			t.Fatalf("another resident reads the volunteer: %+v", dir.Node)
		}

		// Staff confirm after a follow-up call; the request says so.
		id := w.reach(t, "RESOLVED")
		w.must(t, aStaff, confirmM, id, nil)
		var byStaff struct {
			Node struct{ ConfirmedByStaff bool }
		}
		e.Do(t, w.tokens[aStaff], `query($id: ID!) { node(id: $id) { ... on Request { confirmedByStaff } } }`, map[string]any{"id": id}).Decode(t, &byStaff)
		if !byStaff.Node.ConfirmedByStaff {
			t.Fatal("a staff confirmation is not marked confirmedByStaff")
		}

		// Bad input is VALIDATION_FAILED with the field.
		id = w.reach(t, "IN_PROGRESS")
		res := w.do(t, aAssignee, `mutation($id: ID!) { resolveRequest(id: $id, outcome: SOLVED, resolution: "  ") { id } }`, id, nil)
		if res.WantCode(t, "VALIDATION_FAILED"); res.Field() != "resolution" {
			t.Fatalf("field %q", res.Field())
		}
		w.must(t, aAssignee, resolveM, id, nil)
		res = w.do(t, aSubmitter, `mutation($id: ID!) { confirmRequest(id: $id, satisfaction: 6) { id } }`, id, nil)
		if res.WantCode(t, "VALIDATION_FAILED"); res.Field() != "satisfaction" {
			t.Fatalf("field %q", res.Field())
		}
		id = w.reach(t, "SUBMITTED")
		res = w.do(t, aStaff, acceptM, id, map[string]any{"due": time.Now().Add(-time.Hour)})
		if res.WantCode(t, "VALIDATION_FAILED"); res.Field() != "dueAt" {
			t.Fatalf("field %q", res.Field())
		}
		w.must(t, aStaff, acceptM, id, nil)
		res = w.do(t, aStaff, assignM, id, map[string]any{"team": e.ID(w.team2.ID), "who": e.ID(w.vol.ID)})
		if res.WantCode(t, "VALIDATION_FAILED"); res.Field() != "assigneeID" {
			t.Fatalf("assignee outside the team: field %q", res.Field())
		}
		res = w.do(t, aStaff, assignM, id, nil)
		if res.WantCode(t, "VALIDATION_FAILED"); res.Field() != "teamID" {
			t.Fatalf("nobody to assign: field %q", res.Field())
		}
	})
}

// allowed is who may make each transition from each status, written out
// independently of the service's table: every other actor is refused.
var allowed = map[string]map[string][]string{
	"SUBMITTED":   {"accept": {aStaff}, "reject": {aStaff}},
	"ACCEPTED":    {"assign": {aStaff}, "resolve": {aStaff}, "reject": {aStaff}},
	"ASSIGNED":    {"assign": {aStaff}, "start": {aStaff, aLeader, aAssignee}, "resolve": {aStaff}},
	"IN_PROGRESS": {"assign": {aStaff}, "resolve": {aStaff, aLeader, aAssignee}},
	"RESOLVED":    {"confirm": {aSubmitter, aStaff}, "reopen": {aSubmitter}},
	"CLOSED":      {"reopen": {aSubmitter}},
	"REJECTED":    {},
}

// after is the status each transition leads to.
var after = map[string]string{"accept": "ACCEPTED", "assign": "ASSIGNED", "start": "IN_PROGRESS", "resolve": "RESOLVED",
	"confirm": "CLOSED", "reopen": "ASSIGNED", "reject": "REJECTED"}

var mutations = map[string]string{"accept": acceptM, "assign": assignM, "start": startM, "resolve": resolveM,
	"confirm": confirmM, "reopen": reopenM, "reject": rejectM}

// sees says who may read a request in status (assigned from ASSIGNED on).
func sees(actor, status string) bool {
	switch actor {
	case aSubmitter, aStaff:
		return true
	case aLeader, aAssignee:
		return status != "SUBMITTED" && status != "ACCEPTED" && status != "REJECTED"
	}
	return false
}

// Every (status, transition, actor): the allowed ones succeed and reach
// their status; the others are refused, with NOT_FOUND for whoever may not
// read the request, CONFLICT when its status does not allow the
// transition, FORBIDDEN when it does but not for them; and a refusal
// changes nothing.
func TestTransitionMatrix(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		for status, table := range allowed {
			shared := w.reach(t, status)
			for action, m := range mutations {
				statusOK := len(table[action]) > 0
				for _, actor := range actors {
					vars := map[string]any(nil)
					if action == "assign" {
						vars = w.assignVars()
					}
					ok := false
					for _, a := range table[action] {
						ok = ok || a == actor
					}
					if ok {
						id := w.reach(t, status)
						if got := w.must(t, actor, m, id, vars); got.Status != after[action] {
							t.Errorf("%s %s by %s: status %s, want %s", action, status, actor, got.Status, after[action])
						}
						continue
					}
					want := "FORBIDDEN"
					switch {
					case actor == aKiosk:
						want = "FORBIDDEN" // a kiosk raises and handles no requests
					case !sees(actor, status):
						want = "NOT_FOUND"
					case !statusOK:
						want = "CONFLICT"
					}
					if got := w.do(t, actor, m, shared, vars).Code(); got != want {
						t.Errorf("%s a %s request by %s: %q, want %s", action, status, actor, got, want)
					}
				}
			}
			var st struct{ Node struct{ Status string } }
			e.Do(t, w.tokens[aStaff], `query($id: ID!) { node(id: $id) { ... on Request { status } } }`, map[string]any{"id": shared}).Decode(t, &st)
			if st.Node.Status != status {
				t.Errorf("refused transitions moved a %s request to %s", status, st.Node.Status)
			}
		}
	})
}

// Two staff resolving the same request at once: one wins, the other gets
// CONFLICT, and the history holds one resolution.
func TestConcurrentResolveOneWins(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		for round := range 4 {
			id := w.reach(t, "IN_PROGRESS")
			var wg sync.WaitGroup
			codes := make([]string, 2)
			start := make(chan struct{})
			for i, actor := range []string{aStaff, aStaff2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res, err := linlitest.Send(e.Server.Client(), e.Server.URL+"/graphql", w.tokens[actor], resolveM, map[string]any{"id": id})
					if err != nil {
						codes[i] = err.Error()
						return
					}
					codes[i] = res.Code()
				}()
			}
			close(start)
			wg.Wait()
			if !(codes[0] == "" && codes[1] == "CONFLICT" || codes[0] == "CONFLICT" && codes[1] == "") {
				t.Fatalf("round %d: codes %q, want one success and one CONFLICT", round, codes)
			}
			var h struct {
				Node struct{ History []struct{ Action string } }
			}
			e.Do(t, w.tokens[aStaff], `query($id: ID!) { node(id: $id) { ... on Request { history { action } } } }`, map[string]any{"id": id}).Decode(t, &h)
			n := 0
			for _, ev := range h.Node.History {
				if ev.Action == "RESOLVE" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("round %d: %d resolutions in the history", round, n)
			}
		}
	})
}

// TestCoordinatorStartsAssignedRequest: a request assigned to a team and a
// volunteer is started by a coordinator (no self-assignment needed), and
// the history records who started it.
func TestCoordinatorStartsAssignedRequest(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		id := w.reach(t, "ASSIGNED")
		if got := w.must(t, aStaff, startM, id, nil); got.Status != "IN_PROGRESS" {
			t.Fatalf("coordinator's start: %s, want IN_PROGRESS", got.Status)
		}
		// Once started, a second start is a CONFLICT, for staff too.
		if code := w.do(t, aStaff, startM, id, nil).Code(); code != "CONFLICT" {
			t.Fatalf("second start: %q, want CONFLICT", code)
		}
	})
}
