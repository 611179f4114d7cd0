package requests_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"linli/app"
	entrequest "linli/ent/request"
	"linli/linlitest"
)

// A retried submission with the same key returns the first request, even
// when the retries race; the same key with different input is CONFLICT.
func TestIdempotentSubmit(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		in := map[string]any{"kind": "ENVIRONMENT", "title": "垃圾桶满了", "description": "小区东门", "idempotencyKey": "k-1"}
		var ids [6]string
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data, err := linlitest.SendData(e.Server.Client(), e.Server.URL+"/graphql", w.tokens[aSubmitter], submitM, map[string]any{"in": in})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = string(data)
			}()
		}
		wg.Wait()
		for _, d := range ids {
			if d != ids[0] {
				t.Fatalf("retries answered differently:\n%s\n%s", ids[0], d)
			}
		}
		n, err := e.Client.Request.Query().Where(entrequest.CommunityID(w.c.ID)).Count(e.Sys())
		if err != nil || n != 1 {
			t.Fatalf("%d requests stored (%v), want 1", n, err)
		}
		in["title"] = "垃圾桶坏了"
		res := e.Do(t, w.tokens[aSubmitter], submitM, map[string]any{"in": in})
		if res.WantCode(t, "CONFLICT"); res.Field() != "idempotencyKey" {
			t.Fatalf("field %q", res.Field())
		}
		// The key is the person's own: another resident's same key is theirs.
		other := w.submit(t, aResident, "路灯坏了", "")
		if other.Number == "" {
			t.Fatal("no number")
		}
	})
}

// Concurrent submissions (two replicas on PostgreSQL) each get their own
// number, without gaps: QJ-<year>-0001 … in the community, and the other
// community's numbering is its own.
func TestNumbersUniqueUnderConcurrency(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		envs := []*linlitest.Env{e}
		if e.Backend == "postgres" {
			envs = append(envs, linlitest.NewAt(t, e.Backend, e.App.Config.DatabaseURL))
		}
		const n = 24
		_, tokens := e.People(t, w.c.ID, n, "居民")
		numbers := make([]string, n)
		var wg sync.WaitGroup
		client := linlitest.ConcurrentClient(n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv := envs[i%len(envs)].Server.URL
				res, err := linlitest.Send(client, srv+"/graphql", tokens[i], submitM, map[string]any{"in": map[string]any{
					"kind": "LIVELIHOOD", "title": fmt.Sprintf("诉求%d", i), "description": ""}})
				if err != nil || len(res.Errors) > 0 {
					t.Errorf("submit %d: %v %+v", i, err, res)
					return
				}
				var out struct{ SubmitRequest request }
				res.Decode(t, &out)
				numbers[i] = out.SubmitRequest.Number
			}()
		}
		wg.Wait()
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
		var want []string
		for i := 1; i <= n; i++ {
			want = append(want, fmt.Sprintf("QJ-%d-%04d", year, i))
		}
		slices.Sort(numbers)
		if !slices.Equal(numbers, want) {
			t.Fatalf("numbers %v", numbers)
		}
		// Another community numbers from 1, with the default prefix.
		_, tok := e.Person(t, w.other.ID, "东风居民")
		var out struct{ SubmitRequest request }
		e.Do(t, tok, submitM, map[string]any{"in": map[string]any{"kind": "OTHER", "title": "咨询", "description": ""}}).Decode(t, &out)
		if out.SubmitRequest.Number != fmt.Sprintf("R-%d-0001", year) {
			t.Fatalf("other community: %s", out.SubmitRequest.Number)
		}
	})
}

