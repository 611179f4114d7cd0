package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"linli/audit"
	"linli/authz"
	"linli/ent"
	"linli/store"
	"linli/viewer"
)

// ActionDefaults is the audit action of a change to a community's
// notification defaults.
const ActionDefaults = "notify.defaults"

// CommunityDefaults are a community's notification defaults (API.md
// CommunityNotificationDefaults): what its people get where they chose
// nothing themselves.
type CommunityDefaults struct {
	CommunityID         int
	ReminderLeadMinutes []int
	QuietHoursStart     string
	QuietHoursEnd       string
}

// DefaultsInput changes a community's defaults; nil fields stay as they are.
type DefaultsInput struct {
	ReminderLeadMinutes []int
	QuietHoursStart     *string
	QuietHoursEnd       *string
}

func defaultsOf(c *ent.Community) *CommunityDefaults {
	p := Effective(c, nil)
	q := p.Quiet(c)
	return &CommunityDefaults{CommunityID: c.ID, ReminderLeadMinutes: p.ReminderLeadMinutes,
		QuietHoursStart: fmtClock(q.Start), QuietHoursEnd: fmtClock(q.End)}
}

// CommunityDefaults answers community cid's defaults to its staff (and
// admins); staff of another community are refused as NOT_FOUND.
func (s *Service) CommunityDefaults(ctx context.Context, cid int) (*CommunityDefaults, error) {
	cid, err := authz.NotificationDefaultsOf(ctx, cid)
	if err != nil {
		return nil, err
	}
	c, err := s.client.Community.Get(viewer.System(ctx), cid)
	if err != nil {
		return nil, err
	}
	return defaultsOf(c), nil
}

// UpdateCommunityDefaults changes community cid's defaults (its staff,
// admins), validated by the rules of a person's preferences
// (CheckPreferences), and records it in the audit log.
func (s *Service) UpdateCommunityDefaults(ctx context.Context, cid int, in DefaultsInput) (*CommunityDefaults, error) {
	cid, err := authz.NotificationDefaultsOf(ctx, cid)
	if err != nil {
		return nil, err
	}
	if err := CheckPreferences(PreferencesInput{ReminderLeadMinutes: in.ReminderLeadMinutes,
		QuietHoursStart: in.QuietHoursStart, QuietHoursEnd: in.QuietHoursEnd}); err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	var out *CommunityDefaults
	err = store.InTx(sys, s.client, store.TxOptions{Lock: s.db.Writers()}, func(tx *ent.Tx) error {
		u := tx.Community.UpdateOneID(cid)
		if in.ReminderLeadMinutes != nil {
			u.SetReminderLeadMinutes(leads(in.ReminderLeadMinutes))
		}
		if in.QuietHoursStart != nil {
			u.SetQuietHoursStart(*in.QuietHoursStart).SetQuietHoursEnd(*in.QuietHoursEnd)
		}
		c, err := u.Save(sys)
		if err != nil {
			return err
		}
		out = defaultsOf(c)
		var detail []string
		for _, m := range out.ReminderLeadMinutes {
			detail = append(detail, fmt.Sprint(m))
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionDefaults,
			Subject: fmt.Sprintf("Community:%d", cid), SubjectID: &cid,
			Detail: fmt.Sprintf("reminders %s min before; quiet hours %s–%s", strings.Join(detail, ", "), out.QuietHoursStart, out.QuietHoursEnd)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// leads are lead times as stored: longest first, each once.
func leads(in []int) []int {
	ls := slices.Clone(in)
	slices.Sort(ls)
	slices.Reverse(ls)
	return slices.Compact(ls)
}
