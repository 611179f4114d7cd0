// Package webhooks lets staff subscribe an integration to their
// community's events: a webhook is a URL, a secret and the event kinds it
// wants. Each event becomes one WebhookDelivery row per subscribed webhook
// and one job (kind JobKind), written in the event's own transaction, so a
// rolled-back change delivers nothing and a committed one is delivered
// even across a crash. The job POSTs the JSON payload signed like every
// body linli sends (channels.Sign, over timestamp "." body) with a
// delivery id receivers deduplicate by, and retries with the job
// system's backoff; the row keeps status, attempts, last error and
// response code for staff.
//
// Only http(s) URLs; loopback, link-local, private and unspecified
// addresses are refused at registration (CheckURL) and again at connect
// time (Dialer), unless Options.AllowPrivate (-webhooks-allow-private).
package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/channels"
	"linli/ent"
	"linli/ent/webhook"
	"linli/ent/webhookdelivery"
	"linli/jobs"
	"linli/store"
	"linli/viewer"
)

// JobKind is the job that makes one delivery's attempts.
const JobKind = "webhook.deliver"

// Audit-log actions of webhooks.
const (
	ActionCreate = "webhook.create"
	ActionDelete = "webhook.delete"
)

// Bounds.
const (
	// MaxPerCommunity live webhooks a community may have.
	MaxPerCommunity = 20
	// DefaultMaxAttempts per delivery before it is FAILED.
	DefaultMaxAttempts = 8
	// MinSecretBytes a secret given by staff must have.
	MinSecretBytes = 24
	// MaxSecretBytes a secret given by staff may have.
	MaxSecretBytes = 200
	// maxResponseBytes of a receiver's answer read (the rest is dropped).
	maxResponseBytes = 4 << 10
)

// Headers of a delivery.
const (
	HeaderEvent     = "X-Linli-Event"
	HeaderDelivery  = "X-Linli-Delivery"
	HeaderTimestamp = "X-Linli-Timestamp"
	HeaderSignature = "X-Linli-Signature"
)

// Options configure the service.
type Options struct {
	// AllowPrivate lets webhooks point at loopback, link-local, private
	// and unspecified addresses (-webhooks-allow-private: tests, a
	// receiver on the same network on purpose).
	AllowPrivate bool
	// Timeout of one attempt (default 10 s).
	Timeout time.Duration
	// MaxAttempts per delivery (default DefaultMaxAttempts).
	MaxAttempts int
	// Resolver for the registration check (nil: the system's).
	Resolver *net.Resolver
}

// Service registers webhooks and delivers events to them.
type Service struct {
	client *ent.Client
	http   *http.Client
	opts   Options
	events []string
	encode func(int) string
	now    func() time.Time
}

// New returns the service. events are the event kinds a webhook may ask
// for; encode turns row ids into the API's IDs in payloads.
func New(client *ent.Client, opts Options, events []string, encode func(int) string) *Service {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	return &Service{client: client, http: Client(opts.AllowPrivate, opts.Timeout), opts: opts,
		events: slices.Clone(events), encode: encode, now: func() time.Time { return time.Now().UTC() }}
}

// Events are the event kinds a webhook may subscribe to.
func (s *Service) Events() []string { return slices.Clone(s.events) }

// MaxAttempts per delivery.
func (s *Service) MaxAttempts() int { return s.opts.MaxAttempts }

// CreateInput is what staff give to register a webhook.
type CreateInput struct {
	CommunityID *int
	URL         string
	// Secret, when empty, is generated.
	Secret      string
	Events      []string
	Description string
}

// Created is a new webhook and its secret, shown only once.
type Created struct {
	Webhook *ent.Webhook
	Secret  string
}

