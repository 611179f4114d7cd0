package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/community"
	"linli/ent/household"
	"linli/ent/person"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/ent/team"
	"linli/ent/teammembership"
	"linli/viewer"
)

// Demo requests: a year of 前进社区's residents' requests (社情民意), 236
// of them, 30 disputes mediated, mostly closed with a rating, the latest
// still open (one overdue); and the numbering prefixes of both
// communities.
const (
	QianjinRequests         = 236
	QianjinDisputesMediated = 30
)

// requestKind is one kind's share of the year, the team that handles it
// (empty: staff settle it themselves) and what residents write.
type requestKind struct {
	kind   request.Kind
	n      int
	team   string
	titles [][2]string // title, description
}

var requestKinds = []requestKind{
	{request.KindDISPUTE, 34, teamLegal, [][2]string{
		{"邻居装修噪音扰民", "楼上装修每天早上七点就开始电钻，老人休息不好，多次沟通无果。"},
		{"楼道堆放杂物引发纠纷", "对门在楼道堆放纸箱和旧家具，影响通行，双方争吵过。"},
		{"空调外机滴水纠纷", "楼上空调外机一直滴在我家阳台，协商不成。"},
		{"宠物狗扰民", "邻居家的狗夜里叫，孩子要高考，希望社区调解。"},
		{"停车位占用纠纷", "自家门口车位长期被外来车辆占用。"},
		{"漏水赔偿纠纷", "楼上卫生间漏水把我家天花板泡坏了，对方不愿赔偿。"},
	}},
	{request.KindREPAIR, 50, teamDaily, [][2]string{
		{"厨房水龙头漏水", "独居老人，水龙头关不紧，请师傅上门。"},
		{"楼道灯不亮", "3栋2单元楼道灯坏了一周，晚上上下楼不安全。"},
		{"电视机没有信号", "老人不会弄机顶盒，请志愿者帮忙看看。"},
		{"下水道堵塞", "厨房下水道堵了，家里有行动不便的老人。"},
		{"单元门禁损坏", "单元门禁关不上，陌生人随意进出。"},
	}},
	{request.KindELDERLY_CARE, 35, teamElderly, [][2]string{
		{"独居老人需要助餐", "老伴去世后一个人住，腿脚不便，希望每天有人送午饭。"},
		{"希望有人陪老人聊天", "子女在外地打工，老人一个人在家，情绪低落。"},
		{"高龄老人理发", "九十岁老人出门不便，希望上门理发。"},
		{"代办高龄津贴", "老人不会在手机上申请高龄津贴，请帮忙代办。"},
	}},
	{request.KindENVIRONMENT, 30, teamDaily, [][2]string{
		{"垃圾桶满溢", "小区东门垃圾桶每天满溢，气味很大。"},
		{"绿化带杂草丛生", "5栋旁边绿化带很久没人修剪，有蚊虫。"},
		{"楼顶违规种菜", "有人在楼顶种菜施肥，气味大还漏水。"},
	}},
	{request.KindLIVELIHOOD, 25, "", [][2]string{
		{"咨询低保申请", "家里有病人，收入很低，想了解低保怎么申请。"},
		{"医保缴费问题", "医保缴费在手机上交不了，想问怎么办。"},
		{"孩子入学咨询", "随迁子女入学需要什么材料。"},
	}},
	{request.KindLEGAL, 15, teamLegal, [][2]string{
		{"工资被拖欠", "在工地干了三个月，老板拖欠工资不给。"},
		{"遗产继承咨询", "父亲去世后房产怎么过户，兄弟姐妹有分歧。"},
	}},
	{request.KindHEALTH, 15, teamHealth, [][2]string{
		{"希望上门测血压", "老人有高血压，行动不便，希望定期上门测量。"},
		{"慢病随访", "糖尿病老人需要有人提醒按时吃药复查。"},
	}},
	{request.KindEMPLOYMENT, 10, "", [][2]string{
		{"想找一份保洁工作", "下岗在家，想在附近找份保洁工作。"},
		{"残疾人就业咨询", "孩子有轻度残疾，想了解有没有适合的岗位。"},
	}},
	{request.KindSUGGESTION, 15, "", [][2]string{
		{"建议增加健身器材", "广场健身器材太少，早上排队。"},
		{"建议开设书法班", "很多老人想学书法，希望社区开班。"},
	}},
	{request.KindOTHER, 7, "", [][2]string{
		{"捡到一个钱包", "在广场捡到钱包，想交给社区。"},
	}},
}

