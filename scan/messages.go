package scan

import (
	"fmt"
	"time"

	"linli/ent/checkinscan"
	"linli/hours"
	"linli/mask"
)

// The pieces of a check-in's message that checkInByCodeCTE puts together
// in SQL.
const (
	okPrefix   = "签到成功："
	seatsOpen  = "（"
	seatsClose = " 人）"
)

func clock(t time.Time) string { return t.In(hours.Zone).Format("15:04") }

// message is what the tablet shows for a scan's answer: with the person's
// masked name when it is theirs, so the tablet needs nothing else to show.
func message(kind checkinscan.Kind, st checkinscan.Status, t *target, minutes int) string {
	switch st {
	case OK:
		who := ""
		if t != nil && t.name != "" {
			who = "：" + mask.Name(t.name)
		}
		switch {
		case kind == Out && t != nil && t.volunteer():
			return fmt.Sprintf("签退成功%s，本次服务 %s 小时", who, hoursOf(minutes))
		case kind == Out:
			return "签退成功" + who
		case t != nil && t.seats > 1:
			return fmt.Sprintf("签到成功%s%s%d%s", who, seatsOpen, t.seats, seatsClose)
		}
		return "签到成功" + who
	case AlreadyCheckedIn:
		if t != nil && t.checkedInAt.Valid {
			return "已于 " + clock(t.checkedInAt.Time) + " 签到，无需重复签到"
		}
		return "已签到，无需重复签到"
	case AlreadyCheckedOut:
		if t != nil && t.checkedOutAt.Valid {
			return "已于 " + clock(t.checkedOutAt.Time) + " 签退"
		}
		return "已签退"
	case NotCheckedIn:
		return "尚未签到，不能签退"
	case NotConfirmed:
		if t != nil && t.status == "PENDING_APPROVAL" {
			return "报名待审核，尚未确认"
		}
		return "候补中，报名尚未确认"
	case Cancelled:
		if t != nil && t.activityStatus == "CANCELLED" {
			return "活动已取消"
		}
		return "报名已取消"
	case WrongActivity:
		return "这不是本场活动的签到码"
	case WrongVenue:
		return "请到本活动的场地签到"
	case TooEarly:
		if t != nil {
			opens, _ := t.window()
			return "签到尚未开始，" + clock(opens) + " 起可签到"
		}
		return "签到尚未开始"
	case TooLate:
		switch {
		case t != nil && t.status == "NO_SHOW":
			return "已记为缺席"
		case kind == Out:
			return "签退已结束"
		}
		return "签到已结束"
	}
	return "无效的签到码"
}

// hoursOf formats minutes as hours with one decimal.
func hoursOf(minutes int) string { return fmt.Sprintf("%.1f", float64(minutes)/60) }
