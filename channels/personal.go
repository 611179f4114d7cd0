package channels

import (
	"context"

	"linli/cst"
	"linli/ent"
	"linli/ent/notificationdelivery"
	"linli/ent/wechatbinding"
	"linli/viewer"
)

// DeliveryColumns name the columns of DeliveryRows.
var DeliveryColumns = []string{"channel", "kind", "status", "attempts", "createdAt", "sentAt", "wechatOpenID"}

// DeliveryRows is what the channels hold about a person, for their data
// download: the copies sent (or tried) to them, newest first, at most limit
// rows, and their WeChat address (on the first row's last column, the only
// value of its kind).
func DeliveryRows(ctx context.Context, c *ent.Client, personID, limit int) ([][]any, error) {
	sys := viewer.System(ctx)
	ds, err := c.NotificationDelivery.Query().Where(notificationdelivery.PersonID(personID)).
		Order(ent.Desc(notificationdelivery.FieldID)).Limit(limit).All(sys)
	if err != nil {
		return nil, err
	}
	var openid any
	if b, err := c.WechatBinding.Query().Where(wechatbinding.PersonID(personID)).Only(sys); err == nil {
		openid = b.Openid
	} else if !ent.IsNotFound(err) {
		return nil, err
	}
	rows := make([][]any, 0, len(ds)+1)
	for _, d := range ds {
		rows = append(rows, []any{string(d.Channel), d.Kind, string(d.Status), d.Attempts, cst.Stamp(&d.CreatedAt), cst.Stamp(d.SentAt), openid})
	}
	if len(rows) == 0 && openid != nil {
		rows = append(rows, []any{"WECHAT", nil, nil, nil, nil, nil, openid})
	}
	return rows, nil
}

// Forget removes a deleted person's WeChat address, in tx. The delivery
// log stays (staff's record of what was sent; it holds no address).
func Forget(ctx context.Context, tx *ent.Tx, personID int) error {
	_, err := tx.WechatBinding.Delete().Where(wechatbinding.PersonID(personID)).Exec(viewer.System(ctx))
	return err
}
