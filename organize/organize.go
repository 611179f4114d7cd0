// Package organize holds what staff do to run a community: activities with
// their slots (create, change, publish, cancel), teams, venues, team
// membership and roles; team leaders run their own teams' activities too.
// Every write runs as the calling viewer, so the Ent privacy rules decide
// who may do it; this package adds the domain checks (times in order,
// capacities sane, state transitions) and clear refusals.
//
// Seat counters are the ledger's: a capacity change and the cancellation of
// an activity's registrations go through Seats inside organize's own
// transaction, so that an update of an activity, its slots and their
// capacities is saved whole or not at all.
package organize

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/notification"
	"linli/ent/slot"
	"linli/events"
	"linli/notify"
	"linli/store"
	"linli/viewer"
)

// Service runs staff operations.
type Service struct {
	client *ent.Client
	events events.Publisher
	seats  Seats
}

// Seats is what organize asks of the seat ledger, which owns every change
// to a slot's counters, inside organize's own transaction, so that a
// refusal undoes the whole operation.
type Seats interface {
	// SetCapacity changes a slot's capacity: raising it promotes from the
	// waitlist, lowering it below the seats taken is refused
	// (VALIDATION_FAILED on "capacity").
	SetCapacity(ctx context.Context, tx *ent.Tx, slotID, capacity int) error
	// CancelActivityRegistrations cancels every registration of the
	// activity.
	CancelActivityRegistrations(ctx context.Context, tx *ent.Tx, activityID int, reason string) error
}

// New returns the staff operations over client, announcing committed
// changes to pub (nil discards them) and changing seats through seats
// (required).
func New(client *ent.Client, pub events.Publisher, seats Seats) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	return &Service{client: client, events: pub, seats: seats}
}

// SlotInput describes a slot to add or change.
type SlotInput struct {
	ID                *int
	Name              string
	Kind              slot.Kind
	Capacity          int
	StartsAt, EndsAt  *time.Time
	MaxSeatsPerSignup int
	RequiresApproval  bool
	WaitlistEnabled   bool
}

func requireStaff(ctx context.Context) (*viewer.Viewer, error) {
	return authz.Require(ctx, (*viewer.Viewer).IsStaff, "only coordinators may do this")
}

// requireOrganizer admits those who may run activities: staff, and team
// leaders (confined to their own teams' activities by organizedActivity,
// mayAssign and the privacy rules).
func requireOrganizer(ctx context.Context) (*viewer.Viewer, error) {
	return authz.Require(ctx, (*viewer.Viewer).IsOrganizer, "only coordinators and team leaders may do this")
}

// organizedActivity reads activity id as the viewer and refuses a viewer who
// may not run it (staff of its community, or a leader of its team).
func (s *Service) organizedActivity(ctx context.Context, id int) (*viewer.Viewer, *ent.Activity, error) {
	v, err := requireOrganizer(ctx)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.client.Activity.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !v.CanOrganize(a.CommunityID, a.TeamID) {
		return nil, nil, apperr.New(apperr.Forbidden, "only coordinators and the leaders of the activity's team may do this")
	}
	return v, a, nil
}

// mayAssign refuses a team leader giving an activity to a team they do not
// lead (or to no team).
func mayAssign(v *viewer.Viewer, teamID *int) error {
	if !v.CanOrganize(v.CommunityID, teamID) {
		return apperr.New(apperr.Forbidden, "team leaders organise activities only for the teams they lead")
	}
	return nil
}

func checkText(field, s string, min, max int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if n < min || n > max {
		if min > 0 {
			return apperr.Invalid(field, "%s must be %d to %d characters", field, min, max)
		}
		return apperr.Invalid(field, "%s must be at most %d characters", field, max)
	}
	return nil
}

// Times linli accepts: an activity or slot outside these years is a typo or
// an attack (year 0001 broke every resident's list once), never a plan.
const (
	minYear = 2000
	maxYear = 2100
)

// checkTime refuses a time outside [minYear, maxYear].
func checkTime(field string, t time.Time) error {
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return apperr.Invalid(field, "%s must be between the years %d and %d", field, minYear, maxYear)
	}
	return nil
}

