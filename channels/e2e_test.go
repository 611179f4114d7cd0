package channels_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/app"
	"linli/channels"
	"linli/cst"
	"linli/linlitest"
	"linli/viewer"
	"linli/webhooks"
)

// The whole path through the API: a resident promoted from the waitlist
// (another cancelled) gets an SMS copy through the gateway (they chose SMS,
// and it is not their quiet hours), and the community's webhook receives
// the WAITLIST_PROMOTED event, signed, on its second attempt (the first
// failed) with one delivery id.
func TestPromotionReachesGatewayAndWebhook(t *testing.T) {
	gw := &gateway{}
	gwSrv := httptest.NewServer(gw)
	defer gwSrv.Close()
	config := func(c *app.Config) {
		c.Channels.GatewayURL, c.Channels.GatewaySecret = gwSrv.URL, gatewaySecret
		c.Channels.WebhooksAllowPrivate = true
	}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		gw.mu.Lock()
		gw.got = nil
		gw.mu.Unlock()
		rc := &hookReceiver{failures: 1}
		hookSrv := httptest.NewServer(rc)
		defer hookSrv.Close()

		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		_, first := e.Person(t, c.ID, "吴小雨")
		waiting, waitingToken := e.Person(t, c.ID, "章桂兰")
		// Quiet hours well away from now, so the copy goes at once.
		h := time.Now().In(cst.Zone).Hour()
		e.Do(t, waitingToken, `mutation($in: NotificationPreferencesInput!) { updateNotificationPreferences(input: $in) { channels } }`,
			map[string]any{"in": map[string]any{"channels": []string{"IN_APP", "SMS"},
				"quietHoursStart": fmt.Sprintf("%02d:00", (h+6)%24), "quietHoursEnd": fmt.Sprintf("%02d:00", (h+7)%24)}})
		var hook struct {
			CreateWebhook struct{ Secret string }
		}
		e.Do(t, coord, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { secret } }`,
			map[string]any{"in": map[string]any{"url": hookSrv.URL, "events": []string{"WAITLIST_PROMOTED"}}}).Decode(t, &hook)

		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊", Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 1}}})
		var su struct {
			SignUp struct {
				Outcome      string
				Registration struct{ ID string }
			}
		}
		const signUp = `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome registration { id } } }`
		e.Do(t, first, signUp, map[string]any{"s": e.ID(slots[0].ID)}).Decode(t, &su)
		firstReg := su.SignUp.Registration.ID
		e.Do(t, waitingToken, signUp, map[string]any{"s": e.ID(slots[0].ID)}).Decode(t, &su)
		if su.SignUp.Outcome != "WAITLISTED" {
			t.Fatalf("second sign-up %s", su.SignUp.Outcome)
		}
		promoted := su.SignUp.Registration.ID
		e.Do(t, first, `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`, map[string]any{"r": firstReg})

		waitFor(t, func() bool { return len(gw.requests(channels.SMS)) >= 1 && len(rc.received()) >= 2 })
		sms := gw.requests(channels.SMS)
		if len(sms) != 1 || sms[0].To != waiting.Phone || sms[0].Kind != "WAITLIST_PROMOTED" || !strings.Contains(sms[0].Body, "义诊") {
			t.Fatalf("gateway got %+v", sms)
		}
		got := rc.received()
		if len(got) != 2 || got[0].delivery != got[1].delivery {
			t.Fatalf("webhook got %d requests (ids %v)", len(got), got)
		}
		var p struct {
			ID, Event string
			Data      webhooks.EventData
		}
		if err := json.Unmarshal(got[1].body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Event != "WAITLIST_PROMOTED" || p.Data.RegistrationID != promoted || p.Data.ActivityID != e.ID(a.ID) || p.Data.Recipients != 1 {
			t.Fatalf("webhook payload %s", got[1].body)
		}
		if !channels.Verify([]byte(hook.CreateWebhook.Secret), got[1].timestamp, got[1].signature, got[1].body, time.Now(), time.Minute) {
			t.Fatal("bad webhook signature")
		}
	}, config)
}

// hookReceiver is a webhook receiver that fails its first failures
// requests.
type hookReceiver struct {
	mu       sync.Mutex
	failures int
	got      []hookRequest
}

type hookRequest struct {
	delivery, timestamp, signature string
	body                           []byte
}

func (rc *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, hookRequest{r.Header.Get(webhooks.HeaderDelivery), r.Header.Get(webhooks.HeaderTimestamp),
		r.Header.Get(webhooks.HeaderSignature), body})
	if len(rc.got) <= rc.failures {
		http.Error(w, "not now", http.StatusServiceUnavailable)
	}
}

func (rc *hookReceiver) received() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookRequest(nil), rc.got...)
}
