package demo_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/auth"
	"linli/demo"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/person"
	"linli/ent/slot"
	"linli/ent/team"
	"linli/ent/teammembership"
	"linli/ent/venue"
	"linli/linlitest"
	"linli/viewer"
)

func load(t *testing.T, e *linlitest.Env) {
	t.Helper()
	start, before := time.Now(), e.Statements.Load()
	loaded, err := demo.Load(context.Background(), e.Client)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !loaded {
		t.Fatal("Load on an empty database reported loaded=false")
	}
	t.Logf("%s: Load took %v (%d SQL statements)", e.Backend, time.Since(start).Round(time.Millisecond), e.Statements.Load()-before)
}

func qianjin(t *testing.T, e *linlitest.Env) *ent.Community {
	t.Helper()
	c, err := e.Client.Community.Query().Where(community.Name(demo.Qianjin)).Only(e.Sys())
	if err != nil {
		t.Fatalf("find %s: %v", demo.Qianjin, err)
	}
	return c
}

func TestLoadContent(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		load(t, e)
		ctx := e.Sys()
		now := time.Now()

		if n := e.Client.Community.Query().CountX(ctx); n != 2 {
			t.Fatalf("communities = %d, want 2 (前进社区 and 红旗社区)", n)
		}
		q := qianjin(t, e)
		if q.Households != 526 || q.AreaKm2 != 2.5 || q.Town != "枞阳镇" || q.City != "铜陵市" ||
			!slices.Equal(q.StarThresholds, []int{100, 300, 600, 1000, 1500}) {
			t.Errorf("前进社区 = %+v", q)
		}

		teams := e.Client.Team.Query().Where(team.CommunityID(q.ID)).WithMemberships().AllX(ctx)
		if len(teams) != 6 {
			t.Fatalf("teams = %d, want 6", len(teams))
		}
		for _, tm := range teams {
			leaders := 0
			for _, m := range tm.Edges.Memberships {
				if m.Role == teammembership.RoleLEADER {
					leaders++
				}
			}
			if leaders != 1 || len(tm.Edges.Memberships) < 10 {
				t.Errorf("team %s: %d leaders, %d members; want 1 leader and at least 10 members", tm.Name, leaders, len(tm.Edges.Memberships))
			}
		}
		venues := e.Client.Venue.Query().Where(venue.CommunityID(q.ID)).AllX(ctx)
		if len(venues) < 4 {
			t.Errorf("venues = %d, want at least 4", len(venues))
		}

		people := e.Client.Person.Query().Where(person.CommunityID(q.ID)).WithVolunteerProfile().AllX(ctx)
		volunteers, residentsOnly := 0, 0
		names := map[string]bool{}
		for _, p := range people {
			if names[p.DisplayName] {
				t.Errorf("display name %s used twice", p.DisplayName)
			}
			names[p.DisplayName] = true
			isVolunteer := slices.Contains(p.Roles, string(viewer.Volunteer))
			if isVolunteer {
				volunteers++
				if p.Edges.VolunteerProfile == nil || len(p.Edges.VolunteerProfile.Skills) == 0 {
					t.Errorf("volunteer %s has no profile with skills", p.DisplayName)
				}
			} else if p.Edges.VolunteerProfile != nil {
				t.Errorf("%s has a volunteer profile but not the VOLUNTEER role", p.DisplayName)
			}
			if slices.Equal(p.Roles, []string{string(viewer.Resident)}) {
				residentsOnly++
			}
		}
		if volunteers != demo.QianjinVolunteers {
			t.Errorf("volunteers in 前进社区 = %d, want %d", volunteers, demo.QianjinVolunteers)
		}
		if residentsOnly < 10 {
			t.Errorf("plain residents = %d, want some", residentsOnly)
		}

		acts := e.Client.Activity.Query().Where(activity.CommunityID(q.ID)).WithSlots().AllX(ctx)
		categories := map[activity.Category]bool{}
		byStatus := map[activity.Status]int{}
		pastYear, openNow, opensLater, clinicOK := 0, 0, 0, false
		for _, a := range acts {
			categories[a.Category] = true
			byStatus[a.Status]++
			past := a.EndsAt.Before(now)
			if past != (a.Status == activity.StatusCOMPLETED) {
				t.Errorf("%s (%s) ends %v: past activities, and only they, should be COMPLETED", a.Title, a.Status, a.EndsAt)
			}
			if past && a.StartsAt.After(now.AddDate(-1, 0, 0)) {
				pastYear++
			}
			if a.SignupOpensAt == nil || a.SignupClosesAt == nil || !a.SignupOpensAt.Before(*a.SignupClosesAt) || a.SignupClosesAt.After(a.StartsAt) {
				t.Errorf("%s: bad sign-up window %v – %v (starts %v)", a.Title, a.SignupOpensAt, a.SignupClosesAt, a.StartsAt)
			}
			if a.Status == activity.StatusPUBLISHED && a.SignupOpensAt != nil && a.SignupClosesAt != nil {
				if a.SignupOpensAt.Before(now) && a.SignupClosesAt.After(now) {
					openNow++
				}
				if a.SignupOpensAt.After(now) {
					opensLater++
				}
			}
			if len(a.Edges.Slots) == 0 {
				t.Errorf("%s has no slots", a.Title)
			}
			var approvalDoctors, seats40 bool
			for _, s := range a.Edges.Slots {
				// Past activities' counters are recounted in TestDemoYearStatistics.
				if !past && (s.Taken != 0 || s.Waitlisted != 0 || s.Pending != 0 || s.CheckedIn != 0) {
					t.Errorf("%s/%s: counters %d/%d/%d/%d, want all 0", a.Title, s.Name, s.Taken, s.Waitlisted, s.Pending, s.CheckedIn)
				}
				approvalDoctors = approvalDoctors || (s.Kind == slot.KindVOLUNTEER && s.RequiresApproval)
				seats40 = seats40 || (s.Kind == slot.KindATTENDEE && s.Capacity == 40)
			}
			if a.ServiceType == activity.ServiceTypeHEALTH && a.Category == activity.CategorySQUARE && approvalDoctors && seats40 {
				clinicOK = true
			}
		}
		for _, c := range []activity.Category{activity.CategorySQUARE, activity.CategoryHALL, activity.CategoryFAMILY, activity.CategorySCHOOL, activity.CategoryONLINE} {
			if !categories[c] {
				t.Errorf("no activity in category %s", c)
			}
		}
		if pastYear != demo.PastActivities || pastYear < 30 {
			t.Errorf("activities held in the past year = %d, want %d (30+)", pastYear, demo.PastActivities)
		}
		if byStatus[activity.StatusPUBLISHED] < 5 || byStatus[activity.StatusDRAFT] < 1 || byStatus[activity.StatusCANCELLED] != 1 {
			t.Errorf("upcoming by status = %v, want ≥5 PUBLISHED, ≥1 DRAFT, 1 CANCELLED", byStatus)
		}
		if openNow < 3 || opensLater < 1 {
			t.Errorf("published activities open for sign-up now = %d, opening later = %d; want ≥3 and ≥1", openNow, opensLater)
		}
		if !clinicOK {
			t.Error("no free clinic with approval-only doctor positions and 40 attendee seats")
		}

		checkSameCommunity(t, e)
	})
}

