package webhooks_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"linli/channels"
	"linli/ent"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
	"linli/webhooks"
)

// receiver is an integration's endpoint: it fails the first failures
// requests with 500, then accepts, and keeps what it got.
type receiver struct {
	mu       sync.Mutex
	failures int
	got      []received
}

type received struct {
	delivery, event, timestamp, signature string
	body                                  []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, received{r.Header.Get(webhooks.HeaderDelivery), r.Header.Get(webhooks.HeaderEvent),
		r.Header.Get(webhooks.HeaderTimestamp), r.Header.Get(webhooks.HeaderSignature), body})
	if len(rc.got) <= rc.failures {
		http.Error(w, "not now", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// emit is what notify's consumer does when an event is worked: the
// deliveries go in with the event's transaction (here one that commits, or
// one that rolls back).
func emit(t *testing.T, e *linlitest.Env, cid int, event string, rollback bool) {
	t.Helper()
	errRollback := errors.New("rolled back")
	err := store.InTx(e.Sys(), e.Client, store.TxOptions{}, func(tx *ent.Tx) error {
		if err := e.App.Resolver.Hooks.Enqueue(e.Sys(), tx, cid, event, webhooks.EventData{Kind: event, Recipients: 1}); err != nil {
			return err
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if rollback && !errors.Is(err, errRollback) || !rollback && err != nil {
		t.Fatal(err)
	}
}

// A receiver that fails twice and then succeeds gets the delivery a third
// time, with the same delivery id and a valid signature each time, and
// then no more; the history shows it delivered after 3 attempts. A rolled
// back event delivers nothing; a webhook of another kind or community
// gets nothing.
func TestWebhookDeliveryRetried(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		c2 := e.Community(t, "红旗社区")
		_, coord2 := e.Person(t, c2.ID, "刘建国", viewer.Coordinator)
		rc := &receiver{failures: 2}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		other := &receiver{}
		otherSrv := httptest.NewServer(other)
		defer otherSrv.Close()

		var out created
		e.Do(t, coord, createWebhook, map[string]any{"in": map[string]any{"url": srv.URL + "/hook", "events": []string{"WAITLIST_PROMOTED"}}}).Decode(t, &out)
		secret := []byte(out.CreateWebhook.Secret)
		e.Do(t, coord, createWebhook, map[string]any{"in": map[string]any{"url": otherSrv.URL, "events": []string{"ACTIVITY_CANCELLED"}}})
		e.Do(t, coord2, createWebhook, map[string]any{"in": map[string]any{"url": otherSrv.URL, "events": []string{"WAITLIST_PROMOTED"}}})

		emit(t, e, c.ID, "WAITLIST_PROMOTED", true)
		emit(t, e, c.ID, "WAITLIST_PROMOTED", false)

		deadline := time.Now().Add(30 * time.Second)
		for len(rc.received()) < 3 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // room for a wrong fourth attempt
		got := rc.received()
		if len(got) != 3 {
			t.Fatalf("receiver got %d requests, want 3 (two failures, then success)", len(got))
		}
		for i, r := range got {
			if r.delivery == "" || r.delivery != got[0].delivery {
				t.Fatalf("attempt %d carried delivery id %q, the first %q", i+1, r.delivery, got[0].delivery)
			}
			if !channels.Verify(secret, r.timestamp, r.signature, r.body, time.Now(), 5*time.Minute) {
				t.Fatalf("attempt %d: bad signature %q", i+1, r.signature)
			}
			if channels.Verify([]byte("another-secret-entirely-xx"), r.timestamp, r.signature, r.body, time.Now(), 5*time.Minute) {
				t.Fatal("the signature verifies under another secret")
			}
			var p webhooks.Payload
			if err := json.Unmarshal(r.body, &p); err != nil || p.ID != r.delivery || p.Event != "WAITLIST_PROMOTED" || r.event != p.Event {
				t.Fatalf("attempt %d: payload %s (%v)", i+1, r.body, err)
			}
		}
		if n := len(other.received()); n != 0 {
			t.Fatalf("a webhook of another kind or community got %d requests", n)
		}

		var hist struct {
			WebhookDeliveries struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						UUID, Event, Status, LastError string
						Attempts                       int
						ResponseCode                   *int
					}
				}
			}
		}
		e.Do(t, coord, deliveries, map[string]any{"id": out.CreateWebhook.Webhook.ID}).Decode(t, &hist)
		if hist.WebhookDeliveries.TotalCount != 1 {
			t.Fatalf("history has %d deliveries, want 1 (the rolled-back event has none)", hist.WebhookDeliveries.TotalCount)
		}
		d := hist.WebhookDeliveries.Edges[0].Node
		if d.Status != "DELIVERED" || d.Attempts != 3 || d.UUID != got[0].delivery || d.ResponseCode == nil || *d.ResponseCode != 204 || d.LastError != "" {
			t.Fatalf("history %+v", d)
		}
	}, allowPrivate)
}

// A receiver that never succeeds leaves the delivery FAILED after its
// attempts, with the last error and response code for staff.
func TestWebhookDeliveryFails(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		rc := &receiver{failures: 1 << 30}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		var out created
		e.Do(t, coord, createWebhook, map[string]any{"in": map[string]any{"url": srv.URL, "events": []string{"ACTIVITY_CANCELLED"}}}).Decode(t, &out)
		emit(t, e, c.ID, "ACTIVITY_CANCELLED", false)
		id := e.IntID(t, out.CreateWebhook.Webhook.ID)
		// Attempts one by one, as the job system would make them, the last
		// marked last.
		var delivery *ent.WebhookDelivery
		deadline := time.Now().Add(10 * time.Second)
		for delivery == nil || delivery.Attempts == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no first attempt")
			}
			time.Sleep(50 * time.Millisecond)
			ds, err := e.Client.WebhookDelivery.Query().All(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 1 && ds[0].WebhookID == id {
				delivery = ds[0]
			}
		}
		if err := e.App.Resolver.Hooks.Deliver(e.Sys(), delivery.ID, true); err != nil {
			t.Fatal(err)
		}
		d, err := e.Client.WebhookDelivery.Get(e.Sys(), delivery.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != "FAILED" || d.Attempts < 2 || d.ResponseCode == nil || *d.ResponseCode != 500 || d.LastError == "" {
			t.Fatalf("after the last attempt: %+v", d)
		}
		// A FAILED delivery is not sent again.
		n := len(rc.received())
		if err := e.App.Resolver.Hooks.Deliver(e.Sys(), delivery.ID, false); err != nil || len(rc.received()) != n {
			t.Fatalf("a failed delivery was attempted again (%v)", err)
		}
	}, allowPrivate)
}
