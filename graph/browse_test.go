package graph_test

import (
	"fmt"
	"testing"
	"time"

	"linli/ent/activity"
	"linli/linlitest"
	"linli/viewer"
)

func TestBrowseActivities(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, res := e.Person(t, c.ID, "居民")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		now := time.Now().UTC().Truncate(time.Second)
		team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName("医疗健康服务队").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		mk := func(title string, cat activity.Category, st activity.Status, startIn time.Duration) int {
			a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: title, Category: cat, Status: st, StartsAt: now.Add(startIn)})
			return a.ID
		}
		clinic := mk("义诊", activity.CategorySQUARE, activity.StatusPUBLISHED, 48*time.Hour)
		if err := e.Client.Activity.UpdateOneID(clinic).SetTeamID(team.ID).SetServiceType(activity.ServiceTypeHEALTH).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		lecture := mk("道德讲堂", activity.CategoryHALL, activity.StatusPUBLISHED, 24*time.Hour)
		past := mk("去年的演出", activity.CategorySQUARE, activity.StatusCOMPLETED, -300*24*time.Hour)
		draft := mk("草稿", activity.CategorySCHOOL, activity.StatusDRAFT, 72*time.Hour)
		closed := mk("报名已截止", activity.CategorySCHOOL, activity.StatusPUBLISHED, 96*time.Hour)
		if err := e.Client.Activity.UpdateOneID(closed).SetSignupClosesAt(now.Add(-time.Hour)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		notYet := mk("尚未开放", activity.CategoryONLINE, activity.StatusPUBLISHED, 120*time.Hour)
		if err := e.Client.Activity.UpdateOneID(notYet).SetSignupOpensAt(now.Add(time.Hour)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		q := `query($w: ActivityWhereInput, $o: ActivityOrder, $first: Int, $after: Cursor) {
			activities(first: $first, after: $after, where: $w, orderBy: $o) {
				totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`
		type page struct {
			Activities struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		ids := func(token string, vars map[string]any) []string {
			t.Helper()
			if vars["first"] == nil {
				vars["first"] = 50
			}
			var p page
			e.Do(t, token, q, vars).Decode(t, &p)
			var out []string
			for _, ed := range p.Activities.Edges {
				out = append(out, ed.Node.ID)
			}
			return out
		}
		asc := map[string]any{"field": "STARTS_AT", "direction": "ASC"}
		want := func(name string, got []string, ids ...int) {
			t.Helper()
			w := []string{}
			for _, i := range ids {
				w = append(w, linlitest.ID(i))
			}
			if fmt.Sprint(got) != fmt.Sprint(w) && !(len(got) == 0 && len(w) == 0) {
				t.Errorf("%s: got %v, want %v", name, got, w)
			}
		}
		want("resident, all, by start", ids(res, map[string]any{"o": asc}), past, lecture, clinic, closed, notYet)
		want("staff see drafts", ids(coord, map[string]any{"o": asc}), past, lecture, clinic, draft, closed, notYet)
		want("open for sign-up", ids(res, map[string]any{"o": asc, "w": map[string]any{"openForSignup": true}}), lecture, clinic)
		want("not open", ids(res, map[string]any{"o": asc, "w": map[string]any{"openForSignup": false}}), past, closed, notYet)
		want("category", ids(res, map[string]any{"o": asc, "w": map[string]any{"category": "SQUARE"}}), past, clinic)
		want("service type + team", ids(res, map[string]any{"w": map[string]any{"serviceType": "HEALTH", "teamID": linlitest.ID(team.ID)}}), clinic)
		want("status", ids(res, map[string]any{"w": map[string]any{"status": "COMPLETED"}}), past)
		want("time range", ids(res, map[string]any{"o": asc, "w": map[string]any{"startsAtGTE": now, "startsAtLT": now.Add(50 * time.Hour)}}), lecture, clinic)
		want("community", ids(res, map[string]any{"o": asc, "w": map[string]any{"communityID": linlitest.ID(c.ID), "categoryIn": []string{"HALL", "ONLINE"}}}), lecture, notYet)
		want("resident asks for drafts", ids(res, map[string]any{"w": map[string]any{"status": "DRAFT"}}))

		// Cursor pagination walks every activity exactly once.
		var seen []string
		vars := map[string]any{"first": 2, "o": asc}
		for i := 0; i < 10; i++ {
			var p page
			e.Do(t, res, q, vars).Decode(t, &p)
			for _, ed := range p.Activities.Edges {
				seen = append(seen, ed.Node.ID)
			}
			if !p.Activities.PageInfo.HasNextPage {
				break
			}
			vars["after"] = p.Activities.PageInfo.EndCursor
		}
		want("paginated", seen, past, lecture, clinic, closed, notYet)
	})
}