// checkSameCommunity proves no demo row points into another community: the
// privacy rules filter by community_id, so a wrong one would leak.
func checkSameCommunity(t *testing.T, e *linlitest.Env) {
	t.Helper()
	ctx := e.Sys()
	for _, a := range e.Client.Activity.Query().WithSlots().WithTeam().WithVenue().AllX(ctx) {
		for _, s := range a.Edges.Slots {
			if s.CommunityID != a.CommunityID {
				t.Errorf("slot %s of %s is in community %d, the activity in %d", s.Name, a.Title, s.CommunityID, a.CommunityID)
			}
		}
		if tm := a.Edges.Team; tm != nil && tm.CommunityID != a.CommunityID {
			t.Errorf("%s is organised by team %s of another community", a.Title, tm.Name)
		}
		if v := a.Edges.Venue; v != nil && v.CommunityID != a.CommunityID {
			t.Errorf("%s is held at venue %s of another community", a.Title, v.Name)
		}
	}
	for _, m := range e.Client.TeamMembership.Query().WithTeam().WithPerson().AllX(ctx) {
		if m.Edges.Team.CommunityID != m.CommunityID || m.Edges.Person.CommunityID != m.CommunityID {
			t.Errorf("membership of %s in %s crosses communities", m.Edges.Person.DisplayName, m.Edges.Team.Name)
		}
	}
	hongqi := e.Client.Community.Query().Where(community.Name(demo.Hongqi)).OnlyX(ctx)
	if n := e.Client.Activity.Query().Where(activity.CommunityID(hongqi.ID)).CountX(ctx); n < 2 {
		t.Errorf("红旗社区 activities = %d, want a few", n)
	}
	if n := e.Client.Person.Query().Where(person.CommunityID(hongqi.ID)).CountX(ctx); n < 5 {
		t.Errorf("红旗社区 people = %d, want a few", n)
	}
}

