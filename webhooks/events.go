package webhooks

import (
	"context"
	"slices"
	"time"

	"linli/ent"
	"linli/ent/schema"
	"linli/notify"
)

// Events are the event kinds webhooks may subscribe to: the kinds of
// notification (one event per cause, whoever it notifies).
func Events() []string { return slices.Clone(schema.NotificationKinds) }

// EventData is a delivery's data: what happened, named by the API's IDs
// (absent when the event has none), and how many people it notified.
// People are not named: an integration learns what happened in the
// community, not who was told.
type EventData struct {
	Kind           string    `json:"kind"`
	ActivityID     string    `json:"activityID,omitempty"`
	RegistrationID string    `json:"registrationID,omitempty"`
	RequestID      string    `json:"requestID,omitempty"`
	Note           string    `json:"note,omitempty"`
	At             time.Time `json:"at"`
	Recipients     int       `json:"recipients"`
}

// Consume is notify's consumer (notify.Service.AddConsumer): each worked
// event becomes deliveries, in the event job's transaction.
func (s *Service) Consume(ctx context.Context, tx *ent.Tx, ev notify.Event, recipients []int) error {
	d := EventData{Kind: string(ev.Kind), Note: ev.Note, At: ev.At, Recipients: len(recipients)}
	if ev.ActivityID != 0 {
		d.ActivityID = s.encode(ev.ActivityID)
	}
	if ev.RegistrationID != 0 {
		d.RegistrationID = s.encode(ev.RegistrationID)
	}
	if ev.RequestID != 0 {
		d.RequestID = s.encode(ev.RequestID)
	}
	return s.Enqueue(ctx, tx, ev.CommunityID, string(ev.Kind), d)
}
