package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/homevisit"
	"linli/households"
)

// 前进社区's households (住户) and a year of home visits: 526 households,
// about a third with care tags (empty-nest elderly the most, a few families
// who lost their only child), and 180+ of them visited by the teams —
// households in difficulty several times, others once or twice — each
// volunteer's minutes a service record, so their hours include visits.

// QianjinResidentPopulation is 前进社区's 常住人口: its 370 volunteers are
// 16% of it.
const QianjinResidentPopulation = 2300

// QianjinVisitedHouseholds is how many of 前进社区's households the demo
// year's home visits reach (the seed says 180).
const QianjinVisitedHouseholds = 186

type householdPlan struct {
	address, head, phone string
	size                 int
	careTags             []string
}

type visitPlan struct {
	household  int // index into communityPlan.homes
	kind       homevisit.Kind
	at         time.Time
	minutes    int
	team       int   // index into communityPlan.teams
	volunteers []int // indexes into communityPlan.people
	recorder   int   // index into communityPlan.people: the team's leader
	notes      string
}

// careShares are how many of 526 households carry each tag (a household may
// carry two).
var careShares = []struct {
	tag   string
	count int
}{
	{"EMPTY_NEST", 78}, {"DISABILITY", 27}, {"LOW_INCOME", 30}, {"LEFT_BEHIND_CHILD", 21},
	{"UNEMPLOYED", 18}, {"LOST_ONLY_CHILD", 6},
}

var estates = []struct {
	name              string
	buildings, floors int
}{{"上码头小区", 12, 6}, {"前进新村", 10, 5}, {"育才小区", 8, 6}, {"中心路小区", 6, 7}}

var visitNotes = map[homevisit.Kind][]string{
	homevisit.KindCARE_VISIT:   {"陪老人聊天，了解近况", "送去米面油，询问身体情况", "节前慰问，测量血压", "了解用药情况，提醒复诊"},
	homevisit.KindHOME_SERVICE: {"维修水龙头", "上门理发", "更换灯泡、检查电路", "打扫卫生，整理房间", "辅导孩子作业"},
	homevisit.KindSURVEY:       {"入户了解家庭情况，更新台账", "了解低保申请需求", "就业意向调查"},
	homevisit.KindERRAND:       {"代办医保报销", "代取药品", "代缴水电费", "代办高龄津贴申请"},
}

// planHomes adds 前进社区's households and visits to c (after its people and
// teams), from their own random source so the rest of the plan is unchanged.
func planHomes(c *communityPlan, now time.Time) {
	rng := rand.New(rand.NewPCG(seed^0x686f6d65, seed))
	names := newNameGen(rng)
	c.residentPopulation = QianjinResidentPopulation
	seen := map[string]bool{}
	for len(c.homes) < QianjinHouseholds {
		e := estates[rng.IntN(len(estates))]
		addr := fmt.Sprintf("%s%d栋%d单元%d0%d", e.name, 1+rng.IntN(e.buildings), 1+rng.IntN(3), 1+rng.IntN(e.floors), 1+rng.IntN(2))
		if seen[addr] {
			continue
		}
		seen[addr] = true
		c.homes = append(c.homes, householdPlan{address: addr, head: names.next(),
			phone: fmt.Sprintf("135%08d", 1+len(c.homes)), size: 1 + rng.IntN(5)})
	}
	for _, s := range careShares {
		for n := 0; n < s.count; {
			h := &c.homes[rng.IntN(len(c.homes))]
			if slices.Contains(h.careTags, s.tag) || len(h.careTags) >= 2 {
				continue
			}
			h.careTags = append(h.careTags, s.tag)
			n++
		}
	}
	for i := range c.homes {
		h := &c.homes[i]
		switch {
		case slices.Contains(h.careTags, "EMPTY_NEST"), slices.Contains(h.careTags, "LOST_ONLY_CHILD"):
			h.size = 1 + rng.IntN(2)
		case slices.Contains(h.careTags, "LEFT_BEHIND_CHILD"):
			h.size = 2 + rng.IntN(3)
		}
		slices.Sort(h.careTags)
	}
	c.visits = planVisits(c, rng, now)
}