func TestLoadTwiceIsNoop(t *testing.T) {
	linlitest.Slow(t)
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		ctx := e.Sys()
		people, acts := e.Client.Person.Query().CountX(ctx), e.Client.Activity.Query().CountX(ctx)
		loaded, err := demo.Load(context.Background(), e.Client)
		if err != nil || loaded {
			t.Fatalf("second Load = %v, %v; want false, nil", loaded, err)
		}
		if p, a := e.Client.Person.Query().CountX(ctx), e.Client.Activity.Query().CountX(ctx); p != people || a != acts {
			t.Fatalf("second Load changed counts: people %d→%d, activities %d→%d", people, p, acts, a)
		}
	})
}

func TestLoadSkipsDatabaseWithCommunity(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		e.Community(t, "已有社区")
		loaded, err := demo.Load(context.Background(), e.Client)
		if err != nil || loaded {
			t.Fatalf("Load = %v, %v; want false, nil", loaded, err)
		}
		if n := e.Client.Person.Query().CountX(e.Sys()); n != 0 {
			t.Fatalf("people = %d, want 0", n)
		}
	})
}

// Replicas starting together on one fresh database load the demo once.
func TestConcurrentLoadsLoadOnce(t *testing.T) {
	linlitest.Slow(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		var wg sync.WaitGroup
		loaded := make([]bool, 2)
		errs := make([]error, 2)
		for i := range loaded {
			wg.Go(func() { loaded[i], errs[i] = demo.Load(context.Background(), e.Client) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
		}
		if loaded[0] == loaded[1] {
			t.Fatalf("loaded = %v, want exactly one true", loaded)
		}
		if n := e.Client.Community.Query().CountX(e.Sys()); n != 2 {
			t.Fatalf("communities = %d, want 2", n)
		}
	})
}

const loginMutation = `mutation($in: LoginInput!) {
  login(input: $in) { token viewer { displayName phone roles community { name } } }
}`

type loginData struct {
	Login struct {
		Token  string
		Viewer struct {
			DisplayName string
			Phone       string
			Roles       []string
			Community   struct{ Name string }
		}
	}
}

func login(t *testing.T, e *linlitest.Env, phone, password string) *linlitest.Result {
	t.Helper()
	return e.Do(t, "", loginMutation, map[string]any{"in": map[string]any{"phone": phone, "password": password}})
}

// Every documented account signs in through the real login mutation, with
// the roles and community the README promises.
func TestDemoAccountsSignIn(t *testing.T) {
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		for _, a := range demo.Accounts {
			var d loginData
			login(t, e, a.Phone, a.Password).Decode(t, &d)
			v := d.Login.Viewer
			if d.Login.Token == "" || v.DisplayName != a.DisplayName || v.Phone != a.Phone ||
				v.Community.Name != a.Community || !slices.Contains(v.Roles, string(a.Role)) {
				t.Errorf("%s signed in as %+v, want %s of %s with role %s", a.Phone, v, a.DisplayName, a.Community, a.Role)
			}
			var me struct{ Viewer struct{ DisplayName string } }
			e.Do(t, d.Login.Token, `{ viewer { displayName } }`, nil).Decode(t, &me)
			if me.Viewer.DisplayName != a.DisplayName {
				t.Errorf("token of %s belongs to %q", a.DisplayName, me.Viewer.DisplayName)
			}
			login(t, e, a.Phone, a.Password+"x").WantCode(t, "UNAUTHENTICATED")
		}
		// Generated people have no password at all.
		p := e.Client.Person.Query().Where(person.PasswordHash(auth.NoPassword)).FirstX(e.Sys())
		for _, pw := range []string{"", auth.NoPassword, "password1"} {
			login(t, e, p.Phone, pw).WantCode(t, "UNAUTHENTICATED")
		}
	})
}

