package requests_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
	"linli/requests"
)

// A transition made on one replica reaches subscribers of another (through
// PostgreSQL NOTIFY); a home visit that served a request shows in its
// history and live.
func TestUpdatesAcrossReplicasAndVisits(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		other := e
		if e.Backend == "postgres" {
			other = linlitest.NewAt(t, e.Backend, e.App.Config.DatabaseURL)
		}
		staff := dial(t, other, w.tokens[aStaff])
		staff.subscribe("u", updatesSub, map[string]any{"c": e.ID(w.c.ID)})
		mine := dial(t, other, w.tokens[aSubmitter])
		mine.subscribe("m", mineSub, nil)
		time.Sleep(300 * time.Millisecond)

		r := w.submit(t, aSubmitter, "想申请上门理发", "")
		for _, c := range []struct {
			ws   *wsClient
			id   string
			want string
		}{{staff, "u", "SUBMIT"}, {mine, "m", "SUBMIT"}} {
			m, err := c.ws.read(5 * time.Second)
			if err != nil {
				t.Fatalf("%s: %v", c.id, err)
			}
			var p struct{ Data map[string]updateMsg }
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				t.Fatal(err)
			}
			for _, u := range p.Data {
				if u.Action != c.want || u.Request.ID != r.ID {
					t.Fatalf("%s: %+v", c.id, u)
				}
			}
		}

		// A home visit served it: recorded in its history, in the
		// visit's transaction, and announced after commit.
		id := w.reach(t, "ASSIGNED")
		h, err := e.Client.Household.Create().SetCommunityID(w.c.ID).SetAddress("上码头小区1栋101").SetSize(1).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		req, err := e.Client.Request.Get(e.Sys(), e.IntID(t, id))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := e.Client.Tx(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		v, err := tx.HomeVisit.Create().SetCommunityID(w.c.ID).SetHouseholdID(h.ID).SetKind("HOME_SERVICE").
			SetVisitedAt(time.Now()).SetMinutes(40).SetRequestID(req.ID).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		ev, err := requests.RecordVisit(e.Sys(), tx, req, v.ID, w.vol.ID, "上门查看了水龙头")
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		e.App.Live.Publish(ev)
		var out struct {
			Node struct {
				Status  string
				History []struct{ Action, Status, Note string }
			}
		}
		e.Do(t, w.tokens[aSubmitter], `query($id: ID!) { node(id: $id) { ... on Request { status history { action status note } } } }`,
			map[string]any{"id": id}).Decode(t, &out)
		last := out.Node.History[len(out.Node.History)-1]
		if out.Node.Status != "ASSIGNED" || last.Action != "VISIT" || last.Status != "ASSIGNED" || last.Note != "上门查看了水龙头" {
			t.Fatalf("after the visit: %+v", out.Node)
		}
		// The staff socket sees the request's transitions, then the visit.
		deadline := time.Now().Add(5 * time.Second)
		for {
			m, err := staff.read(time.Until(deadline))
			if err != nil {
				t.Fatalf("no VISIT update: %v", err)
			}
			var p struct{ Data map[string]updateMsg }
			_ = json.Unmarshal(m.Payload, &p)
			if u := p.Data["requestUpdates"]; u.Action == "VISIT" && u.Request.ID == id {
				break
			}
		}
	})
}

// After the listener of a replica lost its connection, its request
// subscribers still get what happened meanwhile (re-read on reconnect).
func TestUpdatesAfterListenerReconnect(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		if e.Backend != "postgres" {
			t.Skip("only PostgreSQL has a listener to lose")
		}
		w := newWorld(t, e)
		// The second replica's listener waits a second before reconnecting
		// once it has dropped right after connecting: killing it twice
		// opens a gap in which the submission's notification is lost, so
		// only the re-read after the reconnect can deliver it.
		slowReconnect := func(c *app.Config) { c.Live.Broker.ReconnectMin = time.Second }
		two := linlitest.NewAt(t, e.Backend, e.App.Config.DatabaseURL, slowReconnect)
		staff := dial(t, two, w.tokens[aStaff])
		staff.subscribe("u", updatesSub, map[string]any{"c": e.ID(w.c.ID)})
		time.Sleep(300 * time.Millisecond)
		listeners := func() []int {
			var pids []int
			rows, err := e.DB.SQL.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen%'`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var pid int
				if err := rows.Scan(&pid); err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			return pids
		}
		kill := func() []int {
			pids := listeners()
			for _, pid := range pids {
				if _, err := e.DB.SQL.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
					t.Fatal(err)
				}
			}
			return pids
		}
		killed := kill()
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			pids := listeners()
			if len(pids) == 2 && !slices.Contains(killed, pids[0]) && !slices.Contains(killed, pids[1]) {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("the listeners did not come back")
			}
		}
		kill()
		r := w.submit(t, aSubmitter, "楼道灯不亮", "")
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, err := staff.read(time.Until(deadline))
			if err != nil {
				t.Fatalf("the submission never reached the other replica's subscriber: %v", err)
			}
			var p struct{ Data map[string]updateMsg }
			_ = json.Unmarshal(m.Payload, &p)
			if u := p.Data["requestUpdates"]; u.Request.ID == r.ID && u.Action == "SUBMIT" {
				return
			}
		}
	})
}
