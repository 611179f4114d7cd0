package demo

import (
	"fmt"
	"time"

	"linli/cst"
	"linli/ent/activity"
	"linli/ent/slot"
)

// kind is a recurring sort of activity: the free clinic, the culture-square
// show, the moral lecture and so on.
type kind struct {
	titles      []string // used in turn by successive occurrences
	description string
	category    activity.Category
	serviceType activity.ServiceType
	team        string // empty: organised by the community office
	venue       string // empty: online
	hour        int
	minute      int
	minutes     int
	slots       []slotPlan
}

func volunteers(name string, capacity int, approval bool) slotPlan {
	return slotPlan{name: name, kind: slot.KindVOLUNTEER, capacity: capacity, approval: approval, maxSeats: 1, earlyMinutes: 30}
}

func seats(name string, capacity, maxPerSignup int) slotPlan {
	return slotPlan{name: name, kind: slot.KindATTENDEE, capacity: capacity, maxSeats: maxPerSignup}
}

var (
	clinic = kind{
		titles:      []string{"社区义诊：量血压、测血糖", "中医义诊进社区", "老年人健康义诊", "慢病随访义诊"},
		description: "医疗健康服务队联合社区卫生服务站开展义诊：测量血压血糖、健康咨询、用药指导。请携带医保卡和近期病历。",
		category:    activity.CategorySQUARE, serviceType: activity.ServiceTypeHEALTH,
		team: teamHealth, venue: venueSquare, hour: 8, minute: 30, minutes: 180,
		// Doctors are vetted by the coordinator before they are confirmed.
		slots: []slotPlan{volunteers("坐诊医生", 3, true), volunteers("引导员", 4, false), seats("义诊名额", 40, 1)},
	}
	show = kind{
		titles:      []string{"文化广场·黄梅戏专场", "广场文艺晚会", "黄梅戏经典选段演唱会", "广场舞展演"},
		description: "文化文艺队在社区广场为居民演出黄梅戏选段和广场舞，欢迎邻里携家人观看。",
		category:    activity.CategorySQUARE, serviceType: activity.ServiceTypeCULTURE,
		team: teamCulture, venue: venueSquare, hour: 19, minute: 0, minutes: 120,
		slots: []slotPlan{seats("观众席", 150, 4), volunteers("演出场务", 6, false)},
	}
	movie = kind{
		titles:      []string{"广场露天电影"},
		description: "社区广场露天电影放映，自带小板凳。",
		category:    activity.CategorySQUARE, serviceType: activity.ServiceTypeCULTURE,
		team: teamCulture, venue: venueSquare, hour: 19, minute: 30, minutes: 120,
		slots: []slotPlan{seats("观众席", 200, 4), volunteers("秩序维护", 4, false)},
	}
	lecture = kind{
		titles:      []string{"道德讲堂：孝老爱亲", "道德讲堂：诚实守信", "道德讲堂：邻里守望", "道德讲堂：勤俭节约", "道德讲堂：敬业奉献"},
		description: "“唱一首歌曲、学一则模范、诵一段经典、发一份善心、作一番点评”，身边好人讲身边事。",
		category:    activity.CategoryHALL, serviceType: activity.ServiceTypeEDUCATION,
		venue: venueHall, hour: 15, minute: 0, minutes: 90,
		slots: []slotPlan{seats("听众", 60, 2), volunteers("讲堂志愿者", 2, false)},
	}
	tutoring = kind{
		titles:      []string{"周末课业辅导", "小学生英语角", "四点半课堂·作业辅导", "书法兴趣课"},
		description: "爱心助学团志愿者为社区中小学生辅导作业，优先照顾留守儿童和困难家庭子女。家长可为两个孩子报名。",
		category:    activity.CategorySCHOOL, serviceType: activity.ServiceTypeEDUCATION,
		team: teamTutoring, venue: venueSchool, hour: 9, minute: 0, minutes: 150,
		slots: []slotPlan{volunteers("辅导老师", 6, false), seats("学生名额", 24, 2)},
	}
	legal = kind{
		titles:      []string{"法律咨询日", "婚姻家事法律讲座", "防范养老诈骗讲座"},
		description: "法律服务队律师志愿者现场解答婚姻家庭、劳动争议、邻里纠纷等法律问题，提供人民调解。",
		category:    activity.CategoryHALL, serviceType: activity.ServiceTypeLEGAL,
		team: teamLegal, venue: venueHall, hour: 14, minute: 30, minutes: 150,
		slots: []slotPlan{seats("咨询名额", 20, 1), volunteers("值班律师", 2, true)},
	}
	jobFair = kind{
		titles:      []string{"家门口就业招聘会", "就业援助专场招聘会", "高校毕业生就业见习对接会"},
		description: "本地二十余家企业现场招聘，提供政策咨询和技能培训报名。请携带简历和身份证。",
		category:    activity.CategorySQUARE, serviceType: activity.ServiceTypeEMPLOYMENT,
		venue: venueSquare, hour: 9, minute: 0, minutes: 180,
		slots: []slotPlan{seats("求职者", 200, 1), volunteers("招聘会引导", 5, false)},
	}
	elderly = kind{
		titles:      []string{"情系老人·上门探访", "敬老助老·理发义剪", "独居老人居家安全检查"},
		description: "情系老人团探访独居和高龄老人，理发、打扫、检查水电燃气安全，陪老人聊聊天。",
		category:    activity.CategoryFAMILY, serviceType: activity.ServiceTypePOVERTY_RELIEF,
		team: teamElderly, venue: venueHome, hour: 9, minute: 0, minutes: 120,
		slots: []slotPlan{volunteers("探访志愿者", 8, false), seats("预约上门", 15, 1)},
	}
	daily = kind{
		titles:      []string{"便民服务日：理发、修家电、磨剪刀", "水电维修进家门"},
		description: "生活帮帮团在社区广场摆摊服务：免费理发、小家电维修、磨剪刀，也可预约上门维修。",
		category:    activity.CategorySQUARE, serviceType: activity.ServiceTypeAPPEALS,
		team: teamDaily, venue: venueSquare, hour: 8, minute: 30, minutes: 150,
		slots: []slotPlan{volunteers("便民服务志愿者", 10, false), seats("服务预约", 30, 1)},
	}
	family = kind{
		titles:      []string{"文明家庭事迹分享会", "好家风好家训交流会", "最美家庭颁奖"},
		description: "文明家庭讲述自家故事，交流家风家训。欢迎全家一起参加。",
		category:    activity.CategoryFAMILY, serviceType: activity.ServiceTypeCULTURE,
		venue: venueHall, hour: 15, minute: 0, minutes: 90,
		slots: []slotPlan{seats("参会家庭", 30, 3)},
	}
	counseling = kind{
		titles:      []string{"线上心理疏导：考前减压", "线上心理疏导：老人孤独与陪伴", "线上亲子沟通讲座"},
		description: "心理咨询师在线讲解并答疑，报名后可在活动开始前收到直播链接。",
		category:    activity.CategoryONLINE, serviceType: activity.ServiceTypeCOUNSELING,
		hour: 19, minute: 30, minutes: 60,
		slots: []slotPlan{seats("在线名额", 100, 1)},
	}
	onlineLegal = kind{
		titles:      []string{"线上法律答疑", "网络防诈骗课堂"},
		description: "法律服务队在线答疑，重点讲解电信网络诈骗的常见手法和防范办法。",
		category:    activity.CategoryONLINE, serviceType: activity.ServiceTypeLEGAL,
		team: teamLegal, hour: 20, minute: 0, minutes: 60,
		slots: []slotPlan{seats("在线名额", 200, 1), volunteers("答疑律师", 2, true)},
	}
	healthTalk = kind{
		titles:      []string{"健康讲座：高血压的日常管理", "健康讲座：糖尿病饮食", "急救培训：心肺复苏"},
		description: "医疗健康服务队的医生讲解慢病管理和急救常识，现场可免费测血压。",
		category:    activity.CategorySCHOOL, serviceType: activity.ServiceTypeHEALTH,
		team: teamHealth, venue: venueClinic, hour: 14, minute: 30, minutes: 90,
		slots: []slotPlan{seats("听众", 30, 1), volunteers("讲师", 1, false)},
	}
	relief = kind{
		titles:      []string{"困难家庭走访慰问", "爱心助学金发放"},
		description: "走访慰问困难家庭，送去米油和慰问金，了解家庭实际困难并登记诉求。",
		category:    activity.CategoryFAMILY, serviceType: activity.ServiceTypePOVERTY_RELIEF,
		team: teamElderly, venue: venueHome, hour: 9, minute: 30, minutes: 120,
		slots: []slotPlan{volunteers("慰问志愿者", 6, false)},
	}
)