// Each community's staff browse only their own community's activities; the
// platform admin sees both.
func TestCommunitiesAreSeparate(t *testing.T) {
	linlitest.Slow(t)
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		communitiesSeen := func(a demo.Account) map[string]int {
			var d loginData
			login(t, e, a.Phone, a.Password).Decode(t, &d)
			// Every page: the demo holds more activities than one page.
			seen := map[string]int{}
			var after any
			for {
				var res struct {
					Activities struct {
						Edges []struct {
							Node struct{ Community struct{ Name string } }
						}
						PageInfo struct {
							HasNextPage bool
							EndCursor   string
						}
					}
				}
				e.Do(t, d.Login.Token, `query($after: Cursor) { activities(first: 100, after: $after) {
					edges { node { community { name } } } pageInfo { hasNextPage endCursor } } }`,
					map[string]any{"after": after}).Decode(t, &res)
				for _, edge := range res.Activities.Edges {
					seen[edge.Node.Community.Name]++
				}
				if !res.Activities.PageInfo.HasNextPage {
					break
				}
				after = res.Activities.PageInfo.EndCursor
			}
			return seen
		}
		for _, a := range demo.Accounts {
			seen := communitiesSeen(a)
			if a.Role == viewer.Admin {
				if seen[demo.Qianjin] == 0 || seen[demo.Hongqi] == 0 {
					t.Errorf("admin sees %v, want both communities", seen)
				}
				continue
			}
			if a.Role == viewer.Coordinator && seen[a.Community] == 0 {
				t.Errorf("%s (%s) sees no activities of their own community", a.DisplayName, a.Community)
			}
			for c := range seen {
				if c != a.Community {
					t.Errorf("%s of %s sees activities of %s", a.DisplayName, a.Community, c)
				}
			}
		}
	})
}

func TestAppLoadDemoLogsWhetherItLoaded(t *testing.T) {
	linlitest.Slow(t)
	logs, logTo := linlitest.CaptureLogs()
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		for i, want := range []string{"demo data loaded", "demo data not loaded"} {
			before := len(logs.String())
			if err := e.App.LoadDemo(context.Background()); err != nil {
				t.Fatalf("LoadDemo #%d: %v", i+1, err)
			}
			if got := logs.String()[before:]; !strings.Contains(got, want) {
				t.Fatalf("LoadDemo #%d logged %q, want %q", i+1, got, want)
			}
		}
		if n := e.Client.Activity.Query().CountX(e.Sys()); n == 0 {
			t.Fatal("LoadDemo loaded no activities")
		}
	}, logTo)
}
