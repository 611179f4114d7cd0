package notify

import (
	"context"
	"strings"

	"linli/cst"
	"linli/ent"
	"linli/ent/notification"
	"linli/ent/notificationpreference"
	"linli/viewer"
)

// InboxColumns name the columns of InboxRows.
var InboxColumns = []string{"kind", "title", "body", "createdAt", "readAt"}

// InboxRows is a person's inbox for their data download, newest first, at
// most limit rows (read as the system: the person is the one asking).
func InboxRows(ctx context.Context, c *ent.Client, personID, limit int) ([][]any, error) {
	ns, err := c.Notification.Query().Where(notification.PersonID(personID)).
		Order(ent.Desc(notification.FieldID)).Limit(limit).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	rows := make([][]any, len(ns))
	for i, n := range ns {
		rows[i] = []any{string(n.Kind), n.Title, n.Body, cst.Stamp(&n.CreatedAt), cst.Stamp(n.ReadAt)}
	}
	return rows, nil
}

// PreferenceColumns name the columns of PreferenceRows.
var PreferenceColumns = []string{"channels", "mutedKinds", "reminderLeadMinutes", "quietHoursStart", "quietHoursEnd", "updatedAt"}

// PreferenceRows is the person's own notification settings (none when they
// never changed the community's defaults).
func PreferenceRows(ctx context.Context, c *ent.Client, personID int) ([][]any, error) {
	ps, err := c.NotificationPreference.Query().Where(notificationpreference.PersonID(personID)).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	rows := make([][]any, len(ps))
	for i, p := range ps {
		rows[i] = []any{strings.Join(p.Channels, ","), strings.Join(p.MutedKinds, ","), p.ReminderLeadMinutes,
			deref(p.QuietHoursStart), deref(p.QuietHoursEnd), cst.Stamp(&p.UpdatedAt)}
	}
	return rows, nil
}

// Forget removes a deleted person's inbox and preferences, in tx. Nothing
// of them is counted in any statistic.
func Forget(ctx context.Context, tx *ent.Tx, personID int) error {
	sys := viewer.System(ctx)
	if _, err := tx.Notification.Delete().Where(notification.PersonID(personID)).Exec(sys); err != nil {
		return err
	}
	_, err := tx.NotificationPreference.Delete().Where(notificationpreference.PersonID(personID)).Exec(sys)
	return err
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
