package channels_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/channels"
	"linli/ent"
	"linli/ent/notificationdelivery"
	"linli/jobs"
	"linli/linlitest"
	"linli/notify"
	"linli/viewer"
)

const gatewaySecret = "gateway-secret-for-tests-0123"

// gateway is the SMS/WeChat gateway; with failSMS, SMS always fails (the
// provider is down) while WeChat works.
type gateway struct {
	failSMS bool
	mu      sync.Mutex
	got     []channels.GatewayRequest
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !channels.Verify([]byte(gatewaySecret), r.Header.Get("X-Linli-Timestamp"), r.Header.Get("X-Linli-Signature"), body, time.Now(), time.Minute) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m channels.GatewayRequest
	_ = json.Unmarshal(body, &m)
	g.mu.Lock()
	g.got = append(g.got, m)
	g.mu.Unlock()
	if g.failSMS && m.Channel == channels.SMS {
		http.Error(w, "provider down", http.StatusBadGateway)
	}
}

func (g *gateway) requests(ch channels.Channel) []channels.GatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []channels.GatewayRequest
	for _, m := range g.got {
		if m.Channel == ch {
			out = append(out, m)
		}
	}
	return out
}

const deliveriesQuery = `query($c: ID, $s: NotificationDeliveryStatus) { notificationDeliveries(communityID: $c, status: $s, first: 20) {
  totalCount edges { node { channel kind status attempts lastError personID notificationID } } } }`

