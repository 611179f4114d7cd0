package demo

import (
	"context"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/series/plan"
)

// The demo's recurring activities are series (package series): the weekly
// culture-square show and the monthly clinic of 前进社区. Each series is
// linked to the demo's next show or clinic as its first occurrence; the
// past year's activities stay as they are (their figures are the year's
// statistics), and the series' later occurrences are made by the series
// job (app.LoadDemo runs it at once).
var demoSeries = []struct {
	kind kind
	rule string
	// standing: volunteers may sign up for every occurrence.
	recurring bool
}{
	{show, "FREQ=WEEKLY", false},
	{clinic, "FREQ=MONTHLY", true},
}

// writeSeries makes the demo's series in the load's transaction.
func writeSeries(ctx context.Context, c *ent.Client, now time.Time) error {
	for _, d := range demoSeries {
		a, err := c.Activity.Query().Where(activity.TitleIn(d.kind.titles...),
			activity.StatusEQ(activity.StatusPUBLISHED), activity.StartsAtGT(now)).
			WithSlots(func(q *ent.SlotQuery) { q.Order(ent.Asc(slot.FieldID)) }).
			Order(ent.Asc(activity.FieldStartsAt)).First(ctx)
		if ent.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		var slots []plan.Slot
		for _, sl := range a.Edges.Slots {
			ps := plan.Slot{Name: sl.Name, Kind: string(sl.Kind), Capacity: sl.Capacity, MaxSeatsPerSignup: sl.MaxSeatsPerSignup,
				RequiresApproval: sl.RequiresApproval, WaitlistEnabled: sl.WaitlistEnabled}
			if sl.StartsAt != nil {
				m := int(sl.StartsAt.Sub(a.StartsAt) / time.Minute)
				ps.StartOffset = &m
			}
			if sl.EndsAt != nil {
				m := int(sl.EndsAt.Sub(a.StartsAt) / time.Minute)
				ps.EndOffset = &m
			}
			slots = append(slots, ps)
		}
		u := c.Series.Create().SetCommunityID(a.CommunityID).SetRrule(d.rule).SetDtstart(a.StartsAt).
			SetTitle(a.Title).SetDescription(a.Description).SetCategory(string(a.Category)).
			SetServiceType(string(a.ServiceType)).SetNillableTeamID(a.TeamID).SetNillableVenueID(a.VenueID).
			SetDurationMinutes(int(a.EndsAt.Sub(a.StartsAt) / time.Minute)).SetCheckinOpensMinutes(a.CheckinOpensMinutes).
			SetSlots(slots).SetExdates([]time.Time{}).SetRecurringSignup(d.recurring)
		if a.SignupOpensAt != nil {
			u.SetSignupOpensMinutes(int(a.StartsAt.Sub(*a.SignupOpensAt) / time.Minute))
		}
		if a.SignupClosesAt != nil {
			u.SetSignupClosesMinutes(int(a.StartsAt.Sub(*a.SignupClosesAt) / time.Minute))
		}
		se, err := u.Save(ctx)
		if err != nil {
			return err
		}
		if err := c.Activity.UpdateOneID(a.ID).SetSeriesID(se.ID).SetOccurrenceAt(a.StartsAt).Exec(ctx); err != nil {
			return err
		}
		for i, sl := range a.Edges.Slots {
			if err := c.Slot.UpdateOneID(sl.ID).SetSeriesPosition(i).Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
