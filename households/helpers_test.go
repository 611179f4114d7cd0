package households_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"

	"linli/ent"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

// world is two communities with a viewer of every kind.
type world struct {
	e                                                    *linlitest.Env
	a, b                                                 *ent.Community
	team, otherTeam                                      *ent.Team
	leaderP, volP, vol2P, otherVolP, resP                *ent.Person
	coord, leader, vol, res, kiosk, coordB, admin, other string
}

func newWorld(t *testing.T, e *linlitest.Env) *world {
	t.Helper()
	w := &world{e: e}
	w.a = e.Community(t, "前进社区")
	w.b = e.Community(t, "红旗社区")
	var err error
	if w.team, err = e.Client.Team.Create().SetCommunityID(w.a.ID).SetName("邻里守望队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.otherTeam, err = e.Client.Team.Create().SetCommunityID(w.a.ID).SetName("文化文艺队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	_, w.coord = e.Person(t, w.a.ID, "社工甲", viewer.Coordinator)
	w.leaderP, _ = e.Person(t, w.a.ID, "队长甲", viewer.TeamLeader, viewer.Volunteer)
	w.volP, w.vol = e.Person(t, w.a.ID, "志愿者甲", viewer.Volunteer)
	w.vol2P, _ = e.Person(t, w.a.ID, "志愿者乙", viewer.Volunteer)
	w.otherVolP, _ = e.Person(t, w.a.ID, "志愿者丙", viewer.Volunteer)
	var otherLeader *ent.Person
	otherLeader, _ = e.Person(t, w.a.ID, "队长乙", viewer.TeamLeader, viewer.Volunteer)
	w.resP, w.res = e.Person(t, w.a.ID, "居民甲")
	_, w.coordB = e.Person(t, w.b.ID, "社工乙", viewer.Coordinator)
	_, w.admin = e.Person(t, w.b.ID, "管理员", viewer.Admin)
	for _, m := range []struct {
		team   *ent.Team
		person *ent.Person
		role   teammembership.Role
	}{
		{w.team, w.leaderP, teammembership.RoleLEADER}, {w.team, w.volP, teammembership.RoleMEMBER},
		{w.team, w.vol2P, teammembership.RoleMEMBER}, {w.otherTeam, otherLeader, teammembership.RoleLEADER},
		{w.otherTeam, w.otherVolP, teammembership.RoleMEMBER},
	} {
		if err := e.Client.TeamMembership.Create().SetCommunityID(w.a.ID).SetTeamID(m.team.ID).
			SetPersonID(m.person.ID).SetRole(m.role).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
	// Tokens after the memberships: a leader's teams are read at sign-in.
	w.leader = token(t, e, w.leaderP.ID)
	w.other = token(t, e, otherLeader.ID)
	venue, err := e.Client.Venue.Create().SetCommunityID(w.a.ID).SetName("社区广场").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ RegisterKiosk struct{ Token string } }
	e.Do(t, w.coord, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "前台平板") { token } }`,
		map[string]any{"v": e.ID(venue.ID)}).Decode(t, &k)
	w.kiosk = k.RegisterKiosk.Token
	return w
}

func token(t *testing.T, e *linlitest.Env, personID int) string {
	t.Helper()
	s, err := e.App.Auth.IssueToken(e.Sys(), personID)
	if err != nil {
		t.Fatal(err)
	}
	return s.Token
}

// upload sends a GraphQL multipart request (the upload spec) through the
// real handler: the file goes in as variables.file.
func upload(t *testing.T, e *linlitest.Env, token, query string, vars map[string]any, filename string, content []byte) *linlitest.Result {
	t.Helper()
	req := uploadRequest(t, e, token, query, vars, filename, content)
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res := &linlitest.Result{Status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(res); err != nil {
		t.Fatalf("decode (status %d): %v", resp.StatusCode, err)
	}
	return res
}

func uploadRequest(t *testing.T, e *linlitest.Env, token, query string, vars map[string]any, filename string, content []byte) *http.Request {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["file"] = nil
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.file"]}`)
	fw, err := mw.CreateFormFile("0", filename)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}
