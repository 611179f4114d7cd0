package requests_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/ent"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

// world is one community with everyone who stands differently to a
// request, and a second community's coordinator.
type world struct {
	e                *linlitest.Env
	c, other         *ent.Community
	team1, team2     *ent.Team
	sub, vol, leader *ent.Person
	tokens           map[string]string // by actor name
}

// The actors of the visibility and transition matrices.
const (
	aSubmitter  = "submitter"
	aResident   = "other resident"
	aStaff      = "staff"
	aLeader     = "leader of the assigned team"
	aLeader2    = "leader of another team"
	aAssignee   = "assignee"
	aKiosk      = "kiosk"
	aOtherStaff = "other community's coordinator"
	aStaff2     = "second staff"
)

var actors = []string{aSubmitter, aResident, aStaff, aLeader, aLeader2, aAssignee, aKiosk, aOtherStaff}

func newWorld(t *testing.T, e *linlitest.Env) *world {
	t.Helper()
	w := &world{e: e, tokens: map[string]string{}}
	w.c = e.Community(t, "前进社区")
	if err := w.c.Update().SetRequestPrefix("QJ").Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	w.other = e.Community(t, "东风社区")
	var err error
	if w.team1, err = e.Client.Team.Create().SetCommunityID(w.c.ID).SetName("邻里互助队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.team2, err = e.Client.Team.Create().SetCommunityID(w.c.ID).SetName("文化文艺队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	member := func(p *ent.Person, team *ent.Team, role teammembership.Role) {
		if err := e.Client.TeamMembership.Create().SetCommunityID(w.c.ID).SetTeamID(team.ID).SetPersonID(p.ID).SetRole(role).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
	w.sub, w.tokens[aSubmitter] = e.Person(t, w.c.ID, "王大爷")
	_, w.tokens[aResident] = e.Person(t, w.c.ID, "李阿姨")
	_, w.tokens[aStaff] = e.Person(t, w.c.ID, "社区书记", viewer.Coordinator)
	_, w.tokens[aStaff2] = e.Person(t, w.c.ID, "网格员", viewer.Coordinator)
	w.leader, w.tokens[aLeader] = e.Person(t, w.c.ID, "队长甲", viewer.TeamLeader, viewer.Volunteer)
	member(w.leader, w.team1, teammembership.RoleLEADER)
	l2, tok := e.Person(t, w.c.ID, "队长乙", viewer.TeamLeader, viewer.Volunteer)
	w.tokens[aLeader2] = tok
	member(l2, w.team2, teammembership.RoleLEADER)
	w.vol, w.tokens[aAssignee] = e.Person(t, w.c.ID, "志愿者小张", viewer.Volunteer)
	member(w.vol, w.team1, teammembership.RoleMEMBER)
	_, w.tokens[aOtherStaff] = e.Person(t, w.other.ID, "东风书记", viewer.Coordinator)

	venue, err := e.Client.Venue.Create().SetCommunityID(w.c.ID).SetName("社区服务中心").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ RegisterKiosk struct{ Token string } }
	e.Do(t, w.tokens[aStaff], `mutation($v: ID!) { registerKiosk(venueID: $v, name: "前台平板") { token } }`,
		map[string]any{"v": e.ID(venue.ID)}).Decode(t, &reg)
	w.tokens[aKiosk] = reg.RegisterKiosk.Token
	return w
}

const (
	submitM  = `mutation($in: SubmitRequestInput!) { submitRequest(input: $in) { id number status submitter { id } } }`
	acceptM  = `mutation($id: ID!, $due: Time) { acceptRequest(id: $id, dueAt: $due) { id status dueAt } }`
	assignM  = `mutation($id: ID!, $team: ID, $who: ID) { assignRequest(id: $id, teamID: $team, assigneeID: $who) { id status } }`
	startM   = `mutation($id: ID!) { startRequest(id: $id) { id status } }`
	resolveM = `mutation($id: ID!) { resolveRequest(id: $id, outcome: SOLVED, resolution: "换了新的水龙头") { id status } }`
	confirmM = `mutation($id: ID!) { confirmRequest(id: $id, satisfaction: 5, comment: "很满意") { id status } }`
	reopenM  = `mutation($id: ID!) { reopenRequest(id: $id, reason: "又漏水了") { id status } }`
	rejectM  = `mutation($id: ID!) { rejectRequest(id: $id, reason: "属于物业公司职责") { id status } }`
)

// request is a request as the tests read it back.
type request struct {
	ID, Number, Status string
	DueAt              *time.Time
	Submitter          *struct{ ID string }
}

// do runs a request mutation (named by its field) and returns its result.
func (w *world) do(t testing.TB, actor, mutation, id string, extra map[string]any) *linlitest.Result {
	t.Helper()
	vars := map[string]any{"id": id}
	for k, v := range extra {
		vars[k] = v
	}
	return w.e.Do(t, w.tokens[actor], mutation, vars)
}

// must runs a mutation that must succeed and returns the request.
func (w *world) must(t testing.TB, actor, mutation, id string, extra map[string]any) request {
	t.Helper()
	var out map[string]request
	w.do(t, actor, mutation, id, extra).Decode(t, &out)
	for _, r := range out {
		return r
	}
	t.Fatalf("no data")
	return request{}
}

// submit raises a resident's request and returns it.
func (w *world) submit(t testing.TB, actor, title, description string) request {
	t.Helper()
	var out struct{ SubmitRequest request }
	w.e.Do(t, w.tokens[actor], submitM, map[string]any{"in": map[string]any{
		"kind": "REPAIR", "title": title, "description": description}}).Decode(t, &out)
	return out.SubmitRequest
}

func (w *world) assignVars() map[string]any {
	return map[string]any{"team": w.e.ID(w.team1.ID), "who": w.e.ID(w.vol.ID)}
}

// reach returns a new request of the submitter brought to status by the
// allowed path (assigned to team1 and its volunteer).
func (w *world) reach(t testing.TB, status string) string {
	t.Helper()
	id := w.submit(t, aSubmitter, "厨房水龙头漏水", "老人独居，有心脏病史，请上午来").ID
	path := []struct {
		status string
		step   func()
	}{
		{"SUBMITTED", func() {}},
		{"ACCEPTED", func() { w.must(t, aStaff, acceptM, id, nil) }},
		{"ASSIGNED", func() { w.must(t, aStaff, assignM, id, w.assignVars()) }},
		{"IN_PROGRESS", func() { w.must(t, aAssignee, startM, id, nil) }},
		{"RESOLVED", func() { w.must(t, aAssignee, resolveM, id, nil) }},
		{"CLOSED", func() { w.must(t, aSubmitter, confirmM, id, nil) }},
	}
	if status == "REJECTED" {
		w.must(t, aStaff, rejectM, id, nil)
		return id
	}
	for _, p := range path {
		p.step()
		if p.status == status {
			return id
		}
	}
	t.Fatalf("no path to %s", status)
	return ""
}

// wsClient is a small graphql-transport-ws client.
type wsClient struct {
	t testing.TB
	c *websocket.Conn
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dial(t testing.TB, e *linlitest.Env, token string) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.Server.URL, "http")+"/graphql", http.Header{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	ws := &wsClient{t: t, c: c}
	p, _ := json.Marshal(map[string]string{"authToken": token})
	ws.send(wsMsg{Type: "connection_init", Payload: p})
	if m, err := ws.read(5 * time.Second); err != nil || m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v %v", m, err)
	}
	return ws
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	if err := c.c.WriteJSON(m); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(wsMsg{ID: id, Type: "subscribe", Payload: p})
}

// read returns the next message other than pings, or an error (a timeout).
func (c *wsClient) read(timeout time.Duration) (wsMsg, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		var m wsMsg
		if err := c.c.ReadJSON(&m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			c.send(wsMsg{Type: "pong"})
			continue
		case "pong", "ka":
			continue
		}
		return m, nil
	}
}

var errTimeout = errors.New("timeout")

// readOrTimeout is read that reports a timeout as errTimeout (the socket
// is unusable afterwards).
func (c *wsClient) readOrTimeout(timeout time.Duration) (wsMsg, error) {
	m, err := c.read(timeout)
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return m, errTimeout
	}
	return m, err
}