// Create registers a webhook (staff of the community).
func (s *Service) Create(ctx context.Context, in CreateInput) (*Created, error) {
	cid, err := authz.RequireStaffOfCommunity(ctx, in.CommunityID)
	if err != nil {
		return nil, err
	}
	u, err := CheckURL(ctx, strings.TrimSpace(in.URL), s.opts.AllowPrivate, s.opts.Resolver)
	if err != nil {
		return nil, err
	}
	events, err := s.checkEvents(in.Events)
	if err != nil {
		return nil, err
	}
	desc := strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(desc) > 200 {
		return nil, apperr.Invalid("description", "a description is at most 200 characters")
	}
	secret := in.Secret
	switch {
	case secret == "":
		if secret, err = NewSecret(); err != nil {
			return nil, err
		}
	case len(secret) < MinSecretBytes || len(secret) > MaxSecretBytes:
		return nil, apperr.Invalid("secret", "a secret is %d to %d bytes", MinSecretBytes, MaxSecretBytes)
	}
	v := viewer.FromContext(ctx)
	var by *int
	if v.PersonID != 0 {
		by = &v.PersonID
	}
	var w *ent.Webhook
	err = store.InTx(ctx, s.client, store.TxOptions{}, func(tx *ent.Tx) error {
		n, err := tx.Webhook.Query().Where(webhook.CommunityID(cid), webhook.DeletedAtIsNil()).Count(viewer.System(ctx))
		if err != nil {
			return err
		}
		if n >= MaxPerCommunity {
			return apperr.New(apperr.Conflict, "a community has at most %d webhooks", MaxPerCommunity)
		}
		if w, err = tx.Webhook.Create().SetCommunityID(cid).SetURL(u.String()).SetSecret(secret).
			SetEvents(events).SetDescription(desc).SetNillableCreatedByID(by).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionCreate,
			Subject: fmt.Sprintf("Webhook:%d", w.ID), SubjectID: &w.ID,
			Detail: fmt.Sprintf("%s for %s", redact(u.Redacted()), strings.Join(events, ","))})
	})
	if err != nil {
		return nil, err
	}
	return &Created{Webhook: w.Unwrap(), Secret: secret}, nil
}

func (s *Service) checkEvents(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, apperr.Invalid("events", "name at least one event")
	}
	var out []string
	for _, e := range in {
		if !slices.Contains(s.events, e) {
			return nil, apperr.Invalid("events", "unknown event %q (known: %s)", truncate(e, 64), strings.Join(s.events, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out, nil
}

// NewSecret makes a webhook secret: "whsec_" and 32 random bytes.
func NewSecret() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// get is the live webhook id as the viewer may see it: another
// community's (or a deleted one) is NOT_FOUND.
func (s *Service) get(ctx context.Context, id int) (*ent.Webhook, error) {
	if _, err := authz.RequireStaff(ctx); err != nil {
		return nil, err
	}
	w, err := s.client.Webhook.Query().Where(webhook.ID(id), webhook.DeletedAtIsNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such webhook")
	}
	return w, err
}

// Delete deletes a webhook: it gets no more deliveries (those pending
// fail as "webhook deleted"); its history stays readable by its id.
func (s *Service) Delete(ctx context.Context, id int) error {
	w, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	return store.InTx(ctx, s.client, store.TxOptions{}, func(tx *ent.Tx) error {
		n, err := tx.Webhook.Update().Where(webhook.ID(w.ID), webhook.DeletedAtIsNil()).SetDeletedAt(s.now()).Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "no such webhook")
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: w.CommunityID, Action: ActionDelete,
			Subject: fmt.Sprintf("Webhook:%d", w.ID), SubjectID: &w.ID, Detail: redact(w.URL)})
	})
}

// List is the community's live webhooks (at most MaxPerCommunity).
func (s *Service) List(ctx context.Context, communityID *int) ([]*ent.Webhook, error) {
	cid, err := authz.RequireStaffOfCommunity(ctx, communityID)
	if err != nil {
		return nil, err
	}
	return s.client.Webhook.Query().Where(webhook.CommunityID(cid), webhook.DeletedAtIsNil()).
		Order(ent.Asc(webhook.FieldID)).Limit(MaxPerCommunity).All(ctx)
}

// Deliveries pages through a webhook's deliveries, newest first (also a
// deleted webhook's, for staff who still hold its id).
func (s *Service) Deliveries(ctx context.Context, webhookID int, status *webhookdelivery.Status, after *entgql.Cursor[int], first *int) (*ent.WebhookDeliveryConnection, error) {
	if _, err := authz.RequireStaff(ctx); err != nil {
		return nil, err
	}
	if ok, err := s.client.Webhook.Query().Where(webhook.ID(webhookID)).Exist(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.New(apperr.NotFound, "no such webhook")
	}
	q := s.client.WebhookDelivery.Query().Where(webhookdelivery.WebhookID(webhookID))
	if status != nil {
		q.Where(webhookdelivery.StatusEQ(*status))
	}
	return q.Paginate(ctx, after, first, nil, nil, ent.WithWebhookDeliveryOrder(&ent.WebhookDeliveryOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.WebhookDeliveryOrderFieldCreatedAt}))
}

// Payload is the JSON body of a delivery.
type Payload struct {
	// ID is the delivery id (also the X-Linli-Delivery header): the same
	// on every attempt, unique across deliveries.
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	CommunityID string    `json:"communityID"`
	CreatedAt   time.Time `json:"createdAt"`
	Data        any       `json:"data"`
}