// demoRequest is one planned request with its story.
type demoRequest struct {
	kind              request.Kind
	channel           request.Channel
	title, desc       string
	submitter         int
	household         *int
	team, assignee    *int
	status            request.Status
	outcome           *request.Outcome
	resolution        string
	satisfaction      int
	byStaff           bool
	created, accepted time.Time
	due, assigned     time.Time
	started, resolved time.Time
	closed            time.Time
	rejectReason      string
}

// writeRequests adds the year of requests to 前进社区 and the numbering
// prefixes (QJ, HQ); it runs inside the demo's transaction, after the
// people, teams and (when the households demo ran) households are in.
func writeRequests(ctx context.Context, client *ent.Client, now time.Time) error {
	ctx = viewer.System(ctx)
	for name, prefix := range map[string]string{Qianjin: "QJ", Hongqi: "HQ"} {
		if err := client.Community.Update().Where(community.Name(name)).SetRequestPrefix(prefix).Exec(ctx); err != nil {
			return fmt.Errorf("request prefix: %w", err)
		}
	}
	c, err := client.Community.Query().Where(community.Name(Qianjin)).Only(ctx)
	if err != nil {
		return err
	}
	coord, err := client.Person.Query().Where(person.Phone(qianjinCoordinator.Phone)).OnlyID(ctx)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	me, err := client.Person.Query().Where(person.Phone(qianjinResident.Phone)).OnlyID(ctx)
	if err != nil {
		return fmt.Errorf("resident: %w", err)
	}
	people, err := client.Person.Query().Where(person.CommunityID(c.ID)).Order(ent.Asc(person.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	var residents []int
	for _, p := range people {
		if p.ID != me && slices.Equal(p.Roles, []string{string(viewer.Resident)}) {
			residents = append(residents, p.ID)
		}
	}
	teams, err := client.Team.Query().Where(team.CommunityID(c.ID)).WithMemberships(func(q *ent.TeamMembershipQuery) {
		q.Order(ent.Asc(teammembership.FieldID))
	}).All(ctx)
	if err != nil {
		return err
	}
	teamByName := map[string]*ent.Team{}
	for _, t := range teams {
		teamByName[t.Name] = t
	}
	households, err := client.Household.Query().Where(household.CommunityID(c.ID)).IDs(ctx)
	if err != nil {
		return err
	}
	plan := planRequests(now, residents, me, teamByName, households)
	return insertRequests(ctx, client, c.ID, coord, plan)
}

func planRequests(now time.Time, residents []int, me int, teams map[string]*ent.Team, households []int) []demoRequest {
	rng := rand.New(rand.NewPCG(seed, seed>>5))
	var out []demoRequest
	at := func(daysAgo int) time.Time {
		return now.Add(-time.Duration(daysAgo)*24*time.Hour - time.Duration(rng.IntN(10*60))*time.Minute).UTC().Truncate(time.Second)
	}
	channels := []request.Channel{request.ChannelWECHAT_GROUP, request.ChannelWECHAT_GROUP, request.ChannelWECHAT_GROUP,
		request.ChannelPHONE, request.ChannelPHONE, request.ChannelPHONE, request.ChannelWALK_IN, request.ChannelWALK_IN,
		request.ChannelHOME_VISIT, request.ChannelHOME_VISIT, request.ChannelAPP}
	mediated := 0
	for _, k := range requestKinds {
		for i := range k.n {
			text := k.titles[i%len(k.titles)]
			r := demoRequest{kind: k.kind, title: text[0], desc: text[1], channel: channels[rng.IntN(len(channels))]}
			r.submitter = residents[rng.IntN(len(residents))]
			if len(households) > 0 && r.channel == request.ChannelHOME_VISIT {
				h := households[rng.IntN(len(households))]
				r.household = &h
			}
			// Spread over the year; the mediated disputes are all settled.
			days := 3 + rng.IntN(358)
			if k.kind == request.KindDISPUTE && mediated < QianjinDisputesMediated {
				days = 20 + rng.IntN(340)
			}
			r.created = at(days)
			r.accepted = r.created.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
			if rng.IntN(8) == 0 {
				r.accepted = r.created.Add(time.Duration(26+rng.IntN(30)) * time.Hour) // after a weekend
			}
			if t := teams[k.team]; t != nil && len(t.Edges.Memberships) > 0 {
				m := t.Edges.Memberships[rng.IntN(len(t.Edges.Memberships))]
				r.team, r.assignee = &t.ID, &m.PersonID
			}
			r.assigned = r.accepted.Add(time.Duration(1+rng.IntN(5)) * time.Hour)
			r.started = r.assigned.Add(time.Duration(2+rng.IntN(20)) * time.Hour)
			r.resolved = r.started.Add(time.Duration(4+rng.IntN(96)) * time.Hour)
			r.closed = r.resolved.Add(time.Duration(20+rng.IntN(50)) * time.Hour)
			r.due = r.accepted.Add(dueAfterDemo(k.kind))
			outcome := request.OutcomeSOLVED
			switch {
			case k.kind == request.KindDISPUTE && mediated < QianjinDisputesMediated:
				outcome = request.OutcomeMEDIATED
				mediated++
			case k.kind == request.KindDISPUTE:
				outcome = request.OutcomeREFERRED
			case k.kind == request.KindLIVELIHOOD || k.kind == request.KindSUGGESTION || k.kind == request.KindEMPLOYMENT:
				outcome = []request.Outcome{request.OutcomeEXPLAINED, request.OutcomeSOLVED, request.OutcomeREFERRED}[rng.IntN(3)]
			case rng.IntN(25) == 0:
				outcome = request.OutcomeUNRESOLVED
			}
			r.outcome = &outcome
			r.resolution = resolutionText(outcome, k.kind)
			r.satisfaction = []int{5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 3, 3, 2, 1}[rng.IntN(15)]
			if outcome == request.OutcomeUNRESOLVED {
				r.satisfaction = 1 + rng.IntN(3)
			}
			r.byStaff = r.channel != request.ChannelAPP
			r.status = request.StatusCLOSED
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b demoRequest) int { return a.created.Compare(b.created) })
	// The latest are still under way, in every state; a few were turned
	// down along the year.
	latest := []request.Status{request.StatusSUBMITTED, request.StatusSUBMITTED, request.StatusACCEPTED, request.StatusACCEPTED,
		request.StatusASSIGNED, request.StatusASSIGNED, request.StatusIN_PROGRESS, request.StatusIN_PROGRESS, request.StatusIN_PROGRESS,
		request.StatusRESOLVED, request.StatusRESOLVED, request.StatusRESOLVED}
	for i, st := range latest {
		r := &out[len(out)-1-i]
		if r.kind == request.KindDISPUTE && r.outcome != nil && *r.outcome == request.OutcomeMEDIATED {
			continue // the mediated disputes stay settled
		}
		r.status = st
	}
	for i := 10; i < len(out); i += 45 {
		r := &out[i]
		if r.kind != request.KindDISPUTE {
			r.status, r.rejectReason = request.StatusREJECTED, "属于物业公司职责，已告知联系方式"
		}
	}
	// The demo resident's own: one closed, one in progress, one just sent.
	mine := []demoRequest{
		{kind: request.KindREPAIR, channel: request.ChannelAPP, title: "卫生间灯坏了", desc: "灯泡换了还是不亮，可能是线路问题。", status: request.StatusCLOSED, created: at(40)},
		{kind: request.KindELDERLY_CARE, channel: request.ChannelAPP, title: "想报名助餐服务", desc: "一个人住，中午不想做饭。", status: request.StatusIN_PROGRESS, created: at(2)},
		{kind: request.KindSUGGESTION, channel: request.ChannelAPP, title: "建议广场晚上多开一盏灯", desc: "晚上跳舞的人多，东边太暗。", status: request.StatusSUBMITTED, created: now.Add(-3 * time.Hour).UTC().Truncate(time.Second)},
	}
	daily := teams[teamDaily]
	for i := range mine {
		r := &mine[i]
		r.submitter = me
		r.accepted = r.created.Add(3 * time.Hour)
		r.assigned = r.accepted.Add(time.Hour)
		r.started = r.assigned.Add(5 * time.Hour)
		r.resolved = r.started.Add(24 * time.Hour)
		r.closed = r.resolved.Add(24 * time.Hour)
		r.due = r.accepted.Add(dueAfterDemo(r.kind))
		if daily != nil && len(daily.Edges.Memberships) > 0 {
			r.team, r.assignee = &daily.ID, &daily.Edges.Memberships[0].PersonID
		}
		o := request.OutcomeSOLVED
		r.outcome, r.resolution, r.satisfaction = &o, resolutionText(o, r.kind), 5
	}
	out = append(out, mine...)
	slices.SortStableFunc(out, func(a, b demoRequest) int { return a.created.Compare(b.created) })
	for i := range out {
		settle(&out[i], now)
	}
	// One in progress is overdue: due yesterday.
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].status == request.StatusIN_PROGRESS && out[i].submitter != me {
			out[i].due = now.Add(-24 * time.Hour).UTC().Truncate(time.Second)
			break
		}
	}
	return out
}