// Who may submit what: a resident their own request by APP; staff on
// behalf of a resident or household of their community, saying how it
// came; the resident then sees it as theirs.
func TestSubmitOnBehalf(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		h, err := e.Client.Household.Create().SetCommunityID(w.c.ID).SetAddress("上码头小区3栋2单元301").SetHeadName("王大爷").SetSize(2).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		in := func(extra map[string]any) map[string]any {
			m := map[string]any{"kind": "ELDERLY_CARE", "title": "需要助餐", "description": "腿脚不便"}
			for k, v := range extra {
				m[k] = v
			}
			return map[string]any{"in": m}
		}
		for _, c := range []struct {
			actor       string
			extra       map[string]any
			code, field string
		}{
			{aSubmitter, map[string]any{"onBehalfOfID": e.ID(w.vol.ID), "channel": "PHONE"}, "FORBIDDEN", ""},
			{aSubmitter, map[string]any{"channel": "PHONE"}, "VALIDATION_FAILED", "channel"},
			{aLeader, map[string]any{"householdID": e.ID(h.ID), "channel": "HOME_VISIT"}, "FORBIDDEN", ""},
			{aStaff, map[string]any{"onBehalfOfID": e.ID(w.sub.ID)}, "VALIDATION_FAILED", "channel"},
			{aOtherStaff, map[string]any{"onBehalfOfID": e.ID(w.sub.ID), "channel": "PHONE"}, "VALIDATION_FAILED", "onBehalfOfID"},
			{aOtherStaff, map[string]any{"householdID": e.ID(h.ID), "channel": "PHONE"}, "VALIDATION_FAILED", "householdID"},
			{aStaff, map[string]any{"title": " "}, "VALIDATION_FAILED", "title"},
			{aKiosk, nil, "FORBIDDEN", ""},
			{"", nil, "UNAUTHENTICATED", ""},
		} {
			res := e.Do(t, w.tokens[c.actor], submitM, in(c.extra))
			if res.Code() != c.code || res.Field() != c.field {
				t.Errorf("%s %v: %s %s, want %s %s", c.actor, c.extra, res.Code(), res.Field(), c.code, c.field)
			}
		}
		var out struct {
			SubmitRequest struct {
				ID, Channel string
				Submitter   struct{ ID string }
				Household   struct{ Address string }
			}
		}
		e.Do(t, w.tokens[aStaff], `mutation($in: SubmitRequestInput!) { submitRequest(input: $in) { id channel submitter { id } household { address } } }`,
			in(map[string]any{"onBehalfOfID": e.ID(w.sub.ID), "householdID": e.ID(h.ID), "channel": "PHONE"})).Decode(t, &out)
		if out.SubmitRequest.Channel != "PHONE" || e.IntID(t, out.SubmitRequest.Submitter.ID) != w.sub.ID || out.SubmitRequest.Household.Address != "上码头小区3栋2单元301" {
			t.Fatalf("on behalf: %+v", out)
		}
		var mine struct {
			MyRequests struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		e.Do(t, w.tokens[aSubmitter], `{ myRequests(first: 10) { edges { node { id } } } }`, nil).Decode(t, &mine)
		if len(mine.MyRequests.Edges) != 1 || mine.MyRequests.Edges[0].Node.ID != out.SubmitRequest.ID {
			t.Fatalf("the resident's requests: %+v", mine)
		}
		// The resident confirms what staff entered for them.
		id := out.SubmitRequest.ID
		w.must(t, aStaff, acceptM, id, nil)
		w.must(t, aStaff, resolveM, id, nil)
		w.must(t, aSubmitter, confirmM, id, nil)
	})
}

// Overdue is computed from dueAt at read time: the field and the filter
// agree, and a resolved request is no longer overdue.
func TestOverdue(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		late := w.reach(t, "ASSIGNED")
		onTime := w.reach(t, "ASSIGNED")
		fresh := w.reach(t, "SUBMITTED")
		// Time passes: late was due an hour ago.
		if err := e.Client.Request.UpdateOneID(e.IntID(t, late)).SetDueAt(time.Now().Add(-time.Hour)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		overdue := func(flag bool) map[string]bool {
			var out struct {
				Requests struct {
					Edges []struct {
						Node struct {
							ID      string
							Overdue bool
						}
					}
				}
			}
			e.Do(t, w.tokens[aStaff], `query($o: Boolean) { requests(first: 50, where: {overdue: $o}) { edges { node { id overdue } } } }`,
				map[string]any{"o": flag}).Decode(t, &out)
			got := map[string]bool{}
			for _, ed := range out.Requests.Edges {
				if ed.Node.Overdue != flag {
					t.Errorf("requests(overdue: %v) lists %s with overdue %v", flag, ed.Node.ID, ed.Node.Overdue)
				}
				got[ed.Node.ID] = true
			}
			return got
		}
		if got := overdue(true); len(got) != 1 || !got[late] {
			t.Fatalf("overdue: %v, want only %s", got, late)
		}
		if got := overdue(false); len(got) != 2 || !got[onTime] || !got[fresh] {
			t.Fatalf("not overdue: %v", got)
		}
		w.must(t, aStaff, resolveM, late, nil)
		if got := overdue(true); len(got) != 0 {
			t.Fatalf("a resolved request is still overdue: %v", got)
		}
	})
}

// The submitter may reopen within -request-reopen-days of the resolution
// (here 2): it goes back to the assignee, its outcome cleared; later it is
// REOPEN_WINDOW_CLOSED.
func TestReopenWindow(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		resolvedAgo := func(id string, d time.Duration) {
			if err := e.Client.Request.UpdateOneID(e.IntID(t, id)).SetResolvedAt(time.Now().Add(-d)).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
		closed := w.reach(t, "CLOSED")
		resolvedAgo(closed, 47*time.Hour)
		if got := w.must(t, aSubmitter, reopenM, closed, nil); got.Status != "ASSIGNED" {
			t.Fatalf("reopened: %s", got.Status)
		}
		var out struct {
			Node struct {
				Status       string
				Outcome      *string
				Satisfaction *int
				ResolvedAt   *time.Time
				Assignee     struct{ ID string }
			}
		}
		e.Do(t, w.tokens[aStaff], `query($id: ID!) { node(id: $id) { ... on Request { status outcome satisfaction resolvedAt assignee { id } } } }`,
			map[string]any{"id": closed}).Decode(t, &out)
		if out.Node.Outcome != nil || out.Node.Satisfaction != nil || out.Node.ResolvedAt != nil || e.IntID(t, out.Node.Assignee.ID) != w.vol.ID {
			t.Fatalf("reopened request: %+v", out.Node)
		}
		// Back with the assignee, who starts and resolves it again.
		w.must(t, aAssignee, startM, closed, nil)
		w.must(t, aAssignee, resolveM, closed, nil)

		late := w.reach(t, "RESOLVED")
		resolvedAgo(late, 49*time.Hour)
		w.do(t, aSubmitter, reopenM, late, nil).WantCode(t, "REOPEN_WINDOW_CLOSED")
	}, func(c *app.Config) { c.RequestReopenDays = 2 })
}
