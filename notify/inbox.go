package notify

import (
	"context"
	"slices"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/notification"
	"linli/ent/notificationpreference"
	"linli/store"
	"linli/viewer"
)

// person is the viewer as a person whose inbox this is (not a kiosk).
func inboxOwner(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.PersonID == 0 || v.IsKiosk():
		return nil, apperr.New(apperr.Forbidden, "only a person has notifications")
	}
	return v, nil
}

// Inbox is the viewer's notifications query, newest first (privacy keeps
// it to their own; the predicate says so too).
func (s *Service) Inbox(ctx context.Context, unreadOnly bool) (*ent.NotificationQuery, error) {
	v, err := inboxOwner(ctx)
	if err != nil {
		return nil, err
	}
	q := s.client.Notification.Query().Where(notification.PersonID(v.PersonID))
	if unreadOnly {
		q.Where(notification.ReadAtIsNil())
	}
	return q, nil
}

// Unread counts the unread notifications of personID when the viewer is
// that person; nil for anyone else.
func (s *Service) Unread(ctx context.Context, personID int) (*int, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.IsKiosk() || v.PersonID != personID {
		return nil, nil
	}
	n, err := s.client.Notification.Query().Where(notification.PersonID(personID), notification.ReadAtIsNil()).Count(ctx)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// MaxMarkIDs bounds markNotificationsRead's ids.
const MaxMarkIDs = 500

// MarkRead marks the viewer's notifications ids (or all) read; it answers
// how many changed. Ids of others' notifications change nothing.
func (s *Service) MarkRead(ctx context.Context, ids []int, all bool) (int, error) {
	v, err := inboxOwner(ctx)
	if err != nil {
		return 0, err
	}
	if len(ids) > MaxMarkIDs {
		return 0, apperr.Invalid("ids", "at most %d ids at once", MaxMarkIDs)
	}
	if !all && len(ids) == 0 {
		return 0, nil
	}
	var n int
	err = store.InTx(ctx, s.client, store.TxOptions{Lock: s.db.Writers()}, func(tx *ent.Tx) error {
		u := tx.Notification.Update().Where(notification.PersonID(v.PersonID), notification.ReadAtIsNil())
		if !all {
			u.Where(notification.IDIn(ids...))
		}
		// The system writes, confined above to the viewer's own rows.
		n, err = u.SetReadAt(time.Now().UTC()).Save(viewer.System(ctx))
		return err
	})
	return n, err
}

// Preferences are the viewer's effective preferences.
func (s *Service) Preferences(ctx context.Context) (*Preferences, error) {
	v, err := inboxOwner(ctx)
	if err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	c, err := s.client.Community.Get(sys, v.CommunityID)
	if err != nil {
		return nil, err
	}
	row, err := s.client.NotificationPreference.Query().Where(notificationpreference.PersonID(v.PersonID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	p := Effective(c, row)
	q := p.Quiet(c)
	start, end := fmtClock(q.Start), fmtClock(q.End)
	p.QuietHoursStart, p.QuietHoursEnd = &start, &end
	return &p, nil
}

func fmtClock(m int) string {
	return time.Date(2000, 1, 1, m/60, m%60, 0, 0, time.UTC).Format("15:04")
}

// PreferencesInput changes preferences; nil fields stay as they are.
type PreferencesInput struct {
	Channels            []Channel
	MutedKinds          []notification.Kind
	ReminderLeadMinutes []int
	QuietHoursStart     *string
	QuietHoursEnd       *string
}

// CheckPreferences validates an input: lead times 1 min – 7 days (at most
// four), quiet hours as "HH:MM" pairs, both or neither.
func CheckPreferences(in PreferencesInput) error {
	if len(in.ReminderLeadMinutes) > MaxReminderLeads {
		return apperr.Invalid("reminderLeadMinutes", "at most %d lead times", MaxReminderLeads)
	}
	for _, m := range in.ReminderLeadMinutes {
		if m < 1 || m > MaxReminderMinutes {
			return apperr.Invalid("reminderLeadMinutes", "a lead time is 1 to %d minutes", MaxReminderMinutes)
		}
	}
	if (in.QuietHoursStart == nil) != (in.QuietHoursEnd == nil) {
		return apperr.Invalid("quietHoursStart", "set both quiet hours bounds, or neither")
	}
	if in.QuietHoursStart != nil {
		if _, err := ParseQuietHours(*in.QuietHoursStart, *in.QuietHoursEnd); err != nil {
			return apperr.Invalid("quietHoursStart", "%s", err.Error())
		}
	}
	for _, k := range in.MutedKinds {
		if slices.Contains(unmutable, k) {
			return apperr.Invalid("mutedKinds", "%s cannot be muted", k)
		}
	}
	return nil
}

// UpdatePreferences changes the viewer's preferences and answers the
// effective ones.
func (s *Service) UpdatePreferences(ctx context.Context, in PreferencesInput) (*Preferences, error) {
	v, err := inboxOwner(ctx)
	if err != nil {
		return nil, err
	}
	if err := CheckPreferences(in); err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	err = store.InTx(sys, s.client, store.TxOptions{Lock: s.db.Writers()}, func(tx *ent.Tx) error {
		row, err := tx.NotificationPreference.Query().Where(notificationpreference.PersonID(v.PersonID)).Only(sys)
		if ent.IsNotFound(err) {
			row, err = tx.NotificationPreference.Create().SetCommunityID(v.CommunityID).SetPersonID(v.PersonID).Save(sys)
		}
		if err != nil {
			return err
		}
		u := row.Update().SetUpdatedAt(time.Now().UTC())
		if in.Channels != nil {
			var chs []string
			for _, c := range in.Channels {
				if c != InApp && !slices.Contains(chs, string(c)) {
					chs = append(chs, string(c))
				}
			}
			u.SetChannels(append([]string{}, chs...))
		}
		if in.MutedKinds != nil {
			ks := []string{}
			for _, k := range in.MutedKinds {
				if !slices.Contains(ks, string(k)) {
					ks = append(ks, string(k))
				}
			}
			u.SetMutedKinds(ks)
		}
		if in.ReminderLeadMinutes != nil {
			u.SetReminderLeadMinutes(leads(in.ReminderLeadMinutes))
		}
		if in.QuietHoursStart != nil {
			u.SetQuietHoursStart(*in.QuietHoursStart).SetQuietHoursEnd(*in.QuietHoursEnd)
		}
		return u.Exec(sys)
	})
	if err != nil {
		return nil, err
	}
	return s.Preferences(ctx)
}
