package channels

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	secret, body := []byte("a-secret-of-some-length"), []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	sig := Sign(secret, now, body)
	if len(sig) != len("v1=")+64 {
		t.Fatalf("signature %q", sig)
	}
	for _, c := range []struct {
		name       string
		secret     []byte
		ts, sig    string
		body       []byte
		now        time.Time
		wantVerify bool
	}{
		{"good", secret, "1800000000", sig, body, now, true},
		{"other body", secret, "1800000000", sig, []byte(`{"a":2}`), now, false},
		{"other secret", []byte("another-secret-of-length"), "1800000000", sig, body, now, false},
		{"other timestamp", secret, "1800000001", sig, body, now, false},
		{"stale", secret, "1800000000", sig, body, now.Add(10 * time.Minute), false},
		{"not a number", secret, "soon", sig, body, now, false},
	} {
		if got := Verify(c.secret, c.ts, c.sig, c.body, c.now, 5*time.Minute); got != c.wantVerify {
			t.Errorf("%s: Verify = %v, want %v", c.name, got, c.wantVerify)
		}
	}
}

// The gateway gets a signed JSON POST naming the template configured for
// the channel and kind; 5xx and 429 are retried, other refusals are
// permanent.
func TestHTTPGateway(t *testing.T) {
	secret := []byte("gateway-secret-0123456789")
	var mu sync.Mutex
	var got []GatewayRequest
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !Verify(secret, r.Header.Get("X-Linli-Timestamp"), r.Header.Get("X-Linli-Signature"), body, time.Now(), time.Minute) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req GatewayRequest
		if err := json.Unmarshal(body, &req); err != nil || r.Header.Get("X-Linli-Message-Id") != req.ID {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, req)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	g := &HTTPGateway{URL: srv.URL, Secret: secret, Client: srv.Client(),
		Templates: map[string]string{"SMS.REMINDER": "SMS_100", "REMINDER": "wx-tmpl-remind"}}
	ctx := context.Background()
	for _, m := range []Message{
		{ID: "n1-SMS", Channel: SMS, Kind: "REMINDER", To: "13800000004", Title: "活动提醒", Body: "义诊 明天 09:00 社区大厅"},
		{ID: "n1-WECHAT", Channel: WeChat, Kind: "REMINDER", To: "openid-1"},
		{ID: "n2-SMS", Channel: SMS, Kind: "WAITLIST_PROMOTED", To: "13800000004"},
	} {
		if err := g.Send(ctx, m); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
	}
	want := []string{"SMS_100", "wx-tmpl-remind", ""}
	if len(got) != 3 {
		t.Fatalf("gateway got %d requests", len(got))
	}
	for i, r := range got {
		if r.Template != want[i] {
			t.Errorf("request %d (%s): template %q, want %q", i, r.ID, r.Template, want[i])
		}
	}
	if got[0].To != "13800000004" || got[0].Body != "义诊 明天 09:00 社区大厅" || got[0].Channel != SMS {
		t.Fatalf("request %+v", got[0])
	}
	for code, permanent := range map[int]bool{500: false, 503: false, 429: false, 400: true, 404: true} {
		status = code
		err := g.Send(ctx, Message{ID: "x", Channel: SMS, Kind: "REMINDER"})
		if err == nil || IsPermanent(err) != permanent {
			t.Errorf("answer %d: %v (permanent %v), want permanent %v", code, err, IsPermanent(err), permanent)
		}
	}
	g.Secret = []byte("the-wrong-secret-entirely")
	status = http.StatusOK
	if err := g.Send(ctx, Message{ID: "y", Channel: SMS, Kind: "REMINDER"}); !IsPermanent(err) {
		t.Fatalf("a refused signature: %v, want a permanent error", err)
	}
}
