package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/gid"
	"linli/idem"
	"linli/mask"
	"linli/viewer"
)

// CodeHash is how a check-in list carries a code: a kiosk hashes what it
// scans the same way and looks it up, so the list never holds codes that
// could be copied to another device and shown at the door. activityID is
// the activity's ID as the API gives it (the list's activityID), the only
// one the kiosk knows.
func CodeHash(activityID, code string) string {
	h := sha256.Sum256([]byte("linli-checkin:" + activityID + ":" + code))
	return hex.EncodeToString(h[:])
}

// List is what a kiosk needs to validate codes while offline.
type List struct {
	ActivityID      int
	Version         int64
	GeneratedAt     time.Time
	OpensAt, Closes time.Time
	Entries         []ListEntry
}

// ListEntry is one registration, with no more than the tablet shows.
type ListEntry struct {
	CodeHash       string
	RegistrationID int
	Name           string
	SlotID         int
	SlotName       string
	Seats          int
	Status         registration.Status
}

// CheckInList returns an activity's registrations for offline validation,
// to a kiosk at its venue or to staff of its community.
func (s *Service) CheckInList(ctx context.Context, activityID int) (*List, error) {
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	// As the viewer: privacy decides which activities exist for it (its
	// community's, that it may see); the venue is the check-in rule's.
	a, err := s.client.Activity.Query().Where(activity.ID(activityID)).WithSlots().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if err != nil {
		return nil, err
	}
	if who.kioskID != 0 && (a.VenueID == nil || *a.VenueID != who.venueID) {
		return nil, apperr.New(apperr.Forbidden, "this activity is not at this kiosk's venue")
	}
	ids := gid.FromContext(ctx)
	if ids == nil {
		return nil, fmt.Errorf("scan: no ID codec in the context")
	}
	apiID := ids.Encode(a.ID)
	l := &List{ActivityID: a.ID, Version: a.CountsVersion, GeneratedAt: s.now()}
	l.OpensAt, l.Closes = listWindow(a)
	// As linli itself, once the activity was: the names are masked below
	// for every viewer alike.
	regs, err := s.client.Registration.Query().Where(registration.ActivityID(a.ID)).
		WithSlot().WithPerson().Order(ent.Asc(registration.FieldID)).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		l.Entries = append(l.Entries, ListEntry{
			CodeHash: CodeHash(apiID, r.CheckInCode), RegistrationID: r.ID, Name: mask.Name(r.Edges.Person.DisplayName),
			SlotID: r.SlotID, SlotName: r.Edges.Slot.Name, Seats: r.Seats, Status: r.Status,
		})
	}
	return l, nil
}

// listWindow is when check-in opens for the earliest slot and closes for
// the latest: the union of their windows (Window) and the activity's own.
func listWindow(a *ent.Activity) (opens, closes time.Time) {
	opens, closes = Window(a, nil)
	for _, sl := range a.Edges.Slots {
		o, c := Window(a, sl)
		if o.Before(opens) {
			opens = o
		}
		if c.After(closes) {
			closes = c
		}
	}
	return opens, closes
}

// MaxSyncItems bounds one upload of offline scans.
const MaxSyncItems = 500

// SyncItem is one scan made offline.
type SyncItem struct {
	Kind       checkinscan.Kind
	Code       string
	Nonce      string
	At         time.Time
	ActivityID int
}

// Sync answers scans made offline, each as if it had been sent when it was
// made: in the order they were made (so across an upload the earliest scan
// of a code is its check-in), with the time of the scan. Scans uploaded
// later that are earlier than what is recorded move the recorded time (the
// earliest scan wins, whichever kiosk uploads first). Every item gets its
// own answer, in the order given; a retried upload gets the same answers.
func (s *Service) Sync(ctx context.Context, items []SyncItem) ([]*Result, error) {
	if _, err := scannerOf(ctx); err != nil {
		return nil, err
	}
	if len(items) > MaxSyncItems {
		return nil, apperr.Invalid("items", "at most %d items per upload", MaxSyncItems)
	}
	now := s.now()
	asked := make(map[string][]byte, len(items))
	for i, it := range items {
		prefix := fmt.Sprintf("items[%d].", i)
		scan := Scan{Kind: it.Kind, Code: it.Code, Nonce: it.Nonce}
		if err := checkScan(scan, prefix); err != nil {
			return nil, err
		}
		if it.At.IsZero() {
			return nil, apperr.Invalid(prefix+"at", "at is required for offline scans")
		}
		if _, err := scanTime(&it.At, now, prefix+"at"); err != nil {
			return nil, err
		}
		// A nonce twice in one upload must be the same scan twice; the
		// same rule as across uploads (stored), before anything is written.
		h := scan.requestHash()
		if prev, ok := asked[it.Nonce]; ok && idem.Match("", prev, "", h) == idem.Conflict {
			return nil, nonceConflict(prefix + "nonce")
		}
		asked[it.Nonce] = h
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return items[order[a]].At.Before(items[order[b]].At) })
	out := make([]*Result, len(items))
	for _, i := range order {
		it := items[i]
		at := it.At
		r, err := s.Scan(ctx, Scan{Kind: it.Kind, Method: checkinscan.MethodSYNC, Code: it.Code, Nonce: it.Nonce, At: &at, ActivityID: it.ActivityID})
		if e, ok := apperr.As(err); ok && e.Field != "" {
			e.Field = fmt.Sprintf("items[%d].%s", i, e.Field)
		}
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
