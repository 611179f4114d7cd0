package app

import (
	"context"

	"linli/calendar"
	"linli/channels"
	"linli/ent"
	"linli/notify"
	"linli/rights"
)

// The parts of a person's data other packages hold, in their data download
// and in their account's deletion (rights/ owns both; each package says
// what it holds). Registered once per process.
func init() {
	table := func(cols []string, rows func(ctx context.Context, c *ent.Client, pid, limit int) ([][]any, error)) rights.Exporter {
		return func(ctx context.Context, c *ent.Client, pid int) (any, error) {
			rs, err := rows(ctx, c, pid, rights.MaxSectionRows+1)
			if err != nil {
				return nil, err
			}
			t := &rights.Table{Columns: cols, Rows: rs}
			if len(rs) > rights.MaxSectionRows {
				t.Rows, t.Truncated = rs[:rights.MaxSectionRows], true
			}
			return t, nil
		}
	}
	rights.RegisterExporter("notifications", table(notify.InboxColumns, notify.InboxRows))
	rights.RegisterExporter("notificationPreferences", table(notify.PreferenceColumns,
		func(ctx context.Context, c *ent.Client, pid, _ int) ([][]any, error) {
			return notify.PreferenceRows(ctx, c, pid)
		}))
	rights.RegisterExporter("notificationDeliveries", table(channels.DeliveryColumns, channels.DeliveryRows))
	rights.RegisterExporter("calendarFeeds", table(calendar.FeedColumns, calendar.FeedRows))

	rights.RegisterAnonymiser("notifications", func(ctx context.Context, tx *ent.Tx, d rights.Deleted) error {
		return notify.Forget(ctx, tx, d.PersonID)
	})
	rights.RegisterAnonymiser("wechat", func(ctx context.Context, tx *ent.Tx, d rights.Deleted) error {
		return channels.Forget(ctx, tx, d.PersonID)
	})
	rights.RegisterAnonymiser("calendarFeeds", func(ctx context.Context, tx *ent.Tx, d rights.Deleted) error {
		return calendar.RevokePerson(ctx, tx.Client(), d.PersonID)
	})
}
