package series

import (
	"context"
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/organize"
	"linli/series/plan"
	"linli/store"
)

// Scope is which occurrences an edit changes.
type Scope string

// The scopes of an edit.
const (
	// One changes the given occurrence only.
	One Scope = "ONE"
	// Following changes the given occurrence, every later one, and the
	// series' plan (so occurrences made later follow).
	Following Scope = "FOLLOWING"
	// All changes every occurrence not yet started, and the plan.
	All Scope = "ALL"
)

// SlotChange changes the slot at Position of the plan (and of each
// occurrence changed).
type SlotChange struct {
	Position int
	Name     *string
	Capacity *int
}

// EditInput is an edit of a series by scope. StartTime is "HH:MM" China
// time on each occurrence's own date.
type EditInput struct {
	SeriesID        int
	Scope           Scope
	ActivityID      *int
	Title           *string
	Description     *string
	TeamID          *int
	ClearTeam       bool
	VenueID         *int
	ClearVenue      bool
	StartTime       *string
	DurationMinutes *int
	Slots           []SlotChange
}

// Refusal is an occurrence an edit or cancellation left as it was, and why.
type Refusal struct {
	ActivityID int
	Error      *apperr.Error
}

// EditResult lists the occurrences changed and those refused (a capacity
// cut below the seats taken, refused by the ledger as updateActivity
// refuses it): each occurrence is changed whole or not at all.
type EditResult struct {
	Series  *ent.Series
	Changed []*ent.Activity
	Refused []Refusal
}

// Edit changes a series' occurrences by scope, each through
// organize.UpdateActivity (its checks, notifications and the ledger's
// capacity rule); sign-ups stay.
func (s *Service) Edit(ctx context.Context, in EditInput) (*EditResult, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	se, err := s.get(ctx, in.SeriesID)
	if err != nil {
		return nil, err
	}
	if se.CancelledFrom != nil && !se.CancelledFrom.After(s.now()) {
		return nil, apperr.New(apperr.Conflict, "this series is cancelled")
	}
	var from *ent.Activity
	switch in.Scope {
	case One, Following:
		if in.ActivityID == nil {
			return nil, apperr.Invalid("activityID", "activityID names the occurrence for scope %s", in.Scope)
		}
		from, err = s.client.Activity.Get(ctx, *in.ActivityID)
		if ent.IsNotFound(err) || err == nil && (from.SeriesID == nil || *from.SeriesID != se.ID) {
			return nil, apperr.Invalid("activityID", "no such occurrence of this series")
		}
		if err != nil {
			return nil, err
		}
	case All:
	default:
		return nil, apperr.Invalid("scope", "scope must be ONE, FOLLOWING or ALL")
	}
	shift, err := s.checkEdit(se, in)
	if err != nil {
		return nil, err
	}
	if in.TeamID != nil {
		if _, err := s.client.Team.Get(ctx, *in.TeamID); err != nil {
			return nil, apperr.Invalid("teamID", "no such team")
		}
	}
	if in.VenueID != nil {
		if _, err := s.client.Venue.Get(ctx, *in.VenueID); err != nil {
			return nil, apperr.Invalid("venueID", "no such venue")
		}
	}
	var targets []*ent.Activity
	now := s.now()
	live := func(q *ent.ActivityQuery) {
		q.Where(activity.StatusIn(activity.StatusDRAFT, activity.StatusPUBLISHED), activity.StartsAtGT(now))
	}
	switch in.Scope {
	case One:
		targets, err = s.occurrences(ctx, se.ID, func(q *ent.ActivityQuery) { q.Where(activity.ID(from.ID)) })
	case Following:
		targets, err = s.occurrences(ctx, se.ID, live, func(q *ent.ActivityQuery) {
			q.Where(activity.OccurrenceAtGTE(*from.OccurrenceAt))
		})
	default:
		targets, err = s.occurrences(ctx, se.ID, live)
	}
	if err != nil {
		return nil, err
	}
	if in.Scope != One {
		// The plan first: occurrences made from now on follow it.
		err := store.Tx(ctx, s.client, func(tx *ent.Tx) error {
			u := tx.Series.UpdateOneID(se.ID).SetNillableTitle(in.Title).SetNillableDescription(in.Description).
				SetNillableDurationMinutes(in.DurationMinutes).SetSlots(changedSlots(se, in.Slots))
			if shift != nil {
				u.SetStartShiftMinutes(*shift)
			}
			switch {
			case in.ClearTeam:
				u.ClearTeamID()
			case in.TeamID != nil:
				u.SetTeamID(*in.TeamID)
			}
			switch {
			case in.ClearVenue:
				u.ClearVenueID()
			case in.VenueID != nil:
				u.SetVenueID(*in.VenueID)
			}
			if se, err = u.Save(ctx); err != nil {
				return err
			}
			return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: v.CommunityID, Action: ActionSeriesEdit,
				Subject: fmt.Sprintf("Series:%d", se.ID), SubjectID: &se.ID, Detail: string(in.Scope)})
		})
		if err != nil {
			return nil, err
		}
	}
	res := &EditResult{Changed: []*ent.Activity{}, Refused: []Refusal{}}
	for _, a := range targets {
		upd, slots := occurrenceChange(a, in, shift)
		got, err := s.organize.UpdateActivity(ctx, a.ID, upd, slots)
		if e, ok := apperr.As(err); ok {
			res.Refused = append(res.Refused, Refusal{ActivityID: a.ID, Error: e})
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Changed = append(res.Changed, got)
	}
	if in.Scope == One {
		if err := audit.Record(ctx, s.client, audit.Entry{CommunityID: v.CommunityID, Action: ActionSeriesEdit,
			Subject: fmt.Sprintf("Series:%d", se.ID), SubjectID: &se.ID, Detail: fmt.Sprintf("ONE Activity:%d", from.ID)}); err != nil {
			return nil, err
		}
	}
	if res.Series, err = s.get(ctx, se.ID); err != nil {
		return nil, err
	}
	return res, nil
}

