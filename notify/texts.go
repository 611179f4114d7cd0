package notify

import (
	"fmt"
	"strings"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/notification"
)

var weekdays = []string{"日", "一", "二", "三", "四", "五", "六"}

// When is an activity's time in China time: "12月8日（周二）09:00–11:30".
func When(a *ent.Activity) string {
	s, e := a.StartsAt.In(cst.Zone), a.EndsAt.In(cst.Zone)
	out := fmt.Sprintf("%d月%d日（周%s）%s", int(s.Month()), s.Day(), weekdays[s.Weekday()], s.Format("15:04"))
	if e.After(s) {
		if e.YearDay() == s.YearDay() && e.Year() == s.Year() {
			out += "–" + e.Format("15:04")
		} else {
			out += fmt.Sprintf("–%d月%d日 %s", int(e.Month()), e.Day(), e.Format("15:04"))
		}
	}
	return out
}

// Where is an activity's place: its venue (and address), online, or to be
// announced.
func Where(a *ent.Activity) string {
	if v := a.Edges.Venue; v != nil {
		if v.Address != "" {
			return v.Name + "（" + v.Address + "）"
		}
		return v.Name
	}
	if a.Category == activity.CategoryONLINE {
		return "线上"
	}
	return "地点待定"
}

func about(a *ent.Activity) string {
	return fmt.Sprintf("「%s」，时间：%s，地点：%s", a.Title, When(a), Where(a))
}

var requestStatus = map[string]string{
	"SUBMITTED": "已提交", "ACCEPTED": "已受理", "ASSIGNED": "已派单", "IN_PROGRESS": "处理中",
	"RESOLVED": "已办结", "CLOSED": "已确认", "REJECTED": "未予受理",
}

// text is the title and body of a notification of kind about a (activity)
// or r (request); note details it (see Event.Note).
func text(kind notification.Kind, a *ent.Activity, r *ent.Request, note string) (title, body string) {
	switch kind {
	case notification.KindWAITLIST_PROMOTED:
		return "候补成功", "您已从候补转为正式报名：活动" + about(a) + "。请准时参加。"
	case notification.KindWAITLIST_OFFERED:
		return "候补名额待确认", "活动" + about(a) + " 有空出的名额为您保留，请在 " + note + " 前确认参加或放弃，逾期名额将顺延给下一位候补。"
	case notification.KindOFFER_LAPSED:
		return "候补名额已顺延", "您未在期限内确认活动" + about(a) + " 的候补名额，名额已顺延给下一位候补，您的报名随之取消。"
	case notification.KindSIGNUP_APPROVED:
		return "报名已通过", "您的报名已审核通过：活动" + about(a) + "。"
	case notification.KindSIGNUP_REJECTED:
		body = "您的报名未通过审核：活动" + about(a) + "。"
		if note != "" {
			body += "原因：" + note
		}
		return "报名未通过", body
	case notification.KindACTIVITY_CHANGED:
		body = "您报名的活动有变动，现为：" + about(a) + "。"
		if note != "" {
			body += "（原为 " + note + "）"
		}
		return "活动变更", body
	case notification.KindACTIVITY_CANCELLED:
		body = "很抱歉，活动" + about(a) + " 已取消，您的报名随之取消。"
		if note != "" {
			body += "原因：" + note
		}
		return "活动取消", body
	case notification.KindREMINDER:
		return "活动提醒", note + "您报名的活动" + about(a) + " 即将开始。"
	case notification.KindHOURS_CREDITED:
		return "服务时长已记录", fmt.Sprintf("感谢您参加活动「%s」（%s，%s）的志愿服务，本次记录服务时长 %s 小时。", a.Title, When(a), Where(a), note)
	case notification.KindQUALIFICATION_EXPIRING:
		kind, day, _ := strings.Cut(note, "\t")
		return "资质即将到期", fmt.Sprintf("您登记的资质「%s」将于 %s 到期。到期后需要该资质的志愿岗位将无法报名，请及时续期并向社区提交新的证明。", kind, dayText(day))
	case notification.KindQUALIFICATIONS_EXPIRING:
		var items []string
		for line := range strings.SplitSeq(note, "\n") {
			f := strings.Split(line, "\t")
			if len(f) == 3 {
				items = append(items, fmt.Sprintf("%s「%s」（%s 到期）", f[0], f[1], dayText(f[2])))
			}
		}
		return "志愿者资质即将到期", fmt.Sprintf("有 %d 项志愿者资质将在 30 天内到期：%s。请提醒续期。", len(items), strings.Join(items, "；"))
	case notification.KindCERTIFICATE_ISSUED:
		return "志愿服务证明已开具", "您的志愿服务证明已开具，编号 " + note + "，可在“我的证明”中查看。"
	case notification.KindREQUEST_UPDATED:
		st := requestStatus[note]
		if st == "" {
			st = note
		}
		return "诉求进展", fmt.Sprintf("您的诉求「%s」（编号 %s，%s 提交）状态更新为：%s。", r.Title, r.Number, At(r.CreatedAt), st)
	case notification.KindREQUEST_ASSIGNED:
		return "新的诉求派单", fmt.Sprintf("诉求「%s」（编号 %s，%s 提交）已派给您处理，请及时跟进。", r.Title, r.Number, At(r.CreatedAt))
	case notification.KindREQUEST_FOLLOW_UP:
		resolved := r.UpdatedAt
		if r.ResolvedAt != nil {
			resolved = *r.ResolvedAt
		}
		return "回访：诉求办理满意吗？", fmt.Sprintf("您的诉求「%s」（编号 %s）已于%s办结，请确认办理结果并评价。", r.Title, r.Number, At(resolved))
	}
	return string(kind), note
}

// At formats a time as the texts do (China time).
func At(t time.Time) string { return t.In(cst.Zone).Format("1月2日 15:04") }

// QualificationNote is the note of a QUALIFICATION_EXPIRING notification:
// the kind's name and its expiry date (YYYY-MM-DD).
func QualificationNote(kind, expiresOn string) string { return kind + "\t" + expiresOn }

// QualificationLine is one line of a QUALIFICATIONS_EXPIRING note: the
// holder, the kind and the expiry date.
func QualificationLine(name, kind, expiresOn string) string {
	return name + "\t" + kind + "\t" + expiresOn
}

// dayText is a date YYYY-MM-DD as the texts write it (2027年1月5日).
func dayText(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}
