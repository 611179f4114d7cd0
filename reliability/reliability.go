// Package reliability counts no-shows: the one definition of a no-show, the
// forgiveness window over which they count (a community setting, 6 months
// by default: older ones are forgotten), and the at-risk list staff see
// for an activity. The ledger's eligibility rule (ledger.NeedsApproval)
// weighs the counts; it loads them for a whole batch with Count.
package reliability

import (
	"context"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/predicate"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/viewer"
)

// DefaultWindowMonths is how long a no-show counts when a community set
// nothing else (Community.no_show_window_months).
const DefaultWindowMonths = 6

// Since is the start of the forgiveness window that ends at now: no-shows
// whose registration ended before it are forgotten.
func Since(now time.Time, months int) time.Time {
	if months <= 0 {
		months = DefaultWindowMonths
	}
	return now.AddDate(0, -months, 0)
}

// NoShowWhere is the one definition of a no-show, for registrations whose
// slot ended in [since, now): a registration marked NO_SHOW, or one still
// CONFIRMED after its check-in window closed (scan.Window closes at the
// slot's end, the activity's when the slot has none) — the door leaves
// those who never came CONFIRMED. A paper sign-in sheet entered later
// (recordAttendance) turns one back into attendance, so it stops counting.
// A cancelled registration, or one of a cancelled activity, never counts.
func NoShowWhere(since, now time.Time) predicate.Registration {
	ended := func(p func(string) *sql.Predicate) predicate.Registration {
		return registration.Or(
			registration.HasSlotWith(slot.EndsAtNotNil(), predicate.Slot(func(s *sql.Selector) { s.Where(p(s.C(slot.FieldEndsAt))) })),
			registration.And(
				registration.HasSlotWith(slot.EndsAtIsNil()),
				registration.HasActivityWith(predicate.Activity(func(s *sql.Selector) { s.Where(p(s.C(activity.FieldEndsAt))) })),
			),
		)
	}
	return registration.And(
		registration.StatusIn(registration.StatusNO_SHOW, registration.StatusCONFIRMED),
		registration.HasActivityWith(activity.StatusNEQ(activity.StatusCANCELLED)),
		ended(func(col string) *sql.Predicate { return sql.And(sql.LT(col, now), sql.GTE(col, since)) }),
	)
}

// Count returns the no-shows of each of people (absent: none) in the
// window of months ending at now, in one statement, read as the system
// through client (a transaction's client in the ledger).
func Count(ctx context.Context, client *ent.Client, people []int, now time.Time, months int) (map[int]int, error) {
	out := map[int]int{}
	if len(people) == 0 {
		return out, nil
	}
	var rows []struct {
		PersonID int `json:"person_id"`
		Count    int `json:"count"`
	}
	err := client.Registration.Query().
		Where(registration.PersonIDIn(people...), NoShowWhere(Since(now, months), now)).
		GroupBy(registration.FieldPersonID).Aggregate(ent.Count()).Scan(viewer.System(ctx), &rows)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.PersonID] = r.Count
	}
	return out, nil
}

// WindowMonths is community cid's forgiveness window in months.
func WindowMonths(ctx context.Context, client *ent.Client, cid int) (int, error) {
	c, err := client.Community.Get(viewer.System(ctx), cid)
	if err != nil {
		return 0, err
	}
	return c.NoShowWindowMonths, nil
}

// AtRisk is a registered person of an activity whose no-shows in the
// window reach the threshold.
type AtRisk struct {
	Registration *ent.Registration
	Person       *ent.Person
	NoShows      int
}

// MaxAtRisk bounds the at-risk list.
const MaxAtRisk = 500

// AtRiskOf lists the people with an open registration (confirmed,
// waitlisted or pending) for activity activityID whose no-shows in their
// community's window are at least min, most no-shows first. Read through
// client as the system: the caller has checked the viewer is staff of its
// community.
func AtRiskOf(ctx context.Context, client *ent.Client, a *ent.Activity, min int, now time.Time) ([]*AtRisk, error) {
	sys := viewer.System(ctx)
	regs, err := client.Registration.Query().Where(registration.ActivityID(a.ID),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL)).
		Order(registration.ByID()).Limit(10 * MaxAtRisk).WithPerson().All(sys)
	if err != nil {
		return nil, err
	}
	people := make([]int, len(regs))
	for i, r := range regs {
		people[i] = r.PersonID
	}
	months, err := WindowMonths(ctx, client, a.CommunityID)
	if err != nil {
		return nil, err
	}
	counts, err := Count(ctx, client, people, now, months)
	if err != nil {
		return nil, err
	}
	out := []*AtRisk{}
	for _, r := range regs {
		if n := counts[r.PersonID]; n >= min && len(out) < MaxAtRisk {
			out = append(out, &AtRisk{Registration: r, Person: r.Edges.Person, NoShows: n})
		}
	}
	slices.SortStableFunc(out, func(x, y *AtRisk) int { return y.NoShows - x.NoShows })
	return out, nil
}
