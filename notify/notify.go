package notify

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"linli/ent"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/jobs"
	"linli/viewer"
)

// Job kinds of this package.
const (
	// KindEvent works one Event: inbox rows, consumers, external copies.
	KindEvent = "notify.event"
	// KindSend delivers one notification on one external channel
	// (SendPayload); its handler is the channel senders'.
	KindSend = "notify.send"
	// KindReminderSweep writes the reminders that fell due.
	KindReminderSweep = "notify.reminders"
	// KindFollowUpSweep asks submitters of resolved, unconfirmed
	// requests how it went (回访).
	KindFollowUpSweep = "notify.followups"
)

// SendPayload is a KindSend job's payload.
type SendPayload struct {
	NotificationID int     `json:"n"`
	Channel        Channel `json:"c"`
}

// SendKey is the unique key of the KindSend job of notification n on ch.
func SendKey(n int, ch Channel) string { return fmt.Sprintf("%s:%d:%s", KindSend, n, ch) }

// Event is one cause of notifications.
type Event struct {
	Kind           notification.Kind `json:"k"`
	CommunityID    int               `json:"c"`
	ActivityID     int               `json:"a,omitempty"`
	RegistrationID int               `json:"r,omitempty"`
	RequestID      int               `json:"q,omitempty"`
	// PersonIDs are the recipients; empty: resolved from the kind when the
	// event is worked (see package doc).
	PersonIDs []int `json:"p,omitempty"`
	// Note details the text: a reason, a request's new status, credited
	// hours, a certificate's number.
	Note string `json:"n,omitempty"`
	// ActorID, when set, is who caused it: they are not told.
	ActorID int `json:"x,omitempty"`
	// At is when it happened (set by Emit).
	At time.Time `json:"t"`
	// Key, when set, makes the event's notifications unique per person
	// ("<Key>:<person>"); empty: the event job's id.
	Key string `json:"key,omitempty"`
}

// holders are the registration states that hold a seat or a waitlist
// place (and so hear of a change or cancellation).
var holders = []registration.Status{registration.StatusCONFIRMED, registration.StatusWAITLISTED,
	registration.StatusPENDING_APPROVAL, registration.StatusCHECKED_IN, registration.StatusOFFERED}

// Emit enqueues evs in tx, one KindEvent job each, in one statement. An
// ACTIVITY_CHANGED or ACTIVITY_CANCELLED event without PersonIDs gets the
// activity's holders now, as tx sees them (a cancellation then cancels
// their registrations in the same transaction).
func Emit(ctx context.Context, tx *ent.Tx, evs ...Event) error {
	if len(evs) == 0 || off.Load() {
		return nil
	}
	sys := viewer.System(ctx)
	now := time.Now().UTC()
	js := make([]jobs.Job, 0, len(evs))
	for _, ev := range evs {
		if ev.At.IsZero() {
			ev.At = now
		}
		if len(ev.PersonIDs) == 0 && ev.ActivityID != 0 &&
			(ev.Kind == notification.KindACTIVITY_CANCELLED || ev.Kind == notification.KindACTIVITY_CHANGED) {
			var ids []int
			err := tx.Registration.Query().Where(registration.ActivityID(ev.ActivityID), registration.StatusIn(holders...)).
				Unique(true).Select(registration.FieldPersonID).Scan(sys, &ids)
			if err != nil {
				return fmt.Errorf("notify: holders of activity %d: %w", ev.ActivityID, err)
			}
			if len(ids) == 0 {
				continue
			}
			slices.Sort(ids)
			ev.PersonIDs = slices.Compact(ids)
		}
		js = append(js, jobs.Job{Kind: KindEvent, Payload: ev})
	}
	return jobs.Enqueue(ctx, tx, js...)
}

// off switches notifications off in this process (-notifications=false).
var off atomic.Bool

// SetOff switches Emit off (or on again) for the whole process: an
// operator's -notifications=false, for a deployment that tells nobody
// anything (and the benchmark's baseline).
func SetOff(b bool) { off.Store(b) }

// Consumer sees every worked event with its recipients (after mutes),
// inside the event job's transaction.
type Consumer func(ctx context.Context, tx *ent.Tx, ev Event, recipients []int) error
