package exports

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"linli/apperr"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/gid"
	"linli/viewer"
)

// Link is one download the staff downloads page lists.
type Link struct {
	// Name is stable: service-records, requests, statistics, sign-in-sheet.
	Name, Label, Format, URL string
}

// MaxSheetLinks bounds the sign-in sheets Links lists.
const MaxSheetLinks = 100

// Links lists every export of community cid for the period from–to (nil:
// this year so far, to the end of today, China time), each as CSV and
// XLSX, then the sign-in sheets of the activities that start in the period
// (the latest MaxSheetLinks). The paths are the ones Register serves: this
// is the one place besides Register that names them. Staff of the
// community and admins only.
func Links(ctx context.Context, client *ent.Client, cid int, from, to *time.Time) ([]Link, error) {
	v := viewer.FromContext(ctx)
	if err := authz.Exports(v, cid); err != nil {
		if errors.Is(err, authz.ErrUnauthenticated) {
			return nil, apperr.New(apperr.Unauthenticated, "authentication required")
		}
		return nil, apperr.New(apperr.Forbidden, "only staff of the community download its exports")
	}
	ids := gid.FromContext(ctx)
	if ids == nil {
		return nil, fmt.Errorf("exports: no ID codec in the context")
	}
	now := time.Now().In(cst.Zone)
	f := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, cst.Zone)
	t := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, cst.Zone)
	if from != nil {
		f = *from
	}
	if to != nil {
		t = *to
	}
	if !t.After(f) {
		return nil, apperr.Invalid("to", "to must be after from")
	}
	community := ids.Encode(cid)
	q := func(format string) string {
		return url.Values{"from": {f.UTC().Format(time.RFC3339)}, "to": {t.UTC().Format(time.RFC3339)},
			"communityID": {community}, "format": {format}}.Encode()
	}
	period := fmt.Sprintf("%s 至 %s", f.In(cst.Zone).Format("2006-01-02"), t.Add(-time.Nanosecond).In(cst.Zone).Format("2006-01-02"))
	var out []Link
	for _, e := range []struct{ name, label string }{
		{"service-records", "志愿服务记录"}, {"requests", "诉求台账"}, {"statistics", "统计报表"},
	} {
		for _, format := range []string{"csv", "xlsx"} {
			out = append(out, Link{Name: e.name, Format: format, URL: "/exports/" + e.name + "?" + q(format),
				Label: fmt.Sprintf("%s %s（%s）", e.label, period, formatLabel[format])})
		}
	}
	acts, err := client.Activity.Query().Where(activity.CommunityID(cid), activity.StartsAtGTE(f), activity.StartsAtLT(t),
		activity.StatusNEQ(activity.StatusDRAFT)).
		Order(ent.Desc(activity.FieldStartsAt), ent.Desc(activity.FieldID)).Limit(MaxSheetLinks).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		for _, format := range []string{"csv", "xlsx"} {
			out = append(out, Link{Name: "sign-in-sheet", Format: format,
				URL:   "/exports/activities/" + url.PathEscape(ids.Encode(a.ID)) + "/sign-in-sheet?format=" + format,
				Label: fmt.Sprintf("签到表：%s %s（%s）", a.Title, a.StartsAt.In(cst.Zone).Format("2006-01-02 15:04"), formatLabel[format])})
		}
	}
	return out, nil
}

var formatLabel = map[string]string{"csv": "CSV", "xlsx": "Excel"}
