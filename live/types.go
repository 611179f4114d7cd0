package live

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"linli/ent"
)

// The values live hands its subscribers. gqlgen.yml binds the GraphQL types
// of the same names (schema/live.graphql) to them, so the executor marshals
// them directly and nothing converts between this package and the
// generated code. graph's TestLiveTypesMatchSchema fails if the schema and
// these drift apart (a field or an enum value on one side only).

// ActivityCounts is one reading of an activity's seat counters.
type ActivityCounts struct {
	ActivityID int `json:"activityID"`
	// Version grows with every change subscribers are shown.
	Version int           `json:"version"`
	Slots   []*SlotCounts `json:"slots"`
}

// SlotCounts are one slot's counters.
type SlotCounts struct {
	SlotID     int `json:"slotID"`
	Capacity   int `json:"capacity"`
	Taken      int `json:"taken"`
	Waitlisted int `json:"waitlisted"`
	CheckedIn  int `json:"checkedIn"`
}

// ActivityEvent is one change to an activity of a community's feed.
type ActivityEvent struct {
	Change   ActivityChange `json:"change"`
	Activity *ent.Activity  `json:"activity"`
}

// RegistrationEvent is one change to a person's registration.
type RegistrationEvent struct {
	Change       RegistrationChange `json:"change"`
	Registration *ent.Registration  `json:"registration"`
}

// ActivityChange says what happened to an activity (the GraphQL enum
// ActivityChange).
type ActivityChange string

// The activity changes.
const (
	ActivityPublished ActivityChange = "PUBLISHED"
	ActivityUpdated   ActivityChange = "UPDATED"
	ActivityCancelled ActivityChange = "CANCELLED"
	ActivityCompleted ActivityChange = "COMPLETED"
)

// ActivityChanges are the activity changes, in the schema's order.
var ActivityChanges = []ActivityChange{ActivityPublished, ActivityUpdated, ActivityCancelled, ActivityCompleted}

// IsValid reports whether c is one of ActivityChanges.
func (c ActivityChange) IsValid() bool { return slices.Contains(ActivityChanges, c) }

// MarshalGQL writes c as a GraphQL enum value.
func (c ActivityChange) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL reads a GraphQL enum value.
func (c *ActivityChange) UnmarshalGQL(v any) error { return unmarshalEnum(c, v, "ActivityChange") }

// RegistrationChange says what happened to a registration (the GraphQL enum
// RegistrationChange).
type RegistrationChange string

// The registration changes.
const (
	RegistrationPromoted   RegistrationChange = "PROMOTED"
	RegistrationApproved   RegistrationChange = "APPROVED"
	RegistrationRejected   RegistrationChange = "REJECTED"
	RegistrationCancelled  RegistrationChange = "CANCELLED"
	RegistrationConfirmed  RegistrationChange = "CONFIRMED"
	RegistrationWaitlisted RegistrationChange = "WAITLISTED"
	RegistrationCheckedIn  RegistrationChange = "CHECKED_IN"
	RegistrationCheckedOut RegistrationChange = "CHECKED_OUT"
	// RegistrationOffered: a waitlist offer was made (ledger/offer.go).
	RegistrationOffered RegistrationChange = "OFFERED"
)

// RegistrationChanges are the registration changes, in the schema's order.
var RegistrationChanges = []RegistrationChange{
	RegistrationPromoted, RegistrationApproved, RegistrationRejected, RegistrationCancelled,
	RegistrationConfirmed, RegistrationWaitlisted, RegistrationCheckedIn, RegistrationCheckedOut,
	RegistrationOffered,
}

// IsValid reports whether c is one of RegistrationChanges.
func (c RegistrationChange) IsValid() bool { return slices.Contains(RegistrationChanges, c) }

// MarshalGQL writes c as a GraphQL enum value.
func (c RegistrationChange) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(c)))
}

// UnmarshalGQL reads a GraphQL enum value.
func (c *RegistrationChange) UnmarshalGQL(v any) error {
	return unmarshalEnum(c, v, "RegistrationChange")
}

func unmarshalEnum[E interface {
	~string
	IsValid() bool
}](e *E, v any, name string) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("enums must be strings")
	}
	if !E(s).IsValid() {
		return fmt.Errorf("%s is not a valid %s", s, name)
	}
	*e = E(s)
	return nil
}
