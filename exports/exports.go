package exports

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/servicerecord"
	"linli/ent/team"
	"linli/gid"
	"linli/hours"
	"linli/mask"
	"linli/readlog"
	"linli/readlog/entlog"
	"linli/statistics"
	"linli/viewer"
)

// Page is how many rows one read fetches: memory holds one page at a time.
const Page = 500

// Handler serves the exports.
type Handler struct {
	Client     *ent.Client
	Statistics *statistics.Service
	IDs        *gid.Codec
}

// Register adds the export routes to mux, each wrapped by auth (which puts
// the bearer token's viewer in the request context):
//
//	GET /exports/activities/{id}/sign-in-sheet
//	GET /exports/service-records?from=&to=
//	GET /exports/requests?from=&to=
//	GET /exports/statistics?from=&to=
//
// each with ?format=csv (default) or xlsx, and for admins ?communityID=.
func (h *Handler) Register(mux *http.ServeMux, auth func(http.Handler) http.Handler) {
	mux.Handle("GET /exports/activities/{id}/sign-in-sheet", auth(http.HandlerFunc(h.signInSheet)))
	mux.Handle("GET /exports/service-records", auth(http.HandlerFunc(h.serviceRecords)))
	mux.Handle("GET /exports/requests", auth(http.HandlerFunc(h.requests)))
	mux.Handle("GET /exports/statistics", auth(http.HandlerFunc(h.statistics)))
}

func writeError(w http.ResponseWriter, err error) {
	e := &apperr.Error{Code: apperr.Internal, Message: "internal error"}
	switch {
	case errors.As(err, &e):
	case errors.Is(err, authz.ErrUnauthenticated):
		e = &apperr.Error{Code: apperr.Unauthenticated, Message: "authentication required"}
	case errors.Is(err, authz.ErrForbidden):
		e = &apperr.Error{Code: apperr.Forbidden, Message: "you are not allowed to export this"}
	}
	apperr.WriteHTTP(w, apperr.HTTPStatus(e.Code), e)
}

func format(r *http.Request) (Format, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "csv":
		return CSV, nil
	case "xlsx":
		return XLSX, nil
	}
	return "", apperr.Invalid("format", "format must be csv or xlsx")
}

// period reads from and to: a day (2026-01-01, China Standard Time) or an
// RFC 3339 time; to is exclusive.
func period(r *http.Request) (from, to time.Time, err error) {
	parse := func(name string) (time.Time, error) {
		s := r.URL.Query().Get(name)
		if s == "" {
			return time.Time{}, apperr.Invalid(name, "%s is required (2026-01-01 or an RFC 3339 time)", name)
		}
		if t, err := time.ParseInLocation("2006-01-02", s, cst.Zone); err == nil {
			return t, nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, apperr.Invalid(name, "%s must be a day (2026-01-01) or an RFC 3339 time", name)
		}
		return t, nil
	}
	if from, err = parse("from"); err != nil {
		return
	}
	if to, err = parse("to"); err != nil {
		return
	}
	if !to.After(from) {
		err = apperr.Invalid("to", "to must be after from")
	}
	return
}

// community is the community an export is of: ?communityID= for admins,
// otherwise the viewer's own; only staff of it (and admins) may export it.
func (h *Handler) community(r *http.Request) (int, error) {
	v := viewer.FromContext(r.Context())
	if v == nil {
		return 0, authz.ErrUnauthenticated
	}
	cid := v.CommunityID
	if s := r.URL.Query().Get("communityID"); s != "" {
		id, err := h.IDs.Decode(s)
		if err != nil {
			return 0, apperr.Invalid("communityID", "not a community ID")
		}
		cid = id
	}
	return cid, authz.Exports(v, cid)
}

// begin writes the audit entry of an export and starts its sheet.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, e audit.Entry, name string, header []string) (sheet, error) {
	f, err := format(r)
	if err != nil {
		return nil, err
	}
	e.Detail = strings.TrimSpace(fmt.Sprintf("format=%s %s", f, e.Detail))
	if err := audit.Record(r.Context(), h.Client, e); err != nil {
		return nil, err
	}
	return start(w, f, name, header)
}

// finish closes the sheet; an error after the first byte can only cut the
// download short (the client sees a truncated file, the log the cause).
func finish(w http.ResponseWriter, s sheet, err error) {
	if err == nil {
		err = s.close()
	}
	if err != nil {
		panic(http.ErrAbortHandler)
	}
}