// checkWindow validates an activity's times: each in range, the activity
// ending after it starts, and a sign-up window that opens before it closes
// and before the activity ends, and closes by its end.
func checkWindow(starts, ends time.Time, opens, closes *time.Time, checkinMinutes int) error {
	for _, t := range []struct {
		field string
		at    *time.Time
	}{{"startsAt", &starts}, {"endsAt", &ends}, {"signupOpensAt", opens}, {"signupClosesAt", closes}} {
		if t.at != nil {
			if err := checkTime(t.field, *t.at); err != nil {
				return err
			}
		}
	}
	if !ends.After(starts) {
		return apperr.Invalid("endsAt", "endsAt must be after startsAt")
	}
	if ends.Sub(starts) > 31*24*time.Hour {
		return apperr.Invalid("endsAt", "an activity lasts at most 31 days")
	}
	if opens != nil && closes != nil && !closes.After(*opens) {
		return apperr.Invalid("signupClosesAt", "signupClosesAt must be after signupOpensAt")
	}
	if closes != nil && closes.After(ends) {
		return apperr.Invalid("signupClosesAt", "sign-up must close by the end of the activity")
	}
	if opens != nil && !opens.Before(ends) {
		return apperr.Invalid("signupOpensAt", "sign-up must open before the activity ends")
	}
	if checkinMinutes < 0 || checkinMinutes > 24*60 {
		return apperr.Invalid("checkinOpensMinutes", "checkinOpensMinutes must be between 0 and 1440")
	}
	return nil
}

func checkSlot(i int, s SlotInput) error {
	f := func(name string) string { return fmt.Sprintf("slots[%d].%s", i, name) }
	if err := checkText(f("name"), s.Name, 1, 100); err != nil {
		return err
	}
	if s.Capacity < 0 || s.Capacity > 100000 {
		return apperr.Invalid(f("capacity"), "capacity must be between 0 and 100000")
	}
	if s.MaxSeatsPerSignup < 1 || s.MaxSeatsPerSignup > 20 {
		return apperr.Invalid(f("maxSeatsPerSignup"), "maxSeatsPerSignup must be between 1 and 20")
	}
	if s.StartsAt != nil {
		if err := checkTime(f("startsAt"), *s.StartsAt); err != nil {
			return err
		}
	}
	if s.EndsAt != nil {
		if err := checkTime(f("endsAt"), *s.EndsAt); err != nil {
			return err
		}
	}
	if s.StartsAt != nil && s.EndsAt != nil && !s.EndsAt.After(*s.StartsAt) {
		return apperr.Invalid(f("endsAt"), "a slot must end after it starts")
	}
	if slot.KindValidator(s.Kind) != nil {
		return apperr.Invalid(f("kind"), "unknown slot kind")
	}
	return nil
}