// Enqueue writes, in tx (the event's transaction), one delivery of event
// with data for every live webhook of the community subscribed to it, and
// their jobs. A community without webhooks costs one indexed query.
func (s *Service) Enqueue(ctx context.Context, tx *ent.Tx, communityID int, event string, data any) error {
	sys := viewer.System(ctx)
	hooks, err := tx.Webhook.Query().Where(webhook.CommunityID(communityID), webhook.DeletedAtIsNil()).
		Select(webhook.FieldID, webhook.FieldEvents).All(sys)
	if err != nil || len(hooks) == 0 {
		return err
	}
	now := s.now()
	var creates []*ent.WebhookDeliveryCreate
	for _, h := range hooks {
		if !slices.Contains(h.Events, event) {
			continue
		}
		id, err := newDeliveryID()
		if err != nil {
			return err
		}
		body, err := json.Marshal(Payload{ID: id, Event: event, CommunityID: s.encode(communityID), CreatedAt: now, Data: data})
		if err != nil {
			return err
		}
		creates = append(creates, tx.WebhookDelivery.Create().SetCommunityID(communityID).SetWebhookID(h.ID).
			SetUUID(id).SetEvent(event).SetPayload(string(body)).SetCreatedAt(now))
	}
	if len(creates) == 0 {
		return nil
	}
	rows, err := tx.WebhookDelivery.CreateBulk(creates...).Save(sys)
	if err != nil {
		return err
	}
	js := make([]jobs.Job, len(rows))
	for i, r := range rows {
		js[i] = jobs.Job{Kind: JobKind, Payload: deliverPayload{DeliveryID: r.ID},
			Key: fmt.Sprintf("%s:%d", JobKind, r.ID), MaxAttempts: s.opts.MaxAttempts}
	}
	return jobs.Enqueue(ctx, tx, js...)
}

// deliverPayload is a JobKind job's payload.
type deliverPayload struct {
	DeliveryID int `json:"d"`
}

// Register makes r work webhook deliveries.
func (s *Service) Register(r *jobs.Runner) {
	r.Handle(JobKind, func(ctx context.Context, c *jobs.Claimed) error {
		var p deliverPayload
		if err := c.Decode(&p); err != nil {
			return err
		}
		return s.Deliver(ctx, p.DeliveryID, c.Attempt >= c.MaxAttempts)
	})
}

func newDeliveryID() (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return hex.EncodeToString(raw), nil
}

// Deliver makes one attempt of delivery id: it POSTs the payload and
// records the outcome. An error asks the job system to retry; when the
// last attempt (last) failed, the delivery is FAILED and Deliver returns
// nil (nothing more to do). A delivered delivery is not sent again.
func (s *Service) Deliver(ctx context.Context, id int, last bool) error {
	sys := viewer.System(ctx)
	d, err := s.client.WebhookDelivery.Query().Where(webhookdelivery.ID(id)).WithWebhook().Only(sys)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Status != webhookdelivery.StatusPENDING {
		return nil
	}
	w := d.Edges.Webhook
	if w.DeletedAt != nil {
		return s.client.WebhookDelivery.UpdateOne(d).SetStatus(webhookdelivery.StatusFAILED).
			SetLastError("webhook deleted").Exec(sys)
	}
	code, sendErr := s.post(ctx, w, d)
	attempts := d.Attempts + 1
	up := s.client.WebhookDelivery.UpdateOneID(d.ID).SetAttempts(attempts).SetLastAttemptAt(s.now())
	if code != 0 {
		up.SetResponseCode(code)
	} else {
		up.ClearResponseCode()
	}
	switch {
	case sendErr == nil:
		up.SetStatus(webhookdelivery.StatusDELIVERED).SetDeliveredAt(s.now()).SetLastError("")
	case last:
		up.SetStatus(webhookdelivery.StatusFAILED).SetLastError(truncate(sendErr.Error(), 500))
	default:
		up.SetLastError(truncate(sendErr.Error(), 500))
	}
	if err := up.Exec(sys); err != nil {
		return err
	}
	if sendErr != nil && !last {
		return fmt.Errorf("webhook delivery %s attempt %d: %w", d.UUID, attempts, sendErr)
	}
	return nil
}

// post sends one attempt; it answers the response code (0: none).
func (s *Service) post(ctx context.Context, w *ent.Webhook, d *ent.WebhookDelivery) (int, error) {
	body := []byte(d.Payload)
	ts := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "linli-webhooks/1")
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, d.UUID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, channels.Sign([]byte(w.Secret), ts, body))
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// redact is a URL without its query (which may carry a receiver's token),
// for the audit log.
func redact(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i] + "?…"
	}
	return raw
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