// signInSheet is an activity's 签到表: everyone registered (not cancelled
// or waiting), with their slot and check-in and check-out times. Staff of
// its community see phone numbers in full; the organisers of its team (who
// may export it too) see them masked.
func (h *Handler) signInSheet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewer.FromContext(ctx)
	if v == nil {
		writeError(w, authz.ErrUnauthenticated)
		return
	}
	id, err := h.IDs.Decode(r.PathValue("id"))
	if err != nil {
		writeError(w, apperr.Invalid("id", "not an activity ID"))
		return
	}
	sys := viewer.System(ctx)
	a, err := h.Client.Activity.Query().Where(activity.ID(id)).Only(sys)
	if err != nil || authz.ExportSignInSheet(v, a.CommunityID, a.TeamID) != nil {
		if err != nil && !ent.IsNotFound(err) {
			writeError(w, err)
			return
		}
		writeError(w, apperr.New(apperr.NotFound, "no such activity"))
		return
	}
	s, err := h.begin(w, r, audit.Entry{CommunityID: a.CommunityID, Action: "export.sign_in_sheet",
		Subject: fmt.Sprintf("Activity:%d %s", a.ID, a.Title), SubjectID: &a.ID}, a.Title+"-签到表",
		[]string{"序号", "姓名", "手机号", "岗位", "状态", "状态代码", "签到时间", "签退时间"})
	if err != nil {
		writeError(w, err)
		return
	}
	n := 0
	err = pages(func(after int) (int, error) {
		regs, err := h.Client.Registration.Query().Where(registration.ActivityID(a.ID), registration.IDGT(after),
			registration.StatusIn(registration.StatusCONFIRMED, registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT, registration.StatusNO_SHOW)).
			Order(registration.ByID()).Limit(Page).WithPerson().WithSlot().All(sys)
		if err != nil {
			return 0, err
		}
		// Read as the system for the viewer: its health sign-ups are theirs
		// to account for in the sensitive-read log.
		if err := entlog.NoteHealthSignups(ctx, readlog.FromContext(ctx), h.Client, regs); err != nil {
			return 0, err
		}
		for _, reg := range regs {
			n++
			p, sl := reg.Edges.Person, reg.Edges.Slot
			if err := s.row([]any{n, p.DisplayName, mask.Phone(ctx, p.CommunityID, p.ID, p.Phone), sl.Name,
				label(statusText, reg.Status), string(reg.Status), reg.CheckedInAt, reg.CheckedOutAt}); err != nil {
				return 0, err
			}
		}
		return last(regs, func(r *ent.Registration) int { return r.ID }), nil
	})
	finish(w, s, err)
}

