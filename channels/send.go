package channels

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/notificationdelivery"
	"linli/ent/notificationpreference"
	"linli/ent/wechatbinding"
	"linli/jobs"
	"linli/notify"
	"linli/viewer"
)

// Register makes r work the external copies of notifications (notify's
// KindSend jobs) through the service's sender.
func (s *Service) Register(r *jobs.Runner) { r.Handle(notify.KindSend, s.handleSend) }

func (s *Service) handleSend(ctx context.Context, c *jobs.Claimed) error {
	var p notify.SendPayload
	if err := c.Decode(&p); err != nil {
		return err
	}
	return s.Send(ctx, p.NotificationID, p.Channel, c.Attempt >= c.MaxAttempts)
}

// Send makes one attempt to deliver notification id on channel ch, and
// records it in the delivery log. It answers an error when the attempt
// failed and may be retried; the last attempt (last), or a failure the
// sender says is permanent, is recorded FAILED and answers nil, as does a
// copy nobody should get any more (the person turned the channel off or
// muted the kind, has no address for it, or is gone: SKIPPED). A copy
// already SENT is not sent again.
func (s *Service) Send(ctx context.Context, id int, ch notify.Channel, last bool) error {
	sys := viewer.System(ctx)
	if ch != notify.WeChat && ch != notify.SMS {
		return jobs.Permanent(fmt.Errorf("channels: %q is not an external channel", ch))
	}
	n, err := s.client.Notification.Get(sys, id)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d, err := s.deliveryOf(sys, n, ch)
	if err != nil || d.Status != notificationdelivery.StatusPENDING {
		return err
	}
	msg, skip, err := s.message(sys, n, ch)
	if err != nil {
		return err
	}
	up := s.client.NotificationDelivery.UpdateOneID(d.ID)
	if skip != "" {
		return up.SetStatus(notificationdelivery.StatusSKIPPED).SetLastError(skip).Exec(sys)
	}
	sendErr := s.sender.Send(ctx, msg)
	now := s.now()
	up.SetAttempts(d.Attempts + 1).SetLastAttemptAt(now)
	switch {
	case sendErr == nil:
		up.SetStatus(notificationdelivery.StatusSENT).SetSentAt(now).SetLastError("")
	case last || IsPermanent(sendErr):
		up.SetStatus(notificationdelivery.StatusFAILED).SetLastError(truncate(sendErr.Error(), 500))
	default:
		up.SetLastError(truncate(sendErr.Error(), 500))
	}
	if err := up.Exec(sys); err != nil {
		return err
	}
	if sendErr != nil && !last && !IsPermanent(sendErr) {
		return fmt.Errorf("channels: %s of notification %d: %w", ch, id, sendErr)
	}
	return nil
}

// deliveryOf is the log row of n on ch, made on the first attempt.
func (s *Service) deliveryOf(ctx context.Context, n *ent.Notification, ch notify.Channel) (*ent.NotificationDelivery, error) {
	q := s.client.NotificationDelivery.Query().Where(notificationdelivery.NotificationID(n.ID),
		notificationdelivery.ChannelEQ(notificationdelivery.Channel(ch)))
	d, err := q.Only(ctx)
	if !ent.IsNotFound(err) {
		return d, err
	}
	err = s.client.NotificationDelivery.Create().SetCommunityID(n.CommunityID).SetNotificationID(n.ID).
		SetPersonID(n.PersonID).SetChannel(notificationdelivery.Channel(ch)).SetKind(string(n.Kind)).
		SetCreatedAt(s.now()).
		OnConflictColumns(notificationdelivery.FieldNotificationID, notificationdelivery.FieldChannel).DoNothing().Exec(ctx)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	return q.Only(ctx)
}

// message is what goes out for n on ch, or why nothing should (skip).
func (s *Service) message(ctx context.Context, n *ent.Notification, ch notify.Channel) (Message, string, error) {
	p, err := s.client.Person.Get(ctx, n.PersonID)
	if ent.IsNotFound(err) {
		return Message{}, "the person is gone", nil
	}
	if err != nil {
		return Message{}, "", err
	}
	// The person may have turned the channel off (or muted the kind)
	// since the notification was made: their preferences now decide.
	c, err := s.client.Community.Query().Where(community.ID(n.CommunityID)).Only(ctx)
	if err != nil {
		return Message{}, "", err
	}
	pref, err := s.client.NotificationPreference.Query().Where(notificationpreference.PersonID(p.ID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return Message{}, "", err
	}
	if !notify.Effective(c, pref).Wants(n.Kind, ch) {
		return Message{}, "the person no longer wants this kind on this channel", nil
	}
	to := p.Phone
	if ch == notify.WeChat {
		b, err := s.client.WechatBinding.Query().Where(wechatbinding.PersonID(p.ID)).Only(ctx)
		if ent.IsNotFound(err) {
			return Message{}, "the person has set no WeChat openid", nil
		}
		if err != nil {
			return Message{}, "", err
		}
		to = b.Openid
	}
	m := Message{ID: s.encode(n.ID) + "-" + string(ch), Channel: Channel(ch), Kind: string(n.Kind), To: to,
		Title: n.Title, Body: n.Body, Data: map[string]string{}}
	if n.ActivityID != nil {
		a, err := s.client.Activity.Query().Where(activity.ID(*n.ActivityID)).WithVenue().Only(ctx)
		if err == nil {
			m.Data["activity"] = a.Title
			m.Data["time"] = a.StartsAt.In(cst.Zone).Format("2006-01-02 15:04")
			if a.Edges.Venue != nil {
				m.Data["place"] = a.Edges.Venue.Name
			}
		} else if !ent.IsNotFound(err) {
			return Message{}, "", err
		}
	}
	return m, "", nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isNoRows: an upsert that did nothing may answer sql.ErrNoRows.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
