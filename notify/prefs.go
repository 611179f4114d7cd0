package notify

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/notification"
)

// Channel is where a notification goes (API.md NotificationChannel).
type Channel string

// The channels. InApp (the inbox) is always on; the others are external
// copies sent by the senders registered for KindSend.
const (
	InApp  Channel = "IN_APP"
	WeChat Channel = "WECHAT"
	SMS    Channel = "SMS"
)

// Channels are every channel, in the API's order.
var Channels = []Channel{InApp, WeChat, SMS}

// MarshalGQL implements graphql.Marshaler.
func (c Channel) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (c *Channel) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(Channels, Channel(s)) {
		return fmt.Errorf("%v is not a NotificationChannel", v)
	}
	*c = Channel(s)
	return nil
}

// Never muted: a person must learn that their activity moved or was
// cancelled.
var unmutable = []notification.Kind{notification.KindACTIVITY_CANCELLED, notification.KindACTIVITY_CHANGED}

// Defaults of a community when it set none.
var (
	DefaultReminderLeads   = []int{24 * 60, 2 * 60}
	DefaultQuietHoursStart = "22:00"
	DefaultQuietHoursEnd   = "07:00"
)

// Bounds of preferences.
const (
	MaxReminderLeads   = 4
	MaxReminderMinutes = 7 * 24 * 60
)

// Preferences are one person's effective choices (API.md
// NotificationPreferences): their own where set, else their community's.
type Preferences struct {
	Channels            []Channel           `json:"channels"`
	MutedKinds          []notification.Kind `json:"mutedKinds"`
	ReminderLeadMinutes []int               `json:"reminderLeadMinutes"`
	QuietHoursStart     *string             `json:"quietHoursStart"`
	QuietHoursEnd       *string             `json:"quietHoursEnd"`
}

// Effective merges a person's row p (nil: none) over their community's
// defaults.
func Effective(c *ent.Community, p *ent.NotificationPreference) Preferences {
	out := Preferences{Channels: []Channel{InApp}, MutedKinds: []notification.Kind{}, ReminderLeadMinutes: DefaultReminderLeads}
	if c != nil {
		if c.ReminderLeadMinutes != nil {
			out.ReminderLeadMinutes = c.ReminderLeadMinutes
		}
	}
	if p != nil {
		for _, ch := range p.Channels {
			if Channel(ch) != InApp && slices.Contains(Channels, Channel(ch)) {
				out.Channels = append(out.Channels, Channel(ch))
			}
		}
		for _, k := range p.MutedKinds {
			out.MutedKinds = append(out.MutedKinds, notification.Kind(k))
		}
		if p.ReminderLeadMinutes != nil {
			out.ReminderLeadMinutes = p.ReminderLeadMinutes
		}
		out.QuietHoursStart, out.QuietHoursEnd = p.QuietHoursStart, p.QuietHoursEnd
	}
	out.ReminderLeadMinutes = slices.Clone(out.ReminderLeadMinutes)
	return out
}

// Quiet is the quiet-hours window of preferences p in community c.
func (p Preferences) Quiet(c *ent.Community) QuietHours {
	start, end := DefaultQuietHoursStart, DefaultQuietHoursEnd
	if c != nil && c.QuietHoursStart != nil && c.QuietHoursEnd != nil {
		start, end = *c.QuietHoursStart, *c.QuietHoursEnd
	}
	if p.QuietHoursStart != nil && p.QuietHoursEnd != nil {
		start, end = *p.QuietHoursStart, *p.QuietHoursEnd
	}
	q, err := ParseQuietHours(start, end)
	if err != nil {
		q, _ = ParseQuietHours(DefaultQuietHoursStart, DefaultQuietHoursEnd)
	}
	return q
}

// Muted reports whether p mutes kind (never ACTIVITY_CANCELLED/CHANGED).
func (p Preferences) Muted(kind notification.Kind) bool {
	return !slices.Contains(unmutable, kind) && slices.Contains(p.MutedKinds, kind)
}

// Wants reports whether p sends kind on external channel ch.
func (p Preferences) Wants(kind notification.Kind, ch Channel) bool {
	return ch != InApp && !p.Muted(kind) && slices.Contains(p.Channels, ch)
}

// QuietHours is a daily window of China time, [Start, End) in minutes after
// midnight; it wraps midnight when End < Start, and is empty when equal.
type QuietHours struct{ Start, End int }

// ParseQuietHours reads "HH:MM" bounds.
func ParseQuietHours(start, end string) (QuietHours, error) {
	s, err := clock(start)
	if err != nil {
		return QuietHours{}, err
	}
	e, err := clock(end)
	if err != nil {
		return QuietHours{}, err
	}
	return QuietHours{s, e}, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// inside reports whether minute-of-day m is in the window.
func (q QuietHours) inside(m int) bool {
	switch {
	case q.Start == q.End:
		return false
	case q.Start < q.End:
		return m >= q.Start && m < q.End
	default:
		return m >= q.Start || m < q.End
	}
}

// Deliver is when an external copy of a notification created at t goes
// out: at t, or at the end of the quiet hours when t falls inside them.
// A reminder whose start is still ahead and that would otherwise land in
// the window goes out before it instead (its window start minus a minute,
// as long as that is not before the reminder was due).
func (q QuietHours) Deliver(t time.Time) time.Time {
	local := t.In(cst.Zone)
	m := local.Hour()*60 + local.Minute()
	if !q.inside(m) {
		return t
	}
	// Minutes until the window ends.
	left := (q.End - m + 24*60) % (24 * 60)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cst.Zone)
	return midnight.Add(time.Duration(m+left) * time.Minute).UTC()
}

// Before is the last moment before the window that holds t: for a reminder
// due inside quiet hours, it goes out then (zero when t is outside).
func (q QuietHours) Before(t time.Time) time.Time {
	local := t.In(cst.Zone)
	m := local.Hour()*60 + local.Minute()
	if !q.inside(m) {
		return time.Time{}
	}
	since := (m - q.Start + 24*60) % (24 * 60)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cst.Zone)
	return midnight.Add(time.Duration(m-since)*time.Minute - time.Minute).UTC()
}
