// Package channels delivers copies of inbox notifications through the
// external channels, WeChat subscribe messages and SMS, by pluggable
// Senders: LogSender by default (sends nothing), or HTTPGateway, a signed
// JSON POST to the gateway an SMS provider or WeChat sits behind. Each
// copy is one job written with the notification (notify's hook), and one
// NotificationDelivery row: the log staff read (Deliveries). A failed send
// is retried by the job system with backoff, then recorded FAILED; it
// never holds up another channel or notification (each is its own job).
//
// Addresses: SMS goes to the person's phone, WeChat to the openid the
// person set (SetWechatOpenID); a person without one is SKIPPED.
package channels

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/notificationdelivery"
	"linli/ent/wechatbinding"
	"linli/viewer"
)

// Service sends notifications through external channels and keeps their log.
type Service struct {
	client *ent.Client
	sender Sender
	encode func(int) string
	now    func() time.Time
}

// NewService returns the service sending through sender; encode turns row
// ids into the API's IDs (message ids the gateway deduplicates by).
func NewService(client *ent.Client, sender Sender, encode func(int) string) *Service {
	return &Service{client: client, sender: sender, encode: encode, now: func() time.Time { return time.Now().UTC() }}
}

// MaxOpenIDBytes bounds a WeChat openid.
const MaxOpenIDBytes = 128

// SetWechatOpenID sets (or, empty, clears) the viewer's WeChat openid.
func (s *Service) SetWechatOpenID(ctx context.Context, openid string) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case v.PersonID == 0 || v.IsKiosk():
		return apperr.New(apperr.Forbidden, "only people have a WeChat address")
	}
	openid = strings.TrimSpace(openid)
	if len(openid) > MaxOpenIDBytes || !utf8.ValidString(openid) || strings.ContainsAny(openid, " \t\r\n") {
		return apperr.Invalid("openid", "an openid is up to %d characters without spaces", MaxOpenIDBytes)
	}
	sys := viewer.System(ctx)
	if openid == "" {
		_, err := s.client.WechatBinding.Delete().Where(wechatbinding.PersonID(v.PersonID)).Exec(sys)
		return err
	}
	return s.client.WechatBinding.Create().SetCommunityID(v.CommunityID).SetPersonID(v.PersonID).SetOpenid(openid).
		OnConflictColumns(wechatbinding.FieldPersonID).UpdateOpenid().UpdateUpdatedAt().Exec(sys)
}

// Deliveries pages through the delivery log of a community (staff; admins
// name one), newest first.
func (s *Service) Deliveries(ctx context.Context, communityID *int, status *notificationdelivery.Status, after *entgql.Cursor[int], first *int) (*ent.NotificationDeliveryConnection, error) {
	cid, err := authz.RequireStaffOfCommunity(ctx, communityID)
	if err != nil {
		return nil, err
	}
	q := s.client.NotificationDelivery.Query().Where(notificationdelivery.CommunityID(cid))
	if status != nil {
		q.Where(notificationdelivery.StatusEQ(*status))
	}
	return q.Paginate(ctx, after, first, nil, nil, ent.WithNotificationDeliveryOrder(&ent.NotificationDeliveryOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.NotificationDeliveryOrderFieldCreatedAt}))
}