// CreateActivity creates a draft activity with its slots in the viewer's community.
func (s *Service) CreateActivity(ctx context.Context, in ent.CreateActivityInput, slots []SlotInput) (*ent.Activity, error) {
	v, err := requireOrganizer(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkCreate(v, in, slots); err != nil {
		return nil, err
	}
	if err := s.checkRefs(ctx, in.TeamID, in.VenueID); err != nil {
		return nil, err
	}
	var a *ent.Activity
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		a, err = tx.Activity.Create().SetInput(in).SetCommunityID(v.CommunityID).Save(ctx)
		if err != nil {
			return err
		}
		for _, sl := range slots {
			if err := slotCreate(tx, a, sl).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Detach from the committed transaction so edges load through the client.
	return a.Unwrap(), nil
}

// checkCreate validates a new activity by v before anything is written:
// who may assign its team, its texts, times and slots.
func checkCreate(v *viewer.Viewer, in ent.CreateActivityInput, slots []SlotInput) error {
	if err := mayAssign(v, in.TeamID); err != nil {
		return err
	}
	if err := checkText("title", in.Title, 1, 200); err != nil {
		return err
	}
	if in.Description != nil {
		if err := checkText("description", *in.Description, 0, 10000); err != nil {
			return err
		}
	}
	cm := 60
	if in.CheckinOpensMinutes != nil {
		cm = *in.CheckinOpensMinutes
	}
	if err := checkWindow(in.StartsAt, in.EndsAt, in.SignupOpensAt, in.SignupClosesAt, cm); err != nil {
		return err
	}
	if len(slots) == 0 {
		return apperr.Invalid("slots", "an activity needs at least one slot")
	}
	if len(slots) > MaxSlots {
		return tooManySlots()
	}
	for i, sl := range slots {
		if sl.ID != nil {
			return apperr.Invalid(fmt.Sprintf("slots[%d].id", i), "new slots have no id")
		}
		if err := checkSlot(i, sl); err != nil {
			return err
		}
	}
	return nil
}

func slotCreate(tx *ent.Tx, a *ent.Activity, sl SlotInput) *ent.SlotCreate {
	return tx.Slot.Create().SetCommunityID(a.CommunityID).SetActivityID(a.ID).
		SetName(strings.TrimSpace(sl.Name)).SetKind(sl.Kind).SetCapacity(sl.Capacity).
		SetNillableStartsAt(sl.StartsAt).SetNillableEndsAt(sl.EndsAt).
		SetMaxSeatsPerSignup(sl.MaxSeatsPerSignup).SetRequiresApproval(sl.RequiresApproval).
		SetWaitlistEnabled(sl.WaitlistEnabled)
}

// checkRefs makes sure a team and venue exist and are visible to the viewer
// (the privacy rules hide other communities' rows).
func (s *Service) checkRefs(ctx context.Context, teamID, venueID *int) error {
	if teamID != nil {
		if _, err := s.client.Team.Get(ctx, *teamID); err != nil {
			if ent.IsNotFound(err) {
				return apperr.Invalid("teamID", "no such team")
			}
			return err
		}
	}
	if venueID != nil {
		if _, err := s.client.Venue.Get(ctx, *venueID); err != nil {
			if ent.IsNotFound(err) {
				return apperr.Invalid("venueID", "no such venue")
			}
			return err
		}
	}
	return nil
}

// MaxSlots bounds the slots of one activity: every reader of an activity
// (the browsing list, live counts) pays for each of them.
const MaxSlots = 50

func tooManySlots() error {
	return apperr.Invalid("slots", "an activity has at most %d slots", MaxSlots)
}

// UpdateActivity changes an activity and its slots in one transaction:
// slots with an id are changed (a new capacity through the seat ledger,
// which promotes from the waitlist or refuses to go below the seats taken),
// slots without one are added. A refusal of any part leaves everything as
// it was.
func (s *Service) UpdateActivity(ctx context.Context, id int, in ent.UpdateActivityInput, slots []SlotInput) (*ent.Activity, error) {
	v, a, err := s.organizedActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkUpdate(v, a, in, slots); err != nil {
		return nil, err
	}
	if err := s.checkRefs(ctx, in.TeamID, in.VenueID); err != nil {
		return nil, err
	}
	before := a
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		if a, err = tx.Activity.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return err
		}
		if moved(before, a) && a.Status == activity.StatusPUBLISHED {
			if err := notify.Emit(ctx, tx, notify.Event{Kind: notification.KindACTIVITY_CHANGED, CommunityID: a.CommunityID,
				ActivityID: a.ID, Note: movedFrom(ctx, tx, before)}); err != nil {
				return err
			}
		}
		for i, sl := range slots {
			if err := s.saveSlot(ctx, tx, a, i, sl); err != nil {
				return err
			}
		}
		// Counted after the inserts, inside the transaction that holds the
		// activity's row: updates of one activity are serialised by it, so
		// no two of them can each stay under the bound and pass it together.
		n, err := tx.Slot.Query().Where(slot.ActivityID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if n > MaxSlots {
			return tooManySlots()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a = a.Unwrap()
	s.publish(a, "UPDATED")
	return a, nil
}

// checkUpdate validates a change of activity a by v before anything is
// written: who may assign its team, its state, texts, times and slots.
func checkUpdate(v *viewer.Viewer, a *ent.Activity, in ent.UpdateActivityInput, slots []SlotInput) error {
	if in.TeamID != nil || in.ClearTeam {
		if err := mayAssign(v, in.TeamID); err != nil {
			return err
		}
	}
	if a.Status == activity.StatusCANCELLED || a.Status == activity.StatusCOMPLETED {
		return apperr.New(apperr.Conflict, "a %s activity cannot be changed", strings.ToLower(string(a.Status)))
	}
	if in.Title != nil {
		if err := checkText("title", *in.Title, 1, 200); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := checkText("description", *in.Description, 0, 10000); err != nil {
			return err
		}
	}
	starts, ends, opens, closes, cm := updatedTimes(a, in)
	if err := checkWindow(starts, ends, opens, closes, cm); err != nil {
		return err
	}
	if len(slots) > MaxSlots {
		return tooManySlots()
	}
	for i, sl := range slots {
		if err := checkSlot(i, sl); err != nil {
			return err
		}
	}
	return nil
}

// updatedTimes are a's times as the change in leaves them.
func updatedTimes(a *ent.Activity, in ent.UpdateActivityInput) (starts, ends time.Time, opens, closes *time.Time, checkinMinutes int) {
	starts, ends = pick(in.StartsAt, a.StartsAt), pick(in.EndsAt, a.EndsAt)
	opens, closes = a.SignupOpensAt, a.SignupClosesAt
	if in.ClearSignupOpensAt {
		opens = nil
	}
	if in.SignupOpensAt != nil {
		opens = in.SignupOpensAt
	}
	if in.ClearSignupClosesAt {
		closes = nil
	}
	if in.SignupClosesAt != nil {
		closes = in.SignupClosesAt
	}
	checkinMinutes = a.CheckinOpensMinutes
	if in.CheckinOpensMinutes != nil {
		checkinMinutes = *in.CheckinOpensMinutes
	}
	return starts, ends, opens, closes, checkinMinutes
}

// saveSlot adds slot i of an update to a, or changes the slot it names.
func (s *Service) saveSlot(ctx context.Context, tx *ent.Tx, a *ent.Activity, i int, sl SlotInput) error {
	if sl.ID == nil {
		return slotCreate(tx, a, sl).Exec(ctx)
	}
	field := func(name string) string { return fmt.Sprintf("slots[%d].%s", i, name) }
	old, err := tx.Slot.Query().Where(slot.ID(*sl.ID), slot.ActivityID(a.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return apperr.Invalid(field("id"), "no such slot in this activity")
	}
	if err != nil {
		return err
	}
	if old.Kind != sl.Kind && old.Taken+old.Waitlisted+old.Pending > 0 {
		return apperr.Invalid(field("kind"), "the kind of a slot with sign-ups cannot change")
	}
	if err := tx.Slot.UpdateOneID(old.ID).SetName(strings.TrimSpace(sl.Name)).SetKind(sl.Kind).
		SetNillableStartsAt(sl.StartsAt).SetNillableEndsAt(sl.EndsAt).
		SetMaxSeatsPerSignup(sl.MaxSeatsPerSignup).SetRequiresApproval(sl.RequiresApproval).
		SetWaitlistEnabled(sl.WaitlistEnabled).Exec(ctx); err != nil {
		return err
	}
	if old.Capacity == sl.Capacity {
		return nil
	}
	err = s.seats.SetCapacity(ctx, tx, old.ID, sl.Capacity)
	if e, ok := apperr.As(err); ok && e.Code == apperr.ValidationFailed && e.Field == "capacity" {
		// The ledger names its own argument; the client sent this slot's.
		return &apperr.Error{Code: e.Code, Field: field("capacity"), Message: e.Message, Err: e.Err}
	}
	return err
}

func pick(p *time.Time, def time.Time) time.Time {
	if p != nil {
		return *p
	}
	return def
}

// Publish moves a draft activity to PUBLISHED.
func (s *Service) Publish(ctx context.Context, id int) (*ent.Activity, error) {
	_, a, err := s.organizedActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	switch a.Status {
	case activity.StatusPUBLISHED:
		return a, nil
	case activity.StatusDRAFT:
	default:
		return nil, apperr.New(apperr.Conflict, "only a draft can be published (this one is %s)", a.Status)
	}
	n, err := s.client.Slot.Query().Where(slot.ActivityID(id)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apperr.Invalid("slots", "an activity needs at least one slot to be published")
	}
	// Conditional on the status so two concurrent publishes cannot both win.
	changed, err := s.client.Activity.Update().
		Where(activity.ID(id), activity.StatusEQ(activity.StatusDRAFT)).
		SetStatus(activity.StatusPUBLISHED).Save(ctx)
	if err != nil {
		return nil, err
	}
	if a, err = s.client.Activity.Get(ctx, id); err != nil {
		return nil, err
	}
	if changed > 0 {
		s.publish(a, "PUBLISHED")
	}
	return a, nil
}

// Cancel cancels an activity and every registration in it, in one transaction.
func (s *Service) Cancel(ctx context.Context, id int, reason string) (*ent.Activity, error) {
	_, a, err := s.organizedActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkText("reason", reason, 0, 500); err != nil {
		return nil, err
	}
	switch a.Status {
	case activity.StatusCANCELLED:
		return a, nil
	case activity.StatusCOMPLETED:
		return nil, apperr.New(apperr.Conflict, "a completed activity cannot be cancelled")
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		n, err := tx.Activity.Update().
			Where(activity.ID(id), activity.StatusIn(activity.StatusDRAFT, activity.StatusPUBLISHED)).
			SetStatus(activity.StatusCANCELLED).Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		// Its holders, before their registrations are cancelled below.
		if err := notify.Emit(ctx, tx, notify.Event{Kind: notification.KindACTIVITY_CANCELLED, CommunityID: a.CommunityID,
			ActivityID: id, Note: reason}); err != nil {
			return err
		}
		return s.seats.CancelActivityRegistrations(ctx, tx, id, reason)
	})
	if err != nil {
		return nil, err
	}
	if a, err = s.client.Activity.Get(ctx, id); err != nil {
		return nil, err
	}
	s.publish(a, "CANCELLED")
	return a, nil
}

func (s *Service) publish(a *ent.Activity, change string) {
	s.events.Publish(
		events.Event{Kind: events.Activity, CommunityID: a.CommunityID, ActivityID: a.ID, Change: change},
		events.Event{Kind: events.Counts, CommunityID: a.CommunityID, ActivityID: a.ID},
	)
}