// day returns a function giving the instant at hour:minute, days from today.
func day(now time.Time) func(days, hour, minute int) time.Time {
	t := now.In(cst.Zone)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cst.Zone)
	return func(days, hour, minute int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day()+days, hour, minute, 0, 0, cst.Zone).UTC()
	}
}

// Sign-up opens this long before an activity starts and closes shortly before.
const (
	signupOpensBefore  = 10 * 24 * time.Hour
	signupClosesBefore = 2 * time.Hour
)

// pastYear is what 前进社区 held over the last year, after its year-end
// report: 60 moral lectures, 30 culture-square shows, 20+ legal and health
// sessions, and the teams' other work.
var pastYear = []struct {
	k kind
	n int
}{
	{lecture, 60}, {show, 30}, {clinic, 12}, {tutoring, 12}, {legal, 6}, {healthTalk, 6},
	{elderly, 6}, {daily, 6}, {family, 4}, {counseling, 4}, {relief, 4}, {jobFair, 3}, {onlineLegal, 3},
}

// PastActivities is how many activities 前进社区 held over the last year.
var PastActivities = func() int {
	n := 0
	for _, p := range pastYear {
		n += p.n
	}
	return n
}()

type upcoming struct {
	days   int
	k      kind
	status activity.Status
	note   string
}