// checkEdit validates what organize does not see (the plan's own values)
// and returns the new start shift, if the time changes.
func (s *Service) checkEdit(se *ent.Series, in EditInput) (*int, error) {
	if in.DurationMinutes != nil && (*in.DurationMinutes < 1 || *in.DurationMinutes > 31*24*60) {
		return nil, apperr.Invalid("durationMinutes", "durationMinutes must be between 1 and %d", 31*24*60)
	}
	seen := map[int]bool{}
	for i, c := range in.Slots {
		if c.Position < 0 || c.Position >= len(se.Slots) || seen[c.Position] {
			return nil, apperr.Invalid(fmt.Sprintf("slots[%d].position", i), "position must name a slot of the series once")
		}
		seen[c.Position] = true
		if c.Capacity != nil && (*c.Capacity < 0 || *c.Capacity > 100000) {
			return nil, apperr.Invalid(fmt.Sprintf("slots[%d].capacity", i), "capacity must be between 0 and 100000")
		}
		if c.Name != nil {
			if n := len([]rune(strings.TrimSpace(*c.Name))); n < 1 || n > 100 {
				return nil, apperr.Invalid(fmt.Sprintf("slots[%d].name", i), "name must be 1 to 100 characters")
			}
		}
	}
	if in.StartTime == nil {
		return nil, nil
	}
	t, err := time.Parse("15:04", *in.StartTime)
	if err != nil {
		return nil, apperr.Invalid("startTime", "startTime must be HH:MM (China time)")
	}
	local := se.Dtstart.In(cst.Zone)
	shift := t.Hour()*60 + t.Minute() - (local.Hour()*60 + local.Minute())
	return &shift, nil
}

// changedSlots is the plan's slots after changes.
func changedSlots(se *ent.Series, changes []SlotChange) []plan.Slot {
	out := append([]plan.Slot(nil), se.Slots...)
	for _, c := range changes {
		if c.Name != nil {
			out[c.Position].Name = strings.TrimSpace(*c.Name)
		}
		if c.Capacity != nil {
			out[c.Position].Capacity = *c.Capacity
		}
	}
	return out
}

// occurrenceChange is the updateActivity of occurrence a for edit in.
func occurrenceChange(a *ent.Activity, in EditInput, shift *int) (ent.UpdateActivityInput, []organize.SlotInput) {
	upd := ent.UpdateActivityInput{Title: in.Title, Description: in.Description, TeamID: in.TeamID,
		ClearTeam: in.ClearTeam, VenueID: in.VenueID, ClearVenue: in.ClearVenue}
	start := a.StartsAt
	if shift != nil && a.OccurrenceAt != nil {
		start = a.OccurrenceAt.Add(time.Duration(*shift) * time.Minute)
	}
	if shift != nil || in.DurationMinutes != nil {
		length := a.EndsAt.Sub(a.StartsAt)
		if in.DurationMinutes != nil {
			length = time.Duration(*in.DurationMinutes) * time.Minute
		}
		end := start.Add(length)
		upd.StartsAt, upd.EndsAt = &start, &end
		// The sign-up window moves with the start.
		moved := start.Sub(a.StartsAt)
		if a.SignupOpensAt != nil {
			t := a.SignupOpensAt.Add(moved)
			upd.SignupOpensAt = &t
		}
		if a.SignupClosesAt != nil {
			t := a.SignupClosesAt.Add(moved)
			if t.After(end) {
				t = end
			}
			upd.SignupClosesAt = &t
		}
	}
	var slots []organize.SlotInput
	for _, c := range in.Slots {
		for _, sl := range a.Edges.Slots {
			if sl.SeriesPosition == nil || *sl.SeriesPosition != c.Position {
				continue
			}
			id := sl.ID
			si := organize.SlotInput{ID: &id, Name: sl.Name, Kind: sl.Kind, Capacity: sl.Capacity,
				StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, MaxSeatsPerSignup: sl.MaxSeatsPerSignup,
				RequiresApproval: sl.RequiresApproval, WaitlistEnabled: sl.WaitlistEnabled}
			if c.Name != nil {
				si.Name = strings.TrimSpace(*c.Name)
			}
			if c.Capacity != nil {
				si.Capacity = *c.Capacity
			}
			if upd.StartsAt != nil {
				moved := upd.StartsAt.Sub(a.StartsAt)
				if si.StartsAt != nil {
					t := si.StartsAt.Add(moved)
					si.StartsAt = &t
				}
				if si.EndsAt != nil {
					t := si.EndsAt.Add(moved)
					si.EndsAt = &t
				}
			}
			slots = append(slots, si)
		}
	}
	return upd, slots
}
