package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"linli/viewer"
)

// Sizes of the demo, after the real 前进社区 (526 households, about 370
// registered volunteers, 6 teams).
const (
	QianjinHouseholds = 526
	QianjinVolunteers = 370
	qianjinResidents  = 50 // plain residents with an account; most households have none
	hongqiVolunteers  = 8
	hongqiResidents   = 5
)

// StarThresholds are the default hours for star levels 1 to 5.
var StarThresholds = []int{100, 300, 600, 1000, 1500}

// seed fixes the generated people: the same names, phones and teams on every load.
const seed = 20240526

// Team names of 前进社区.
const (
	teamTutoring = "爱心助学团"
	teamDaily    = "生活帮帮团"
	teamElderly  = "情系老人团"
	teamLegal    = "法律服务队"
	teamHealth   = "医疗健康服务队"
	teamCulture  = "文化文艺队"
)

// Venue names of 前进社区.
const (
	venueSquare = "社区广场"
	venueHall   = "道德讲堂"
	venueSchool = "市民学校"
	venueHome   = "阳光家园"
	venueClinic = "社区卫生服务站"
)

var generalSkills = []string{"摄影", "驾驶", "心理疏导", "电脑操作", "宣传报道", "环境整治", "安全巡逻", "急救"}

// phones hands out generated numbers in the 137 block.
type phones struct{ n int }

func (p *phones) next() string { p.n++; return fmt.Sprintf("137%08d", p.n) }

func buildPlan(now time.Time) []*communityPlan {
	rng := rand.New(rand.NewPCG(seed, seed>>3))
	var reserved []string
	for _, a := range Accounts {
		reserved = append(reserved, a.DisplayName)
	}
	names := newNameGen(rng, reserved...)
	ph := &phones{}
	q := qianjin(now, rng, names, ph)
	h := hongqi(now, rng, names, ph)
	return []*communityPlan{q, h}
}

func qianjin(now time.Time, rng *rand.Rand, names *nameGen, ph *phones) *communityPlan {
	c := &communityPlan{
		name: Qianjin, town: "枞阳镇", city: "铜陵市",
		households: QianjinHouseholds, areaKm2: 2.5, thresholds: StarThresholds,
		venues: []venuePlan{
			{venueSquare, "前进社区中心路1号", 500},
			{venueHall, "前进社区党群服务中心二楼", 80},
			{venueSchool, "前进社区党群服务中心三楼", 60},
			{venueHome, "前进社区育才路12号", 40},
			{venueClinic, "前进社区中心路8号", 30},
		},
		teams: []teamPlan{
			{teamTutoring, "周末和假期为社区中小学生辅导功课，关爱留守儿童。", []string{"课业辅导", "英语辅导", "数学辅导", "书法", "绘画"}, 18},
			{teamDaily, "理发、家电维修、水电维修、磨剪刀，把便民服务送到家门口。", []string{"家电维修", "水电维修", "理发", "缝补"}, 20},
			{teamElderly, "探访独居和高龄老人，助餐送餐，陪伴聊天。", []string{"陪伴聊天", "助餐送餐", "康复护理", "理发"}, 20},
			{teamLegal, "法律咨询、人民调解、普法宣传。", []string{"法律咨询", "人民调解", "合同审查"}, 8},
			{teamHealth, "义诊、健康讲座、慢病随访，与社区卫生服务站合作。", []string{"全科医生", "中医", "护理", "测量血压"}, 14},
			{teamCulture, "黄梅戏、广场舞、器乐演出，承办文化广场活动。", []string{"黄梅戏", "广场舞", "器乐", "主持"}, 20},
		},
	}
	health, tutoring, culture := c.teamIndex(teamHealth), c.teamIndex(teamTutoring), c.teamIndex(teamCulture)
	daysAgo := func(d int) time.Time { return now.AddDate(0, 0, -d) }

	c.people = append(c.people,
		account(qianjinCoordinator, []viewer.Role{viewer.Resident, viewer.Coordinator}),
		account(platformAdmin, []viewer.Role{viewer.Resident, viewer.Admin}),
		account(qianjinResident, []viewer.Role{viewer.Resident}),
	)
	leader := account(qianjinLeader, []viewer.Role{viewer.Resident, viewer.Volunteer, viewer.TeamLeader})
	leader.skills, leader.registeredAt = []string{"全科医生", "急救"}, daysAgo(1460)
	leader.teams = []membership{{health, true}}
	vol := account(qianjinVolunteer, []viewer.Role{viewer.Resident, viewer.Volunteer})
	vol.skills, vol.registeredAt = []string{"课业辅导", "黄梅戏"}, daysAgo(400)
	vol.teams = []membership{{tutoring, false}, {culture, false}}
	c.people = append(c.people, leader, vol)

	// The other five teams are led by generated volunteers.
	for t := range c.teams {
		if t == health {
			continue
		}
		c.people = append(c.people, personPlan{
			name: names.next(), phone: ph.next(),
			roles:        []viewer.Role{viewer.Resident, viewer.Volunteer, viewer.TeamLeader},
			skills:       pick(rng, c.teams[t].skills, 2),
			registeredAt: daysAgo(700 + rng.IntN(1100)),
			teams:        []membership{{t, true}},
		})
	}
	for range QianjinVolunteers - 2 - (len(c.teams) - 1) {
		c.people = append(c.people, generatedVolunteer(now, rng, names, ph, c.teams))
	}
	for range qianjinResidents {
		c.people = append(c.people, personPlan{name: names.next(), phone: ph.next(), roles: []viewer.Role{viewer.Resident}})
	}
	c.activities = qianjinActivities(c, now)
	planAttendance(c, 0x71616e)
	planHomes(c, now)
	return c
}

