package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"linli/app"
	"linli/linlitest"
	"linli/viewer"
)

// Lists are costed by their bound, and the bound holds at runtime.

// teamsCycle walks teams → members → their teams → … three times: a few
// dozen tokens whose answer grows with the product of the lists' lengths.
const teamsCycle = `teams{memberships{person{teams{team{memberships{person{teams{team{memberships{person{displayName}}}}}}}}}}}`

func TestNestedListsAreRefusedBeforeSQL(t *testing.T) {
	sink, logTo := captureLogs(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Coordinator)
		seedTeams(t, e, c.ID, 3, 20)
		e.Do(t, tok, `{ viewer { id } }`, nil) // the token is cached from here on
		var aliases strings.Builder
		for i := range 20 {
			fmt.Fprintf(&aliases, " a%d: %s", i, teamsCycle)
		}
		for _, q := range []string{"{" + teamsCycle + "}", "{" + aliases.String() + " }"} {
			logged := sink.Lines("ERROR") + sink.Lines("WARN")
			before := e.Statements.Load()
			res := e.Do(t, tok, q, nil)
			res.WantCode(t, "QUERY_TOO_COMPLEX")
			if len(res.Errors) != 1 {
				t.Errorf("%d errors, want 1", len(res.Errors))
			}
			if n := e.Statements.Load() - before; n != 0 {
				t.Errorf("a refused query ran %d SQL statements", n)
			}
			if n := sink.Lines("ERROR") + sink.Lines("WARN") - logged; n > 1 {
				t.Errorf("a refused query logged %d lines", n)
			}
		}
		// The same walk one level deep is an ordinary page: answered.
		var got struct {
			Teams []struct {
				Memberships []struct{ Person struct{ DisplayName string } }
			}
		}
		e.Do(t, tok, `{ teams { memberships { person { displayName } } } }`, nil).Decode(t, &got)
		if len(got.Teams) != 3 || len(got.Teams[0].Memberships) != 20 {
			t.Fatalf("teams page: %+v", got)
		}
	}, logTo)
}

// A list longer than its bound (here: a budget of 300 resolved fields) is cut
// at runtime: the answer is one QUERY_TOO_COMPLEX error and no data.
func TestResolvedFieldsAreBudgeted(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		seedActivities(t, e, c.ID, 60)
		// Five activities resolve about a hundred fields: answered.
		checkNestedPage(t, e.Do(t, tok, nestedActivitiesQuery, map[string]any{"n": 5}), 5)
		// Fifty resolve about a thousand.
		res := e.Do(t, tok, nestedActivitiesQuery, map[string]any{"n": 50})
		res.WantCode(t, "QUERY_TOO_COMPLEX")
		if len(res.Errors) != 1 {
			t.Errorf("%d errors, want 1: %.300v", len(res.Errors), res.Errors)
		}
		if string(res.Data) != "null" {
			t.Errorf("data %.200s, want null", res.Data)
		}
	}, func(c *app.Config) { c.GraphQL.MaxResolvedFields = 300 })
}

// A response with many failing fields logs one line, not one per field.
func TestFailedFieldsLogOneLine(t *testing.T) {
	sink, logTo := captureLogs(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		var q strings.Builder
		q.WriteString("{")
		for i := range 20 {
			fmt.Fprintf(&q, " a%d: communities { id }", i)
		}
		q.WriteString(" }")
		// Every statement now fails inside the driver.
		if err := e.DB.SQL.Close(); err != nil {
			t.Fatal(err)
		}
		logged := sink.Lines("ERROR")
		res := e.Do(t, "", q.String(), nil)
		if len(res.Errors) != 20 {
			t.Fatalf("%d errors, want 20: %+v", len(res.Errors), res.Errors)
		}
		res.WantCode(t, "INTERNAL")
		if n := sink.Lines("ERROR") - logged; n != 1 {
			t.Errorf("logged %d error lines, want 1:\n%s", n, sink.String())
		}
		if !strings.Contains(sink.String(), "errors=20") {
			t.Errorf("the line does not count the errors:\n%s", sink.String())
		}
	}, logTo)
}

// seedTeams creates n teams of m members each.
func seedTeams(t *testing.T, e *linlitest.Env, cid, n, m int) {
	t.Helper()
	for i := range n {
		tm, err := e.Client.Team.Create().SetCommunityID(cid).SetName(fmt.Sprintf("队伍%d", i)).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		for j := range m {
			p, _ := e.Person(t, cid, fmt.Sprintf("队员%d-%d", i, j), viewer.Volunteer)
			if _, err := e.Client.TeamMembership.Create().SetTeamID(tm.ID).SetPersonID(p.ID).SetCommunityID(cid).Save(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A mutation past the budget took effect, and its one error says so.
func TestBudgetedMutationSaysItWasDone(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		res := e.Do(t, tok, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome
			registration { id status seats slot { id name activity { id title slots { id name capacity taken } } } } } }`,
			map[string]any{"s": linlitest.ID(slots[0].ID)})
		res.WantCode(t, "QUERY_TOO_COMPLEX")
		if len(res.Errors) != 1 || !strings.Contains(firstMessage(res), "carried out") {
			t.Errorf("errors %+v, data %s", res.Errors, res.Data)
		}
		if n := e.Client.Registration.Query().CountX(e.Sys()); n != 1 {
			t.Errorf("%d registrations, want 1", n)
		}
	}, func(c *app.Config) { c.GraphQL.MaxResolvedFields = 8 })
}
