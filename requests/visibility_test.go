package requests_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"linli/linlitest"
)

// Who reads a request, on every path: node(id:), the list, its filters,
// myRequests, the history and both subscriptions. The submitter, staff,
// the assigned team's leader and the assignee read it; the other
// resident, the other team's leader, a kiosk and another community's
// coordinator do not. The description (and the history's notes) is
// withheld from the team's leader.
func TestVisibilityMatrix(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		id := w.reach(t, "ASSIGNED")
		const secret = "老人独居，有心脏病史，请上午来"
		// A home visit served it: the visit's request edge is a nested path.
		h, err := e.Client.Household.Create().SetCommunityID(w.c.ID).SetAddress("上码头小区3栋2单元301").SetSize(1).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Client.HomeVisit.Create().SetCommunityID(w.c.ID).SetHouseholdID(h.ID).SetKind("HOME_SERVICE").
			SetVisitedAt(time.Now()).SetMinutes(30).SetRequestID(e.IntID(t, id)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}

		for _, actor := range actors {
			tok := w.tokens[actor]
			visible := sees(actor, "ASSIGNED")
			fullText := actor == aSubmitter || actor == aStaff || actor == aAssignee

			// node(id:)
			res := e.Do(t, tok, `query($id: ID!) { node(id: $id) { ... on Request { id description descriptionWithheld history { action note } } } }`,
				map[string]any{"id": id})
			var node struct {
				Node *struct {
					ID, Description     string
					DescriptionWithheld bool
					History             []struct{ Action, Note string }
				}
			}
			_ = json.Unmarshal(res.Data, &node)
			switch {
			case !visible:
				if node.Node != nil || (res.Code() != "NOT_FOUND" && res.Code() != "") {
					t.Errorf("%s: node(id:) answered %s %+v", actor, res.Code(), res.Errors)
				}
			case node.Node == nil:
				t.Errorf("%s: node(id:) hid the request: %+v", actor, res.Errors)
			case fullText && (node.Node.Description != secret || node.Node.DescriptionWithheld):
				t.Errorf("%s: description %q withheld=%v", actor, node.Node.Description, node.Node.DescriptionWithheld)
			case !fullText && (node.Node.Description != "" || !node.Node.DescriptionWithheld):
				t.Errorf("%s: description %q withheld=%v, want it withheld", actor, node.Node.Description, node.Node.DescriptionWithheld)
			case !fullText && node.Node.History[2].Note != "":
				t.Errorf("%s: history note %q, want it withheld", actor, node.Node.History[2].Note)
			case fullText && node.Node.History[2].Note == "":
				t.Errorf("%s: history note withheld", actor)
			}

			// Nested: a home visit's request (whoever may read the visit).
			var hv struct {
				Node *struct {
					Visits struct {
						Edges []struct {
							Node struct {
								Request *struct{ ID, Description string }
							}
						}
					}
				}
			}
			res = e.Do(t, tok, `query($id: ID!) { node(id: $id) { ... on Household { visits(first: 5) { edges { node { request { id description } } } } } } }`,
				map[string]any{"id": e.ID(h.ID)})
			_ = json.Unmarshal(res.Data, &hv)
			if actor == aStaff && (hv.Node == nil || len(hv.Node.Visits.Edges) != 1) {
				t.Errorf("staff do not see the household's visit: %+v %+v", hv, res.Errors)
			}
			if hv.Node != nil {
				for _, ed := range hv.Node.Visits.Edges {
					if got := ed.Node.Request != nil; got != visible {
						t.Errorf("%s: a visit's request shows: %v, want %v", actor, got, visible)
					} else if got && !fullText && ed.Node.Request.Description != "" {
						t.Errorf("%s: a visit's request shows the description", actor)
					}
				}
			}

			// The list, its filters, myRequests.
			list := func(query string, vars map[string]any) []string {
				var out map[string]struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
				r := e.Do(t, tok, query, vars)
				if actor == aKiosk && r.Code() == "FORBIDDEN" {
					return nil // a kiosk has no requests of its own
				}
				if len(r.Errors) > 0 {
					t.Errorf("%s: %s: %+v", actor, query, r.Errors)
					return nil
				}
				r.Decode(t, &out)
				var ids []string
				for _, c := range out {
					for _, ed := range c.Edges {
						ids = append(ids, ed.Node.ID)
					}
					if c.TotalCount != len(ids) {
						t.Errorf("%s: totalCount %d for %d rows", actor, c.TotalCount, len(ids))
					}
				}
				return ids
			}
			const q = `query($w: RequestWhereInput) { requests(first: 50, where: $w) { totalCount edges { node { id } } } }`
			for name, where := range map[string]map[string]any{
				"all":      nil,
				"title":    {"text": "水龙头"},
				"assignee": {"assigneeID": e.ID(w.vol.ID)},
				"status":   {"statusIn": []string{"ASSIGNED"}},
			} {
				if got := slices.Contains(list(q, map[string]any{"w": where}), id); got != visible {
					t.Errorf("%s: requests(%s) lists it: %v, want %v", actor, name, got, visible)
				}
			}
			// A text search looks into descriptions for staff only, so it
			// cannot probe one withheld.
			if got := slices.Contains(list(q, map[string]any{"w": map[string]any{"text": "心脏病"}}), id); got != (actor == aStaff) {
				t.Errorf("%s: a description search finds it: %v", actor, got)
			}
			if got := slices.Contains(list(`{ myRequests(first: 50) { totalCount edges { node { id } } } }`, nil), id); got != (actor == aSubmitter) {
				t.Errorf("%s: myRequests lists it: %v", actor, got)
			}
		}
	})
}