// generatedVolunteer joins most volunteers to a team (a few to two) and
// gives them skills that fit it.
func generatedVolunteer(now time.Time, rng *rand.Rand, names *nameGen, ph *phones, teams []teamPlan) personPlan {
	p := personPlan{
		name: names.next(), phone: ph.next(),
		roles:        []viewer.Role{viewer.Resident, viewer.Volunteer},
		registeredAt: now.AddDate(0, 0, -(30 + rng.IntN(5*365))),
	}
	joins := 0
	switch r := rng.IntN(100); {
	case r < 8:
		joins = 2
	case r < 78:
		joins = 1
	}
	for joins = min(joins, len(teams)); len(p.teams) < joins; {
		t := weighted(rng, teams)
		if len(p.teams) == 1 && p.teams[0].team == t {
			continue
		}
		p.teams = append(p.teams, membership{team: t})
		p.skills = addSkill(p.skills, pick(rng, teams[t].skills, 1)[0])
	}
	if len(p.teams) == 0 || rng.IntN(3) == 0 {
		p.skills = addSkill(p.skills, pick(rng, generalSkills, 1)[0])
	}
	return p
}

func hongqi(now time.Time, rng *rand.Rand, names *nameGen, ph *phones) *communityPlan {
	c := &communityPlan{
		name: Hongqi, town: "枞阳镇", city: "铜陵市",
		households: 318, areaKm2: 1.2, thresholds: StarThresholds,
		venues: []venuePlan{
			{"红旗广场", "红旗社区红旗路2号", 300},
			{"红旗社区活动室", "红旗社区党群服务中心一楼", 50},
		},
		teams: []teamPlan{
			{"红旗志愿服务队", "红旗社区的综合志愿服务队：义诊、文艺、便民服务。", []string{"测量血压", "广场舞", "家电维修", "法律咨询"}, 1},
		},
	}
	c.people = append(c.people, account(hongqiCoordinator, []viewer.Role{viewer.Resident, viewer.Coordinator}))
	for i := range hongqiVolunteers {
		p := generatedVolunteer(now, rng, names, ph, c.teams)
		if i == 0 {
			p.roles = append(p.roles, viewer.TeamLeader)
			p.teams = []membership{{0, true}}
		}
		c.people = append(c.people, p)
	}
	for range hongqiResidents {
		c.people = append(c.people, personPlan{name: names.next(), phone: ph.next(), roles: []viewer.Role{viewer.Resident}})
	}
	c.activities = hongqiActivities(c, now)
	planAttendance(c, 0x686f6e)
	return c
}

func account(a Account, roles []viewer.Role) personPlan {
	return personPlan{name: a.DisplayName, phone: a.Phone, password: a.Password, roles: roles}
}

// pick returns n distinct elements of from.
func pick(rng *rand.Rand, from []string, n int) []string {
	idx := rng.Perm(len(from))[:min(n, len(from))]
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}

func addSkill(skills []string, s string) []string {
	if slices.Contains(skills, s) {
		return skills
	}
	return append(skills, s)
}

func weighted(rng *rand.Rand, teams []teamPlan) int {
	total := 0
	for _, t := range teams {
		total += t.weight
	}
	r := rng.IntN(total)
	for i, t := range teams {
		if r < t.weight {
			return i
		}
		r -= t.weight
	}
	return len(teams) - 1
}