// Copies of a notification go out through the configured HTTP gateway,
// one job per channel: SMS, whose provider fails, is retried and then
// recorded FAILED, while WeChat of the same notification is SENT (to the
// openid the person set, with the template configured for the kind); a
// person without an openid, or who turned the channel off, is SKIPPED.
// Staff read the log; residents may not; another community's staff see
// none of it.
func TestSendThroughGateway(t *testing.T) {
	gw := &gateway{failSMS: true}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	withGateway := func(c *app.Config) {
		c.Channels.GatewayURL, c.Channels.GatewaySecret = srv.URL, gatewaySecret
		c.Channels.GatewayTemplates = `{"WECHAT.WAITLIST_PROMOTED":"wx-promoted","SMS.WAITLIST_PROMOTED":"SMS_7"}`
	}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		gw.mu.Lock()
		gw.got = nil
		gw.mu.Unlock()
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		resident, residentToken := e.Person(t, c.ID, "章桂兰")
		quiet, _ := e.Person(t, c.ID, "吴小雨") // wants SMS only, no WeChat
		c2 := e.Community(t, "红旗社区")
		_, coord2 := e.Person(t, c2.ID, "刘建国", viewer.Coordinator)
		for _, p := range []struct {
			id  int
			chs []string
		}{{resident.ID, []string{"WECHAT", "SMS"}}, {quiet.ID, []string{"SMS"}}} {
			if err := e.Client.NotificationPreference.Create().SetCommunityID(c.ID).SetPersonID(p.id).SetChannels(p.chs).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
		e.Do(t, residentToken, `mutation { setWechatAddress(openid: "oWx-resident-1") }`, nil)

		n := notification(t, e, c.ID, resident.ID, "n1")
		q := notification(t, e, c.ID, quiet.ID, "n2")
		// What notify's hook enqueues: one job per notification and
		// channel (SMS allowed two attempts here, to see it fail soon).
		send := func(id int, ch notify.Channel) jobs.Job {
			return jobs.Job{Kind: notify.KindSend, Payload: notify.SendPayload{NotificationID: id, Channel: ch},
				Key: notify.SendKey(id, ch), MaxAttempts: 2}
		}
		if err := jobs.EnqueueNow(e.Sys(), e.Client, send(n.ID, notify.SMS), send(n.ID, notify.WeChat), send(q.ID, notify.WeChat)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			k, err := e.Client.NotificationDelivery.Query().Where(notificationdelivery.StatusNEQ(notificationdelivery.StatusPENDING)).Count(e.Sys())
			return err == nil && k == 3
		})
		wx := gw.requests(channels.WeChat)
		if len(wx) != 1 || wx[0].To != "oWx-resident-1" || wx[0].Template != "wx-promoted" || wx[0].Body != n.Body || wx[0].Kind != "WAITLIST_PROMOTED" {
			t.Fatalf("WeChat requests %+v", wx)
		}
		sms := gw.requests(channels.SMS)
		if len(sms) != 2 || sms[0].To != resident.Phone || sms[0].ID != sms[1].ID || sms[0].Template != "SMS_7" {
			t.Fatalf("SMS requests %+v, want two attempts of the same message to %s", sms, resident.Phone)
		}

		type row struct {
			Channel, Kind, Status, LastError, PersonID, NotificationID string
			Attempts                                                   int
		}
		var log struct {
			NotificationDeliveries struct {
				TotalCount int
				Edges      []struct{ Node row }
			}
		}
		e.Do(t, coord, deliveriesQuery, nil).Decode(t, &log)
		byKey := map[string]row{}
		for _, ed := range log.NotificationDeliveries.Edges {
			byKey[ed.Node.Channel+"/"+ed.Node.PersonID] = ed.Node
		}
		if got := byKey["SMS/"+e.ID(resident.ID)]; got.Status != "FAILED" || got.Attempts != 2 || got.LastError == "" || got.NotificationID != e.ID(n.ID) {
			t.Fatalf("SMS log %+v", got)
		}
		if got := byKey["WECHAT/"+e.ID(resident.ID)]; got.Status != "SENT" || got.Attempts != 1 {
			t.Fatalf("WeChat log %+v", got)
		}
		if got := byKey["WECHAT/"+e.ID(quiet.ID)]; got.Status != "SKIPPED" || got.Attempts != 0 {
			t.Fatalf("log of a person who did not choose WeChat %+v", got)
		}
		e.Do(t, coord, deliveriesQuery, map[string]any{"s": "FAILED"}).Decode(t, &log)
		if log.NotificationDeliveries.TotalCount != 1 {
			t.Fatalf("%d FAILED rows, want 1", log.NotificationDeliveries.TotalCount)
		}
		e.Do(t, residentToken, deliveriesQuery, nil).WantCode(t, "FORBIDDEN")
		e.Do(t, coord2, deliveriesQuery, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "NOT_FOUND")
		e.Do(t, coord2, deliveriesQuery, nil).Decode(t, &log)
		if log.NotificationDeliveries.TotalCount != 0 {
			t.Fatalf("another community's staff read %d rows", log.NotificationDeliveries.TotalCount)
		}

		// A sent copy is not sent again when its job runs once more.
		before := len(gw.requests(channels.WeChat))
		if err := e.App.Resolver.Channels.Send(e.Sys(), n.ID, notify.WeChat, false); err != nil || len(gw.requests(channels.WeChat)) != before {
			t.Fatalf("a SENT copy was sent again (%v)", err)
		}
		// Clearing the openid: the next WeChat copy is skipped.
		e.Do(t, residentToken, `mutation { setWechatAddress(openid: null) }`, nil)
		n3 := notification(t, e, c.ID, resident.ID, "n3")
		if err := e.App.Resolver.Channels.Send(e.Sys(), n3.ID, notify.WeChat, false); err != nil {
			t.Fatal(err)
		}
		d, err := e.Client.NotificationDelivery.Query().Where(notificationdelivery.NotificationID(n3.ID)).Only(e.Sys())
		if err != nil || d.Status != notificationdelivery.StatusSKIPPED {
			t.Fatalf("without an openid: %+v (%v)", d, err)
		}
	}, withGateway)
}

func notification(t *testing.T, e *linlitest.Env, cid, pid int, source string) *ent.Notification {
	t.Helper()
	n, err := e.Client.Notification.Create().SetCommunityID(cid).SetPersonID(pid).SetKind("WAITLIST_PROMOTED").
		SetTitle("候补转正").SetBody("您已从候补转为正式报名：义诊，12月9日 09:00，社区大厅。").
		SetSource(fmt.Sprintf("test:%s:%d", source, pid)).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