// serviceRecords are the volunteer service records that started in the
// period, in the fields the national volunteer-record rules ask for.
func (h *Handler) serviceRecords(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cid, err := h.community(r)
	if err != nil {
		writeError(w, err)
		return
	}
	from, to, err := period(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s, err := h.begin(w, r, audit.Entry{CommunityID: cid, Action: "export.service_records",
		Subject: "service records " + span(from, to)}, "志愿服务记录-"+day(from)+"-"+day(to),
		[]string{"姓名", "手机号", "活动名称", "服务日期", "服务地点", "服务内容", "服务时长(小时)", "组织单位", "负责人", "开始时间", "结束时间", "待复核"})
	if err != nil {
		writeError(w, err)
		return
	}
	sys := viewer.System(ctx)
	// In time order, a page at a time after the last (started_at, id):
	// the (community_id, started_at) index serves both range and order.
	err = timePages(from, func(at time.Time, after int) (time.Time, int, error) {
		recs, err := h.Client.ServiceRecord.Query().Where(servicerecord.CommunityID(cid),
			servicerecord.Or(servicerecord.StartedAtGT(at), servicerecord.And(servicerecord.StartedAt(at), servicerecord.IDGT(after))),
			servicerecord.StartedAtLT(to)).
			Order(servicerecord.ByStartedAt(), servicerecord.ByID()).Limit(Page).WithPerson().All(sys)
		if err != nil || len(recs) == 0 {
			return at, 0, err
		}
		for _, rec := range recs {
			p := rec.Edges.Person
			if err := s.row([]any{p.DisplayName, mask.Phone(ctx, p.CommunityID, p.ID, p.Phone), rec.ActivityName, rec.ServiceDate,
				rec.Place, rec.ServiceContent, hours.Of(rec.Minutes), rec.OrganizingTeam, rec.PersonInCharge,
				rec.StartedAt, rec.EndedAt, rec.FlaggedForReview}); err != nil {
				return at, 0, err
			}
		}
		l := recs[len(recs)-1]
		return l.StartedAt, last(recs, func(r *ent.ServiceRecord) int { return r.ID }), nil
	})
	finish(w, s, err)
}

// requests is the requests ledger (台账): every request received in the
// period with its handling.
func (h *Handler) requests(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cid, err := h.community(r)
	if err != nil {
		writeError(w, err)
		return
	}
	from, to, err := period(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s, err := h.begin(w, r, audit.Entry{CommunityID: cid, Action: "export.requests",
		Subject: "requests " + span(from, to)}, "诉求台账-"+day(from)+"-"+day(to),
		[]string{"编号", "登记时间", "类别", "类别代码", "渠道", "渠道代码", "标题", "状态", "状态代码", "反映人", "住户地址", "承办队伍", "承办人",
			"受理时间", "办结时间", "办理结果", "结果代码", "处理情况", "确认时间", "满意度"})
	if err != nil {
		writeError(w, err)
		return
	}
	sys := viewer.System(ctx)
	// In time order, like the service records.
	err = timePages(from, func(at time.Time, after int) (time.Time, int, error) {
		reqs, err := h.Client.Request.Query().Where(request.CommunityID(cid),
			request.Or(request.CreatedAtGT(at), request.And(request.CreatedAt(at), request.IDGT(after))),
			request.CreatedAtLT(to)).
			Order(request.ByCreatedAt(), request.ByID()).Limit(Page).WithSubmitter().WithHousehold().WithTeam().WithAssignee().All(sys)
		if err != nil || len(reqs) == 0 {
			return at, 0, err
		}
		for _, q := range reqs {
			var submitter, address, team, assignee string
			if p := q.Edges.Submitter; p != nil {
				submitter = p.DisplayName
			}
			if hh := q.Edges.Household; hh != nil {
				address = hh.Address
			}
			if t := q.Edges.Team; t != nil {
				team = t.Name
			}
			if p := q.Edges.Assignee; p != nil {
				assignee = p.DisplayName
			}
			var outcome, outcomeCode any
			if q.Outcome != nil {
				outcome, outcomeCode = label(outcomeText, *q.Outcome), string(*q.Outcome)
			}
			if err := s.row([]any{q.Number, q.CreatedAt, label(kindText, q.Kind), string(q.Kind), label(channelText, q.Channel), string(q.Channel),
				q.Title, label(requestStatusText, q.Status), string(q.Status),
				submitter, address, team, assignee, q.AcceptedAt, q.ResolvedAt, outcome, outcomeCode, q.Resolution, q.ClosedAt,
				q.Satisfaction}); err != nil {
				return at, 0, err
			}
		}
		return reqs[len(reqs)-1].CreatedAt, last(reqs, func(r *ent.Request) int { return r.ID }), nil
	})
	finish(w, s, err)
}

// statistics is the community's figures for the period: one figure a row,
// then the breakdowns.
func (h *Handler) statistics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cid, err := h.community(r)
	if err != nil {
		writeError(w, err)
		return
	}
	from, to, err := period(r)
	if err != nil {
		writeError(w, err)
		return
	}
	f, err := h.Statistics.Community(ctx, cid, from, to)
	if err != nil {
		writeError(w, err)
		return
	}
	s, err := h.begin(w, r, audit.Entry{CommunityID: cid, Action: "export.statistics",
		Subject: "statistics " + span(from, to)}, "统计-"+day(from)+"-"+day(to), []string{"指标", "分项", "数值", "分项代码"})
	if err != nil {
		writeError(w, err)
		return
	}
	names := map[int]string{}
	for _, t := range f.ByTeam {
		names[t.TeamID] = ""
	}
	if len(names) > 0 {
		ids := make([]int, 0, len(names))
		for id := range names {
			ids = append(ids, id)
		}
		teams, err := h.Client.Team.Query().Where(team.IDIn(ids...)).All(viewer.System(ctx))
		if err != nil {
			finish(w, s, err)
			return
		}
		for _, t := range teams {
			names[t.ID] = t.Name
		}
	}
	err = StatisticsRows(f, names, func(cells ...any) error {
		// Every row as wide as the header (a breakdown's code is the 4th).
		for len(cells) < 4 {
			cells = append(cells, "")
		}
		return s.row(cells)
	})
	finish(w, s, err)
}

// StatisticsRows lists the figures as (figure, part, value) rows.
// teams names the teams of f.ByTeam.
func StatisticsRows(f *statistics.Figures, teams map[int]string, row func(cells ...any) error) error {
	rows := [][]any{
		{"activitiesHeld 开展活动", "", f.ActivitiesHeld},
		{"participantPersonTimes 参与人次", "", f.ParticipantPersonTimes()},
		{"attendeePersonTimes 参加群众人次", "", f.AttendeePersonTimes},
		{"volunteerPersonTimes 志愿者人次", "", f.VolunteerPersonTimes},
		{"beneficiaryPersonTimes 受益人次", "", f.BeneficiaryPersonTimes()},
		{"serviceHours 服务时长(小时)", "", f.ServiceHours()},
		{"registeredVolunteers 注册志愿者", "", f.RegisteredVolunteers},
		{"residentPopulation 常住人口", "", f.ResidentPopulation},
		{"volunteerShare 志愿者占比", "", rate(f.VolunteerShare())},
		{"requestsReceived 收集诉求", "", f.RequestsReceived},
		{"requestsResolved 办结诉求", "", f.RequestsResolved},
		{"disputesMediated 调解纠纷", "", f.DisputesMediated},
		{"homeVisits 上门服务", "", f.HomeVisits},
		{"householdsVisited 走访户数", "", f.HouseholdsVisited},
		{"responseRate 响应率", "", rate(f.ResponseRate())},
		{"resolutionRate 解决率", "", rate(f.ResolutionRate())},
		{"satisfactionRate 满意率", "", rate(f.SatisfactionRate())},
	}
	for _, c := range f.ByCategory {
		l, code := label(categoryText, c.Category), string(c.Category)
		rows = append(rows, []any{"byCategory activitiesHeld 分类开展活动", l, c.ActivitiesHeld, code},
			[]any{"byCategory participantPersonTimes 分类参与人次", l, c.ParticipantPersonTimes, code})
	}
	for _, c := range f.ByServiceType {
		l, code := label(serviceTypeText, c.ServiceType), string(c.ServiceType)
		rows = append(rows, []any{"byServiceType activitiesHeld 服务类型开展活动", l, c.ActivitiesHeld, code},
			[]any{"byServiceType participantPersonTimes 服务类型参与人次", l, c.ParticipantPersonTimes, code})
	}
	for _, t := range f.ByTeam {
		team := teams[t.TeamID]
		rows = append(rows, []any{"byTeam activitiesHeld 队伍开展活动", team, t.ActivitiesHeld},
			[]any{"byTeam volunteerPersonTimes 队伍志愿者人次", team, t.VolunteerPersonTimes},
			[]any{"byTeam serviceHours 队伍服务时长(小时)", team, t.ServiceHours()},
			[]any{"byTeam homeVisits 队伍上门服务", team, t.HomeVisits})
	}
	for _, m := range f.ByMonth {
		rows = append(rows, []any{"byMonth activitiesHeld 月度开展活动", m.Month, m.ActivitiesHeld},
			[]any{"byMonth participantPersonTimes 月度参与人次", m.Month, m.ParticipantPersonTimes},
			[]any{"byMonth requestsReceived 月度收集诉求", m.Month, m.RequestsReceived})
	}
	for _, r := range rows {
		if err := row(r...); err != nil {
			return err
		}
	}
	return nil
}

// pages calls page with the last ID seen (0 first) until it returns 0.
func pages(page func(after int) (int, error)) error {
	after := 0
	for {
		next, err := page(after)
		if err != nil || next == 0 {
			return err
		}
		after = next
	}
}

// timePages is pages for a time-ordered listing from from: page gets the
// last (time, id) seen (from and 0 first: from itself is included since
// every row has an id above 0) and returns the new last, id 0 at the end.
func timePages(from time.Time, page func(at time.Time, after int) (time.Time, int, error)) error {
	at, after := from, 0
	for {
		t, next, err := page(at, after)
		if err != nil || next == 0 {
			return err
		}
		at, after = t, next
	}
}

func last[T any](rows []T, id func(T) int) int {
	if len(rows) < Page {
		return 0
	}
	return id(rows[len(rows)-1])
}

func day(t time.Time) string { return t.In(cst.Zone).Format("20060102") }

func span(from, to time.Time) string {
	return from.UTC().Format(time.RFC3339) + ".." + to.UTC().Format(time.RFC3339)
}