const (
	updatesSub = `subscription($c: ID!) { requestUpdates(communityID: $c) { action status note request { id description descriptionWithheld } } }`
	mineSub    = `subscription { myRequestUpdates { action status request { id } } }`
)

type updateMsg struct {
	Action, Status, Note string
	Request              struct {
		ID, Description     string
		DescriptionWithheld bool
	}
}

// Each transition reaches, live, exactly those who may read the request,
// as they may read it.
func TestSubscriptionVisibility(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		id := w.reach(t, "ASSIGNED")
		socks := map[string]*wsClient{}
		for _, actor := range actors {
			ws := dial(t, e, w.tokens[actor])
			cid := w.c.ID
			if actor == aOtherStaff {
				cid = w.other.ID // their own community's requests
			}
			ws.subscribe("u", updatesSub, map[string]any{"c": e.ID(cid)})
			ws.subscribe("m", mineSub, nil)
			socks[actor] = ws
		}
		// Refused subscriptions answer at once with FORBIDDEN: a kiosk's
		// both, another community's coordinator's for this community.
		foreign := dial(t, e, w.tokens[aOtherStaff])
		foreign.subscribe("x", updatesSub, map[string]any{"c": e.ID(w.c.ID)})
		for _, ws := range []*wsClient{socks[aKiosk], socks[aKiosk], foreign} {
			if code := refusal(t, ws); code != "FORBIDDEN" {
				t.Fatalf("refused subscription: %q, want FORBIDDEN", code)
			}
		}
		time.Sleep(300 * time.Millisecond) // the subscriptions are in place
		w.must(t, aAssignee, startM, id, nil)

		want := map[string][]string{ // actor → subscriptions that get the transition
			aSubmitter: {"u", "m"}, aStaff: {"u"}, aLeader: {"u"}, aAssignee: {"u"},
		}
		for _, actor := range actors {
			if actor == aKiosk {
				continue
			}
			got := map[string]updateMsg{}
			deadline := time.Now().Add(3 * time.Second)
			if len(want[actor]) == 0 {
				deadline = time.Now().Add(700 * time.Millisecond)
			}
			for time.Now().Before(deadline) && (len(got) < len(want[actor]) || len(want[actor]) == 0) {
				m, err := socks[actor].readOrTimeout(time.Until(deadline))
				if err != nil {
					break
				}
				if m.Type != "next" {
					t.Fatalf("%s: %+v", actor, m)
				}
				var p struct {
					Data map[string]updateMsg
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil {
					t.Fatal(err)
				}
				for _, u := range p.Data {
					got[m.ID] = u
				}
			}
			if len(got) != len(want[actor]) {
				t.Errorf("%s: got %d updates (%+v), want on %v", actor, len(got), got, want[actor])
				continue
			}
			for _, sub := range want[actor] {
				u, ok := got[sub]
				if !ok || u.Action != "START" || u.Status != "IN_PROGRESS" || u.Request.ID != id {
					t.Errorf("%s on %s: %+v", actor, sub, u)
				}
			}
			if u := got["u"]; actor == aLeader && (!u.Request.DescriptionWithheld || u.Request.Description != "") {
				t.Errorf("the team leader's update shows the description: %+v", u)
			} else if actor == aAssignee && u.Request.Description == "" {
				t.Errorf("the assignee's update withholds the description")
			}
		}
	})
}

// refusal reads a refused subscription's answer and returns its code.
func refusal(t *testing.T, ws *wsClient) string {
	t.Helper()
	m, err := ws.read(5 * time.Second)
	for err == nil && m.Type == "complete" {
		m, err = ws.read(5 * time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Errors []struct{ Extensions struct{ Code string } }
		Data   json.RawMessage
	}
	if m.Type == "error" {
		var errs []struct{ Extensions struct{ Code string } }
		_ = json.Unmarshal(m.Payload, &errs)
		p.Errors = errs
	} else {
		_ = json.Unmarshal(m.Payload, &p)
	}
	if len(p.Errors) == 0 || (len(p.Data) > 0 && string(p.Data) != "null") {
		t.Fatalf("want a refusal, got %s %s", m.Type, m.Payload)
	}
	return p.Errors[0].Extensions.Code
}
