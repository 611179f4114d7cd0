package notify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/notification"
	"linli/ent/notificationpreference"
	"linli/ent/registration"
	"linli/jobs"
	"linli/store"
	"linli/viewer"
)

// sweepState is what the reminder sweep keeps from run to run.
type sweepState struct {
	Last time.Time `json:"last"`
}

// attending are the registration states that get reminders.
var attending = []registration.Status{registration.StatusCONFIRMED}

// quietShift bounds how much earlier than its due time a reminder may go
// (moved before a person's quiet hours).
const quietShift = 24 * time.Hour

// ReminderSource is the dedupe key of a reminder: one per person,
// activity, lead time and start time (a moved activity is reminded anew).
func ReminderSource(personID, activityID, lead int, start time.Time) string {
	return fmt.Sprintf("rem:%d:%d:%d:%d", personID, activityID, lead, start.Unix())
}

// ReminderAt is when a reminder lead minutes before start goes out for a
// person with quiet hours q: at its due time, or, when that falls inside
// the quiet hours, just before they begin.
func ReminderAt(start time.Time, lead int, q QuietHours) time.Time {
	due := start.Add(-time.Duration(lead) * time.Minute)
	if b := q.Before(due); !b.IsZero() {
		return b
	}
	return due
}

// dueNow reports whether the reminder lead minutes before start is for
// the sweep of (last, now]: its moment (ReminderAt) has come, and either
// it came since the last sweep or its due time has not passed before it (a
// reminder moved before quiet hours that began before the activity was
// made or moved still goes; written reminders are not written again).
func dueNow(start time.Time, lead int, q QuietHours, last, now time.Time) bool {
	due := start.Add(-time.Duration(lead) * time.Minute)
	at := ReminderAt(start, lead, q)
	return !at.After(now) && (at.After(last) || due.After(last))
}

// sweepReminders is the KindReminderSweep handler: it writes the reminders
// whose moment fell in (last sweep, now], for activities not yet started,
// in bulk. Per person and activity only the nearest lead is sent (after
// downtime, the 24 h and 2 h reminders of a clinic starting in an hour
// are one reminder).
func (s *Service) sweepReminders(ctx context.Context, c *jobs.Claimed) error {
	sys := viewer.System(ctx)
	now := time.Now().UTC()
	var st sweepState
	if len(c.Payload) > 0 {
		if err := c.Decode(&st); err != nil {
			return err
		}
	}
	if st.Last.IsZero() || st.Last.After(now) {
		st.Last = now.Add(-s.o.ReminderSweep)
	}
	items, err := s.dueReminders(sys, st.Last, now)
	if err != nil {
		return err
	}
	if err := c.KeepForNext(sweepState{Last: now}); err != nil {
		return err
	}
	var made []*ent.Notification
	err = store.InTx(sys, s.client, store.TxOptions{Lock: s.db.Writers()}, func(tx *ent.Tx) error {
		var err error
		if made, err = s.write(sys, tx, items, now); err != nil {
			return err
		}
		return c.CompleteIn(sys, tx)
	})
	if err != nil {
		return err
	}
	s.announce(made)
	return nil
}

// dueReminders finds the reminders whose moment is in (last, now].
func (s *Service) dueReminders(ctx context.Context, last, now time.Time) ([]item, error) {
	maxLead := time.Duration(MaxReminderMinutes) * time.Minute
	acts, err := s.client.Activity.Query().
		Where(activity.StatusEQ(activity.StatusPUBLISHED), activity.StartsAtGT(now),
			activity.StartsAtLTE(now.Add(maxLead+quietShift))).
		WithVenue().All(ctx)
	if err != nil || len(acts) == 0 {
		return nil, err
	}
	// The lead times in use: communities' defaults and people's own.
	var cids []int
	for _, a := range acts {
		if !slices.Contains(cids, a.CommunityID) {
			cids = append(cids, a.CommunityID)
		}
	}
	comms, err := s.client.Community.Query().Where(community.IDIn(cids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	leads := slices.Clone(DefaultReminderLeads)
	for _, c := range comms {
		leads = append(leads, c.ReminderLeadMinutes...)
	}
	prefRows, err := s.client.NotificationPreference.Query().Where(notificationpreference.CommunityIDIn(cids...),
		notificationpreference.ReminderLeadMinutesNotNil()).All(ctx)
	if err != nil {
		return nil, err
	}
	var own [][]int
	for _, p := range prefRows {
		own = append(own, p.ReminderLeadMinutes)
	}
	for _, l := range own {
		leads = append(leads, l...)
	}
	slices.Sort(leads)
	leads = slices.Compact(leads)
	// Activities one of whose reminders may fall in the window.
	var candidates []int
	byID := map[int]*ent.Activity{}
	for _, a := range acts {
		for _, l := range leads {
			due := a.StartsAt.Add(-time.Duration(l) * time.Minute)
			if due.After(last) && !due.Add(-quietShift).After(now) {
				candidates = append(candidates, a.ID)
				byID[a.ID] = a
				break
			}
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	var regs []*ent.Registration
	for chunk := range slices.Chunk(candidates, 500) {
		rs, err := s.client.Registration.Query().
			Where(registration.ActivityIDIn(chunk...), registration.StatusIn(attending...)).
			Select(registration.FieldID, registration.FieldPersonID, registration.FieldActivityID, registration.FieldCommunityID).All(ctx)
		if err != nil {
			return nil, err
		}
		regs = append(regs, rs...)
	}
	var people []int
	for _, r := range regs {
		people = append(people, r.PersonID)
	}
	slices.Sort(people)
	people = slices.Compact(people)
	prefs, quiet, err := s.prefsOf(ctx, people)
	if err != nil {
		return nil, err
	}
	type pa struct{ person, activity int }
	chosen := map[pa]int{} // index into items
	var items []item
	for _, r := range regs {
		a := byID[r.ActivityID]
		pr, ok := prefs[r.PersonID]
		if !ok || pr.Muted(notification.KindREMINDER) {
			continue
		}
		for _, l := range pr.ReminderLeadMinutes {
			if !dueNow(a.StartsAt, l, quiet[r.PersonID], last, now) {
				continue
			}
			k := pa{r.PersonID, a.ID}
			if i, dup := chosen[k]; dup {
				if items[i].lead <= l {
					continue
				}
				items[i] = s.reminder(r, a, l, pr, quiet[r.PersonID])
				continue
			}
			chosen[k] = len(items)
			items = append(items, s.reminder(r, a, l, pr, quiet[r.PersonID]))
		}
	}
	return items, nil
}

func (s *Service) reminder(r *ent.Registration, a *ent.Activity, lead int, pr Preferences, q QuietHours) item {
	title, body := text(notification.KindREMINDER, a, nil, "")
	regID, actID := r.ID, a.ID
	return item{community: r.CommunityID, person: r.PersonID, kind: notification.KindREMINDER, title: title, body: body,
		activity: &actID, reg: &regID, source: ReminderSource(r.PersonID, a.ID, lead, a.StartsAt),
		prefs: pr, quiet: q, lead: lead}
}
