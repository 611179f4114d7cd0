package scan

import (
	"fmt"
	"time"

	"linli/cst"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/mask"
)

func clock(t time.Time) string { return t.In(cst.Zone).Format("15:04") }

// message is what the tablet shows for a scan's answer: with the person's
// masked name when it is theirs (mask.Name, whatever the name), so the
// tablet needs nothing else to show.
func message(kind checkinscan.Kind, st checkinscan.Status, t *target, minutes int) string {
	if st == OK {
		return okMessage(kind, t, minutes)
	}
	if t != nil {
		if m := targetMessage(kind, st, t); m != "" {
			return m
		}
	}
	if st == TooLate && kind == Out {
		return "签退已结束"
	}
	if m, ok := plainMessages[st]; ok {
		return m
	}
	return "无效的签到码"
}

// plainMessages answer a status when nothing about the registration is
// worth saying.
var plainMessages = map[checkinscan.Status]string{
	AlreadyCheckedIn:  "已签到，无需重复签到",
	AlreadyCheckedOut: "已签退",
	NotCheckedIn:      "尚未签到，不能签退",
	NotConfirmed:      "候补中，报名尚未确认",
	Cancelled:         "报名已取消",
	WrongActivity:     "这不是本场活动的签到码",
	WrongVenue:        "请到本活动的场地签到",
	TooEarly:          "签到尚未开始",
	TooLate:           "签到已结束",
	NoTimeServed:      "签到不足 1 分钟，本次签退不计时长；请服务结束时再签退",
	CodeExpired:       "签到二维码已更新，请重新扫描现场的二维码",
}

func okMessage(kind checkinscan.Kind, t *target, minutes int) string {
	who := ""
	if t != nil && t.named {
		who = "：" + mask.Name(t.name)
	}
	switch {
	case kind == Out && t != nil && t.volunteer():
		return fmt.Sprintf("签退成功%s，本次服务 %s 小时", who, hoursOf(minutes))
	case kind == Out:
		return "签退成功" + who
	case t != nil && t.seats > 1:
		return fmt.Sprintf("签到成功%s（%d 人）", who, t.seats)
	}
	return "签到成功" + who
}

// targetMessage is the answer that says more about the registration; ""
// when there is nothing more to say.
func targetMessage(kind checkinscan.Kind, st checkinscan.Status, t *target) string {
	switch {
	case st == AlreadyCheckedIn && t.checkedInAt != nil:
		return "已于 " + clock(*t.checkedInAt) + " 签到，无需重复签到"
	case st == AlreadyCheckedOut && t.checkedOutAt != nil:
		return "已于 " + clock(*t.checkedOutAt) + " 签退"
	case st == NotConfirmed && t.status == registration.StatusPENDING_APPROVAL:
		return "报名待审核，尚未确认"
	case st == Cancelled && t.activity != nil && t.activity.Status == activity.StatusCANCELLED:
		return "活动已取消"
	case st == TooEarly:
		opens, _ := t.window()
		return "签到尚未开始，" + clock(opens) + " 起可签到"
	case st == TooLate && t.status == registration.StatusNO_SHOW:
		return "已记为缺席"
	}
	return ""
}

// hoursOf formats minutes as hours with one decimal.
func hoursOf(minutes int) string { return fmt.Sprintf("%.1f", float64(minutes)/60) }