// settle keeps r's story in the past: its status goes back to the last
// step that has happened by now, and a request without a team is never
// ASSIGNED or IN_PROGRESS (staff settle it themselves).
func settle(r *demoRequest, now time.Time) {
	if r.status == request.StatusREJECTED {
		return
	}
	order := []request.Status{request.StatusSUBMITTED, request.StatusACCEPTED, request.StatusASSIGNED, request.StatusIN_PROGRESS, request.StatusRESOLVED, request.StatusCLOSED}
	times := []time.Time{r.created, r.accepted, r.assigned, r.started, r.resolved, r.closed}
	reached := slices.Index(order, r.status)
	for reached > 0 && times[reached].After(now) {
		reached--
	}
	if r.team == nil && (order[reached] == request.StatusASSIGNED || order[reached] == request.StatusIN_PROGRESS) {
		reached = 1
	}
	r.status = order[reached]
}

// dueAfterDemo mirrors the service's default due times for the demo's
// story (requests.DueAfter; demo cannot import the service's package
// without a cycle through app, so the demo only needs plausible values).
func dueAfterDemo(k request.Kind) time.Duration {
	switch k {
	case request.KindREPAIR:
		return 3 * 24 * time.Hour
	case request.KindELDERLY_CARE, request.KindHEALTH:
		return 2 * 24 * time.Hour
	case request.KindEMPLOYMENT, request.KindSUGGESTION:
		return 14 * 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

func resolutionText(o request.Outcome, k request.Kind) string {
	switch o {
	case request.OutcomeMEDIATED:
		return "调解员组织双方面对面沟通，达成一致并签订调解协议。"
	case request.OutcomeREFERRED:
		if k == request.KindDISPUTE {
			return "双方分歧较大，已引导至司法所和法院诉前调解。"
		}
		return "已转交相关部门办理，并告知居民办理进度查询方式。"
	case request.OutcomeEXPLAINED:
		return "已向居民详细解释政策和办理流程。"
	case request.OutcomeUNRESOLVED:
		return "多次协调未能解决，已记录并上报街道。"
	}
	switch k {
	case request.KindREPAIR:
		return "志愿者上门维修，已恢复正常。"
	case request.KindELDERLY_CARE:
		return "已安排志愿者定期上门服务。"
	case request.KindENVIRONMENT:
		return "已清理并联系物业加强巡查。"
	case request.KindHEALTH:
		return "医疗队志愿者已上门服务，建立随访档案。"
	}
	return "已办理完毕。"
}

// insertRequests writes the planned requests with their numbers and
// histories.
func insertRequests(ctx context.Context, client *ent.Client, cid, coord int, plan []demoRequest) error {
	seqs := map[int]int{}
	var creates []*ent.RequestCreate
	for _, r := range plan {
		year := r.created.In(cst.Zone).Year()
		seqs[year]++
		b := client.Request.Create().SetCommunityID(cid).SetYear(year).SetSeq(seqs[year]).
			SetNumber(fmt.Sprintf("QJ-%d-%04d", year, seqs[year])).SetKind(r.kind).SetChannel(r.channel).
			SetStatus(r.status).SetTitle(r.title).SetDescription(r.desc).SetSubmitterID(r.submitter).
			SetNillableHouseholdID(r.household).SetCreatedByID(creator(r, coord)).SetCreatedAt(r.created).SetUpdatedAt(r.created)
		if r.status != request.StatusSUBMITTED && r.status != request.StatusREJECTED {
			b.SetAcceptedAt(r.accepted).SetDueAt(r.due)
		}
		if slices.Contains([]request.Status{request.StatusASSIGNED, request.StatusIN_PROGRESS, request.StatusRESOLVED, request.StatusCLOSED}, r.status) {
			b.SetNillableTeamID(r.team).SetNillableAssigneeID(r.assignee)
		}
		if r.status == request.StatusRESOLVED || r.status == request.StatusCLOSED {
			b.SetOutcome(*r.outcome).SetResolution(r.resolution).SetResolvedAt(r.resolved)
		}
		if r.status == request.StatusCLOSED {
			b.SetSatisfaction(r.satisfaction).SetConfirmedByStaff(r.byStaff).SetClosedAt(r.closed)
		}
		creates = append(creates, b)
	}
	ids, err := insert(ctx, creates, func(b []*ent.RequestCreate) ([]*ent.Request, error) { return client.Request.CreateBulk(b...).Save(ctx) },
		func(e *ent.Request) int { return e.ID })
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	var evs []*ent.RequestEventCreate
	for i, r := range plan {
		ev := func(at time.Time, action string, st requestevent.Status, actor int, note string) {
			evs = append(evs, client.RequestEvent.Create().SetCommunityID(cid).SetRequestID(ids[i]).SetAt(at).
				SetAction(action).SetStatus(st).SetActorID(actor).SetNote(note))
		}
		ev(r.created, "SUBMIT", requestevent.StatusSUBMITTED, creator(r, coord), string(r.channel))
		if r.status == request.StatusREJECTED {
			ev(r.accepted, "REJECT", requestevent.StatusREJECTED, coord, r.rejectReason)
			continue
		}
		steps := []struct {
			reached request.Status
			at      time.Time
			action  string
			actor   int
			note    string
		}{
			{request.StatusACCEPTED, r.accepted, "ACCEPT", coord, "due " + r.due.In(cst.Zone).Format("2006-01-02 15:04")},
			{request.StatusASSIGNED, r.assigned, "ASSIGN", coord, ""},
			{request.StatusIN_PROGRESS, r.started, "START", derefOr(r.assignee, coord), ""},
			{request.StatusRESOLVED, r.resolved, "RESOLVE", derefOr(r.assignee, coord), r.resolution},
			{request.StatusCLOSED, r.closed, "CONFIRM", confirmer(r, coord), ""},
		}
		order := []request.Status{request.StatusSUBMITTED, request.StatusACCEPTED, request.StatusASSIGNED, request.StatusIN_PROGRESS, request.StatusRESOLVED, request.StatusCLOSED}
		reached := slices.Index(order, r.status)
		for _, s := range steps {
			if slices.Index(order, s.reached) > reached {
				break
			}
			if r.team == nil && (s.reached == request.StatusASSIGNED || s.reached == request.StatusIN_PROGRESS) {
				continue // settled by staff without a team
			}
			ev(s.at, s.action, requestevent.Status(s.reached), s.actor, s.note)
		}
	}
	if _, err := insert(ctx, evs, func(b []*ent.RequestEventCreate) ([]*ent.RequestEvent, error) {
		return client.RequestEvent.CreateBulk(b...).Save(ctx)
	}, func(e *ent.RequestEvent) int { return e.ID }); err != nil {
		return fmt.Errorf("request events: %w", err)
	}
	return nil
}

// creator is who entered r: the resident by app, staff otherwise.
func creator(r demoRequest, coord int) int {
	if r.channel == request.ChannelAPP {
		return r.submitter
	}
	return coord
}

func confirmer(r demoRequest, coord int) int {
	if r.byStaff {
		return coord
	}
	return r.submitter
}

func derefOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
