// Package events names the changes linli announces after a write commits:
// slot counts that moved, activities that changed, registrations that changed
// for someone other than who changed them, check-ins. Events are small hints
// ("activity 7 changed"); receivers re-read the truth from the database, so a
// lost or coalesced event never leaves a subscriber on a stale state for long.
package events

// Kind is what changed.
type Kind string

// The kinds of event.
const (
	// Counts: the counters of one or more slots of ActivityID changed.
	Counts Kind = "counts"
	// Activity: ActivityID was published, updated, cancelled or completed (Change).
	Activity Kind = "activity"
	// Registration: RegistrationID of PersonID changed (Change: PROMOTED, APPROVED, …).
	Registration Kind = "registration"
	// CheckIn: RegistrationID was checked in or out at ActivityID (Change).
	CheckIn Kind = "checkin"
	// Session: SessionID ended (logout); every replica closes its live
	// connections and forgets its cached token at once.
	Session Kind = "session"
	// Kiosk: KioskID was revoked; likewise for the kiosk's connections and
	// cached token.
	Kiosk Kind = "kiosk"
	// Person: what PersonID may do changed (roles, team membership or
	// leadership); every replica forgets the person's cached tokens and
	// closes their live connections, whose viewer is now out of date.
	Person Kind = "person"
	// Request: RequestID of CommunityID made a transition, recorded as
	// RequestEventID; PersonID is its submitter (0: none).
	Request Kind = "request"
	// Notification: NotificationID was put in PersonID's inbox.
	Notification Kind = "notification"
)

// Event is one change, already committed.
type Event struct {
	Kind           Kind   `json:"k"`
	CommunityID    int    `json:"c,omitempty"`
	ActivityID     int    `json:"a,omitempty"`
	RegistrationID int    `json:"r,omitempty"`
	PersonID       int    `json:"p,omitempty"`
	SessionID      int    `json:"s,omitempty"`
	KioskID        int    `json:"kk,omitempty"`
	Change         string `json:"x,omitempty"`
	RequestID      int    `json:"q,omitempty"`
	RequestEventID int    `json:"qe,omitempty"`
	NotificationID int    `json:"nt,omitempty"`
}

// Publisher announces committed changes. Publish must not block on slow
// receivers and must be called only after the transaction committed.
type Publisher interface {
	Publish(evs ...Event)
}

// Discard is a Publisher that drops everything.
type Discard struct{}

// Publish implements Publisher.
func (Discard) Publish(...Event) {}