// planVisits visits every household with care tags several times and
// others once or twice, until QianjinVisitedHouseholds are reached.
func planVisits(c *communityPlan, rng *rand.Rand, now time.Time) []visitPlan {
	members := make([][]int, len(c.teams))
	leaders := make([]int, len(c.teams))
	for i, p := range c.people {
		for _, m := range p.teams {
			members[m.team] = append(members[m.team], i)
			if m.leader {
				leaders[m.team] = i
			}
		}
	}
	elderly, tutoring, daily, legal, health := c.teamIndex(teamElderly), c.teamIndex(teamTutoring),
		c.teamIndex(teamDaily), c.teamIndex(teamLegal), c.teamIndex(teamHealth)
	var order []int
	for i, h := range c.homes {
		if len(h.careTags) > 0 {
			order = append(order, i)
		}
	}
	for _, i := range rng.Perm(len(c.homes)) {
		if len(order) >= QianjinVisitedHouseholds {
			break
		}
		if len(c.homes[i].careTags) == 0 {
			order = append(order, i)
		}
	}
	order = order[:min(len(order), QianjinVisitedHouseholds)]
	var visits []visitPlan
	for _, hi := range order {
		h := c.homes[hi]
		n := 1 + rng.IntN(2)
		team := daily
		switch {
		case slices.Contains(h.careTags, "EMPTY_NEST"), slices.Contains(h.careTags, "LOST_ONLY_CHILD"):
			n, team = 3+rng.IntN(4), elderly
		case slices.Contains(h.careTags, "DISABILITY"):
			n, team = 2+rng.IntN(3), health
		case slices.Contains(h.careTags, "LEFT_BEHIND_CHILD"):
			n, team = 2+rng.IntN(3), tutoring
		case slices.Contains(h.careTags, "LOW_INCOME"), slices.Contains(h.careTags, "UNEMPLOYED"):
			n, team = 2+rng.IntN(2), legal
		}
		for range n {
			kind := []homevisit.Kind{homevisit.KindCARE_VISIT, homevisit.KindCARE_VISIT, homevisit.KindHOME_SERVICE,
				homevisit.KindHOME_SERVICE, homevisit.KindSURVEY, homevisit.KindERRAND}[rng.IntN(6)]
			// A weekday in the past year, between 9:00 and 16:00 China time.
			day := now.AddDate(0, 0, -1-rng.IntN(364))
			y, m, d := day.In(cst.Zone).Date()
			at := time.Date(y, m, d, 9+rng.IntN(7), 15*rng.IntN(4), 0, 0, cst.Zone).UTC()
			vols := pickMembers(rng, members[team], leaders[team], 1+rng.IntN(3))
			visits = append(visits, visitPlan{
				household: hi, kind: kind, at: at, minutes: 30 + 15*rng.IntN(7), team: team,
				volunteers: vols, recorder: leaders[team], notes: visitNotes[kind][rng.IntN(len(visitNotes[kind]))],
			})
		}
	}
	return visits
}

// pickMembers picks n distinct members of a team, the leader among them.
func pickMembers(rng *rand.Rand, members []int, leader, n int) []int {
	out := []int{leader}
	for _, i := range rng.Perm(len(members)) {
		if len(out) >= n {
			break
		}
		if members[i] != leader {
			out = append(out, members[i])
		}
	}
	return out
}

// writeHomes inserts the households, visits and the visits' service records
// of every community of the plan, after write inserted its people and teams
// (personIDs and teamIDs in plan order).
func writeHomes(ctx context.Context, client *ent.Client, plan []*communityPlan, communities []*ent.Community, teamIDs, personIDs []int) error {
	tOff, pOff := 0, 0
	for ci, c := range plan {
		cid := communities[ci].ID
		if c.residentPopulation > 0 {
			if err := client.Community.UpdateOneID(cid).SetResidentPopulation(c.residentPopulation).Exec(ctx); err != nil {
				return fmt.Errorf("resident population: %w", err)
			}
		}
		homes := make([]*ent.HouseholdCreate, len(c.homes))
		for i, h := range c.homes {
			homes[i] = client.Household.Create().SetCommunityID(cid).SetAddress(h.address).SetHeadName(h.head).
				SetPhone(h.phone).SetSize(h.size).SetCareTags(append([]string{}, h.careTags...))
		}
		homeIDs, err := insert(ctx, homes, func(b []*ent.HouseholdCreate) ([]*ent.Household, error) {
			return client.Household.CreateBulk(b...).Save(ctx)
		}, func(e *ent.Household) int { return e.ID })
		if err != nil {
			return fmt.Errorf("households: %w", err)
		}
		visits := make([]*ent.HomeVisitCreate, len(c.visits))
		for i, v := range c.visits {
			vols := make([]int, len(v.volunteers))
			for j, p := range v.volunteers {
				vols[j] = personIDs[pOff+p]
			}
			visits[i] = client.HomeVisit.Create().SetCommunityID(cid).SetHouseholdID(homeIDs[v.household]).
				SetKind(v.kind).SetVisitedAt(v.at).SetMinutes(v.minutes).SetTeamID(teamIDs[tOff+v.team]).
				SetNotes(v.notes).SetRecordedByID(personIDs[pOff+v.recorder]).AddVolunteerIDs(vols...)
		}
		visitIDs, err := insert(ctx, visits, func(b []*ent.HomeVisitCreate) ([]*ent.HomeVisit, error) {
			return client.HomeVisit.CreateBulk(b...).Save(ctx)
		}, func(e *ent.HomeVisit) int { return e.ID })
		if err != nil {
			return fmt.Errorf("home visits: %w", err)
		}
		var records []*ent.ServiceRecordCreate
		for i, v := range c.visits {
			for _, p := range v.volunteers {
				records = append(records, households.VisitRecord(client.ServiceRecord.Create(), households.VisitRecordInput{
					CommunityID: cid, PersonID: personIDs[pOff+p], VisitID: visitIDs[i], Kind: v.kind, VisitedAt: v.at,
					Minutes: v.minutes, Place: c.homes[v.household].address, Team: c.teams[v.team].name,
					InCharge: c.people[v.recorder].name, RecordedBy: c.people[v.recorder].name,
				}))
			}
		}
		if _, err := insert(ctx, records, func(b []*ent.ServiceRecordCreate) ([]*ent.ServiceRecord, error) {
			return client.ServiceRecord.CreateBulk(b...).Save(ctx)
		}, func(e *ent.ServiceRecord) int { return e.ID }); err != nil {
			return fmt.Errorf("home visit service records: %w", err)
		}
		tOff, pOff = tOff+len(c.teams), pOff+len(c.people)
	}
	return nil
}
