package demo_test

import (
	"slices"
	"testing"
	"time"

	"linli/demo"
	"linli/ent"
	"linli/ent/request"
	"linli/linlitest"
)

// The demo's year of requests shows the seed's figures (200+ received, 30
// disputes mediated), every story is in the past and consistent with its
// history, and the demo accounts work with them through the API.
func TestDemoRequests(t *testing.T) {
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		ctx, now := e.Sys(), time.Now()
		q := qianjin(t, e)
		yearAgo := now.AddDate(-1, 0, 0)
		rs, err := e.Client.Request.Query().Where(request.CommunityID(q.ID), request.CreatedAtGTE(yearAgo)).WithEvents().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) < 200 || len(rs) < demo.QianjinRequests {
			t.Fatalf("%d requests in the year, want %d+", len(rs), demo.QianjinRequests)
		}
		mediated, overdue, statuses, channels := 0, 0, map[request.Status]int{}, map[request.Channel]int{}
		for _, r := range rs {
			statuses[r.Status]++
			channels[r.Channel]++
			resolved := r.Status == request.StatusRESOLVED || r.Status == request.StatusCLOSED
			if resolved && r.Kind == request.KindDISPUTE && *r.Outcome == request.OutcomeMEDIATED && r.ResolvedAt.After(yearAgo) {
				mediated++
			}
			if r.DueAt != nil && r.DueAt.Before(now) && slices.Contains([]request.Status{request.StatusACCEPTED, request.StatusASSIGNED, request.StatusIN_PROGRESS}, r.Status) {
				overdue++
			}
			if resolved != (r.Outcome != nil && r.ResolvedAt != nil) || (r.Status == request.StatusCLOSED) != (r.Satisfaction != nil) {
				t.Fatalf("%s %s: outcome %v resolvedAt %v satisfaction %v", r.Number, r.Status, r.Outcome, r.ResolvedAt, r.Satisfaction)
			}
			evs := r.Edges.Events
			slices.SortFunc(evs, func(a, b *ent.RequestEvent) int { return a.At.Compare(b.At) })
			if len(evs) == 0 || evs[0].Action != "SUBMIT" || string(evs[len(evs)-1].Status) != string(r.Status) {
				t.Fatalf("%s %s: history %v", r.Number, r.Status, evs)
			}
			for _, ev := range evs {
				if ev.At.After(now) {
					t.Fatalf("%s: %s in the future", r.Number, ev.Action)
				}
			}
		}
		if mediated != demo.QianjinDisputesMediated {
			t.Errorf("%d disputes mediated, want %d", mediated, demo.QianjinDisputesMediated)
		}
		if overdue == 0 || statuses[request.StatusSUBMITTED] == 0 || statuses[request.StatusREJECTED] == 0 || statuses[request.StatusRESOLVED] == 0 || len(channels) != 5 {
			t.Errorf("overdue %d, statuses %v, channels %v", overdue, statuses, channels)
		}

		// The demo accounts.
		token := func(a demo.Account) string {
			var out struct{ Login struct{ Token string } }
			e.Do(t, "", `mutation($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { token } }`,
				map[string]any{"p": a.Phone, "pw": a.Password}).Decode(t, &out)
			return out.Login.Token
		}
		var resident, coord demo.Account
		for _, a := range demo.Accounts {
			switch {
			case a.Community == demo.Qianjin && a.DisplayName == "章桂兰":
				resident = a
			case a.Community == demo.Qianjin && a.DisplayName == "汪晓梅":
				coord = a
			}
		}
		var mine struct {
			MyRequests struct{ TotalCount int }
		}
		e.Do(t, token(resident), `{ myRequests(first: 10) { totalCount } }`, nil).Decode(t, &mine)
		if mine.MyRequests.TotalCount != 3 {
			t.Errorf("the demo resident has %d requests", mine.MyRequests.TotalCount)
		}
		staff := token(coord)
		var list struct {
			Requests struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Number string } }
			}
		}
		e.Do(t, staff, `{ requests(first: 5, where: {status: SUBMITTED}) { totalCount edges { node { id number } } } }`, nil).Decode(t, &list)
		if list.Requests.TotalCount == 0 {
			t.Fatal("no submitted demo request")
		}
		// The coordinator works on a demo request like on any other.
		e.Do(t, staff, `mutation($id: ID!) { acceptRequest(id: $id) { status } }`, map[string]any{"id": list.Requests.Edges[0].Node.ID}).Decode(t, &struct{}{})
		var sub struct{ SubmitRequest struct{ Number string } }
		e.Do(t, token(resident), `mutation { submitRequest(input: {kind: OTHER, title: "咨询", description: ""}) { number } }`, nil).Decode(t, &sub)
		last, err := e.Client.Request.Query().Where(request.CommunityID(q.ID)).Order(request.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range last {
			if seen[r.Number] {
				t.Fatalf("number %s twice", r.Number)
			}
			seen[r.Number] = true
		}
		if sub.SubmitRequest.Number != last[len(last)-1].Number || len(sub.SubmitRequest.Number) != len("QJ-2026-0001") {
			t.Fatalf("new request numbered %q", sub.SubmitRequest.Number)
		}
	})
}