func qianjinActivities(c *communityPlan, now time.Time) []activityPlan {
	at := day(now)
	titles := map[string]int{}
	title := func(k kind) string {
		key := k.titles[0]
		t := k.titles[titles[key]%len(k.titles)]
		titles[key]++
		return t
	}
	var out []activityPlan
	// Each kind evenly over the past year, a day later where its venue is
	// taken that day (online ones, by the same kind).
	busy := map[string]bool{}
	for pi, p := range pastYear {
		for i := range p.n {
			d := -360 + (i*360+pi*360/len(pastYear)/2)/p.n
			place := p.k.venue
			if place == "" {
				place = p.k.titles[0]
			}
			for busy[fmt.Sprint(place, d)] && d < -1 {
				d++
			}
			busy[fmt.Sprint(place, d)] = true
			out = append(out, c.activity(p.k, title(p.k), at(d, p.k.hour, p.k.minute), activity.StatusCOMPLETED))
		}
	}
	// Sign-up is open now for the next ten days' activities; later ones open later.
	next := []upcoming{
		{1, daily, activity.StatusPUBLISHED, "报名已截止，现场也可直接排队。"},
		{3, clinic, activity.StatusPUBLISHED, ""},
		{5, show, activity.StatusPUBLISHED, ""},
		{6, tutoring, activity.StatusPUBLISHED, ""},
		{8, elderly, activity.StatusPUBLISHED, ""},
		{9, lecture, activity.StatusPUBLISHED, ""},
		{10, movie, activity.StatusCANCELLED, "因天气预报有雷雨，本场取消，改期另行通知。"},
		{12, legal, activity.StatusPUBLISHED, ""},
		{14, counseling, activity.StatusPUBLISHED, ""},
		{18, jobFair, activity.StatusPUBLISHED, ""},
		{25, family, activity.StatusPUBLISHED, ""},
		{30, healthTalk, activity.StatusDRAFT, ""},
		{38, clinic, activity.StatusDRAFT, ""},
	}
	for _, u := range next {
		a := c.activity(u.k, title(u.k), at(u.days, u.k.hour, u.k.minute), u.status)
		if u.note != "" {
			a.description += "\n" + u.note
		}
		if u.days == 1 {
			a.closesAt = at(-1, 20, 0)
		}
		out = append(out, a)
	}
	return out
}

func hongqiActivities(c *communityPlan, now time.Time) []activityPlan {
	at := day(now)
	const team, square, room = "红旗志愿服务队", "红旗广场", "红旗社区活动室"
	hq := func(k kind, title, venue string) kind {
		k.titles, k.team, k.venue = []string{title}, team, venue
		return k
	}
	plan := []upcoming{
		{-60, hq(clinic, "红旗社区义诊", square), activity.StatusCOMPLETED, ""},
		{-20, hq(lecture, "红旗道德讲堂：邻里守望", room), activity.StatusCOMPLETED, ""},
		{4, hq(show, "红旗广场文艺演出", square), activity.StatusPUBLISHED, ""},
		{7, hq(legal, "红旗社区法律咨询", room), activity.StatusPUBLISHED, ""},
	}
	var out []activityPlan
	for _, u := range plan {
		out = append(out, c.activity(u.k, u.k.titles[0], at(u.days, u.k.hour, u.k.minute), u.status))
	}
	return out
}

func (c *communityPlan) activity(k kind, title string, start time.Time, status activity.Status) activityPlan {
	a := activityPlan{
		title: title, description: k.description,
		category: k.category, serviceType: k.serviceType, status: status,
		team: -1, venue: -1,
		startsAt: start, endsAt: start.Add(time.Duration(k.minutes) * time.Minute),
		opensAt: start.Add(-signupOpensBefore), closesAt: start.Add(-signupClosesBefore),
		slots: k.slots,
	}
	if k.team != "" {
		if a.team = c.teamIndex(k.team); a.team < 0 {
			panic(fmt.Sprintf("demo: %s has no team %s", c.name, k.team))
		}
	}
	if k.venue != "" {
		if a.venue = c.venueIndex(k.venue); a.venue < 0 {
			panic(fmt.Sprintf("demo: %s has no venue %s", c.name, k.venue))
		}
	}
	return a
}
