package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Channel names an external channel (the inbox, IN_APP, is no sender: it
// is the notification row itself).
type Channel string

// The external channels.
const (
	WeChat Channel = "WECHAT"
	SMS    Channel = "SMS"
)

// Message is one notification to deliver through one channel.
type Message struct {
	// ID is unique per notification and channel; gateways deduplicate by it
	// (every retry of a message carries the same).
	ID      string
	Channel Channel
	// Kind is the notification's kind (WAITLIST_PROMOTED, REMINDER, …).
	Kind string
	// To is the address: a phone number for SMS, an openid for WeChat.
	To    string
	Title string
	Body  string
	// Data are the template's parameters (activity, time, place, …).
	Data map[string]string
}

// Sender sends messages of one or more channels. An error is retried by
// the job system; wrap it in Permanent when retrying cannot help (a 4xx
// answer, an address the gateway refuses).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError marks a failure no retry can mend.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err says not to retry.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// LogSender is the default: it sends nothing and logs each message (its
// kind, channel and masked address; the text only at debug level), so a
// deployment without a gateway still shows what would have gone out.
type LogSender struct{ Logger *slog.Logger }

// Send logs m.
func (s LogSender) Send(_ context.Context, m Message) error {
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	l.Info("notification not sent: no gateway configured", "channel", m.Channel, "kind", m.Kind, "message", m.ID)
	l.Debug("notification text", "message", m.ID, "title", m.Title, "body", m.Body)
	return nil
}

// GatewayTimeout bounds one request to the gateway.
const GatewayTimeout = 10 * time.Second

// HTTPGateway sends messages to one HTTP endpoint that speaks to the real
// SMS provider or WeChat's subscribe-message API: a JSON POST signed like a
// webhook (headers X-Linli-Timestamp and X-Linli-Signature, see Sign),
// carrying the template id configured for the message's channel and kind.
// A 2xx answer is sent; 429 and 5xx (and network errors) are retried; any
// other answer is permanent.
type HTTPGateway struct {
	URL    string
	Secret []byte
	// Templates maps "CHANNEL.KIND" (SMS.REMINDER) or "KIND" to the
	// gateway's template id; a message whose kind has none is sent with
	// an empty template (the gateway decides: plain text, or refuse).
	Templates map[string]string
	Client    *http.Client
	Now       func() time.Time
}

// GatewayRequest is the JSON body the gateway receives.
type GatewayRequest struct {
	ID       string            `json:"id"`
	Channel  Channel           `json:"channel"`
	Kind     string            `json:"kind"`
	Template string            `json:"template"`
	To       string            `json:"to"`
	Title    string            `json:"title"`
	Body     string            `json:"body"`
	Data     map[string]string `json:"data,omitempty"`
}

// Template is the template id for a message of channel and kind.
func (g *HTTPGateway) Template(ch Channel, kind string) string {
	if t, ok := g.Templates[string(ch)+"."+kind]; ok {
		return t
	}
	return g.Templates[kind]
}

// Send POSTs m to the gateway.
func (g *HTTPGateway) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(GatewayRequest{ID: m.ID, Channel: m.Channel, Kind: m.Kind,
		Template: g.Template(m.Channel, m.Kind), To: m.To, Title: m.Title, Body: m.Body, Data: m.Data})
	if err != nil {
		return &PermanentError{err}
	}
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	ts := now()
	ctx, cancel := context.WithTimeout(ctx, GatewayTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Linli-Message-Id", m.ID)
	req.Header.Set("X-Linli-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("X-Linli-Signature", Sign(g.Secret, ts, body))
	c := g.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("gateway answered %d: %s", resp.StatusCode, snippet)
	}
	return &PermanentError{fmt.Errorf("gateway answered %d: %s", resp.StatusCode, snippet)}
}
