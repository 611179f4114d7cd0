package exports_test

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/auditentry"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/mask"
	"linli/viewer"
)

type site struct {
	e         *linlitest.Env
	community *ent.Community
	staff     string
	staffID   int
	team      *ent.Team
}

func newSite(t *testing.T, e *linlitest.Env) *site {
	c := e.Community(t, "前进社区")
	staff, token := e.Person(t, c.ID, "社工", viewer.Coordinator)
	team, err := e.Client.Team.Create().SetCommunityID(c.ID).SetName("医疗健康").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return &site{e: e, community: c, staff: token, staffID: staff.ID, team: team}
}

var seq atomic.Int64

func code() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *site) register(t *testing.T, sl *ent.Slot, name string, st registration.Status) (*ent.Registration, *ent.Person) {
	t.Helper()
	p, _ := s.e.Person(t, s.community.ID, name)
	r, err := s.e.Client.Registration.Create().SetCommunityID(s.community.ID).SetSlotID(sl.ID).SetActivityID(sl.ActivityID).
		SetPersonID(p.ID).SetStatus(st).SetCheckInCode(code()).Save(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return r, p
}

func (s *site) manual(t *testing.T, a *ent.Activity, r *ent.Registration, kind string, at time.Time) {
	t.Helper()
	var out struct{ ManualCheckIn struct{ Status string } }
	s.e.Do(t, s.staff, `mutation($in: ManualCheckInInput!) { manualCheckIn(input: $in) { status } }`, map[string]any{"in": map[string]any{
		"activityID": s.e.ID(a.ID), "kind": kind, "nonce": fmt.Sprintf("n%d", seq.Add(1)), "registrationID": s.e.ID(r.ID),
		"at": at.UTC().Format(time.RFC3339Nano)}}).Decode(t, &out)
	if out.ManualCheckIn.Status != "OK" {
		t.Fatalf("%s: %s", kind, out.ManualCheckIn.Status)
	}
}

// get downloads path as token and returns the status and body.
func get(t *testing.T, e *linlitest.Env, token, path string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// table parses a download back into rows of text, whichever its format.
func table(t *testing.T, format string, body []byte) [][]string {
	t.Helper()
	if format == "xlsx" {
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("CSV without the UTF-8 BOM: %q", body[:min(len(body), 20)])
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// trim drops the trailing empty cells excelize leaves out.
func trim(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for len(r) > 0 && r[len(r)-1] == "" {
			r = r[:len(r)-1]
		}
		out[i] = r
	}
	return out
}

var cst = time.FixedZone("CST", 8*3600)

func clock(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(cst).Format("2006-01-02 15:04")
}

// TestSignInSheet: the sheet lists everyone registered but not cancelled,
// with slot and times, phones in full for staff and masked for the team's
// leader; the same rows in CSV and XLSX; anyone else gets 404, nobody 401;
// each download is in the audit log with who, what and the client address.
func TestSignInSheet(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e)
		start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		a, slots := e.Activity(t, s.community.ID, linlitest.ActivitySpec{Title: "义诊", StartsAt: start,
			Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 10}, {Name: "医生", Kind: slot.KindVOLUNTEER, Capacity: 3}}})
		if err := a.Update().SetTeamID(s.team.ID).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		in, _ := s.register(t, slots[0], "张三", registration.StatusCONFIRMED)
		out, _ := s.register(t, slots[1], "李医生", registration.StatusCONFIRMED)
		s.register(t, slots[0], "王五", registration.StatusCONFIRMED)
		s.register(t, slots[0], "赵六", registration.StatusCANCELLED)
		s.manual(t, a, in, "IN", start.Add(5*time.Minute))
		s.manual(t, a, out, "IN", start)
		s.manual(t, a, out, "OUT", start.Add(40*time.Minute))

		regs, err := e.Client.Registration.Query().Where(registration.ActivityID(a.ID), registration.StatusNEQ(registration.StatusCANCELLED)).
			Order(registration.ByID()).WithPerson().WithSlot().All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		status := map[registration.Status]string{registration.StatusCONFIRMED: "已报名", registration.StatusCHECKED_IN: "已签到", registration.StatusCHECKED_OUT: "已签退"}
		want := func(masked bool) [][]string {
			rows := [][]string{{"序号", "姓名", "手机号", "岗位", "状态", "状态代码", "签到时间", "签退时间"}}
			for i, r := range regs {
				phone := r.Edges.Person.Phone
				if masked {
					phone = mask.PhoneMasked(phone)
				}
				rows = append(rows, []string{fmt.Sprint(i + 1), r.Edges.Person.DisplayName, phone, r.Edges.Slot.Name, status[r.Status], string(r.Status),
					clock(r.CheckedInAt), clock(r.CheckedOutAt)})
			}
			return trim(rows)
		}
		path := "/exports/activities/" + e.ID(a.ID) + "/sign-in-sheet"
		leader, leaderToken := e.Person(t, s.community.ID, "队长", viewer.TeamLeader)
		if err := e.Client.TeamMembership.Create().SetCommunityID(s.community.ID).SetTeamID(s.team.ID).SetPersonID(leader.ID).
			SetRole("LEADER").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		// The leader's token was issued before the membership: a fresh one.
		sess, err := e.App.Auth.IssueToken(e.Sys(), leader.ID)
		if err != nil {
			t.Fatal(err)
		}
		leaderToken = sess.Token
		for _, format := range []string{"csv", "xlsx"} {
			st, hdr, body := get(t, e, s.staff, path+"?format="+format)
			if st != 200 {
				t.Fatalf("%s: %d %s", format, st, body)
			}
			if cd := hdr.Get("Content-Disposition"); !strings.Contains(cd, url.PathEscape("义诊-签到表."+format)) {
				t.Fatalf("Content-Disposition %q", cd)
			}
			if got := trim(table(t, format, body)); !reflect.DeepEqual(got, want(false)) {
				t.Fatalf("%s as staff:\n got %q\nwant %q", format, got, want(false))
			}
			st, _, body = get(t, e, leaderToken, path+"?format="+format)
			if got := trim(table(t, format, body)); st != 200 || !reflect.DeepEqual(got, want(true)) {
				t.Fatalf("%s as the team's leader (%d):\n got %q\nwant %q", format, st, got, want(true))
			}
		}
		_, resident := e.Person(t, s.community.ID, "居民")
		if st, _, _ := get(t, e, resident, path); st != 404 {
			t.Fatalf("a resident: %d", st)
		}
		if st, _, _ := get(t, e, "", path); st != 401 {
			t.Fatalf("nobody: %d", st)
		}
		if st, _, _ := get(t, e, s.staff, path+"?format=pdf"); st != 400 {
			t.Fatalf("format=pdf: %d", st)
		}
		entries, err := e.Client.AuditEntry.Query().Where(auditentry.Action("export.sign_in_sheet")).Order(auditentry.ByID()).All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 4 || *entries[0].ActorID != s.staffID || *entries[1].ActorID != leader.ID ||
			*entries[0].SubjectID != a.ID || entries[0].ClientAddress != "127.0.0.1" || entries[0].CommunityID != s.community.ID ||
			!strings.Contains(entries[2].Detail, "format=xlsx") || time.Since(entries[0].At) > time.Minute {
			t.Fatalf("audit entries %+v", entries)
		}
	})
}

// TestServiceRecordsAndLedger: the service records of a period and the
// requests ledger, parsed back from CSV and XLSX, are the rows.
func TestServiceRecordsAndLedger(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e)
		start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
		a, slots := e.Activity(t, s.community.ID, linlitest.ActivitySpec{Title: "黄梅戏演出", StartsAt: start,
			Category: activity.CategorySQUARE, Slots: []linlitest.SlotSpec{{Name: "演员", Kind: slot.KindVOLUNTEER, Capacity: 5}}})
		var people []*ent.Person
		for i, name := range []string{"甲", "乙", "丙"} {
			r, p := s.register(t, slots[0], "志愿者"+name, registration.StatusCONFIRMED)
			s.manual(t, a, r, "IN", start)
			s.manual(t, a, r, "OUT", start.Add(time.Duration(30+20*i)*time.Minute))
			people = append(people, p)
		}
		recs, err := e.Client.ServiceRecord.Query().Order(ent.Asc("id")).WithPerson().All(e.Sys())
		if err != nil || len(recs) != 3 {
			t.Fatalf("records %v %v", recs, err)
		}
		hours := map[int]string{30: "0.50", 50: "0.83", 70: "1.17"}
		want := [][]string{{"姓名", "手机号", "活动名称", "服务日期", "服务地点", "服务内容", "服务时长(小时)", "组织单位", "负责人", "开始时间", "结束时间", "待复核"}}
		for _, r := range recs {
			want = append(want, []string{r.Edges.Person.DisplayName, r.Edges.Person.Phone, r.ActivityName, r.ServiceDate, r.Place,
				r.ServiceContent, hours[r.Minutes], r.OrganizingTeam, r.PersonInCharge, clock(&r.StartedAt), clock(&r.EndedAt), "否"})
		}
		from, to := url.QueryEscape(start.Add(-time.Hour).Format(time.RFC3339)), url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
		for _, format := range []string{"csv", "xlsx"} {
			st, _, body := get(t, e, s.staff, "/exports/service-records?format="+format+"&from="+from+"&to="+to)
			if st != 200 {
				t.Fatalf("%d %s", st, body)
			}
			got := table(t, format, body)
			if format == "xlsx" {
				for i := 1; i < len(got); i++ { // numbers come back as numbers
					got[i][6] = fmt.Sprintf("%.2f", atof(got[i][6]))
				}
			}
			if !reflect.DeepEqual(trim(got), trim(want)) {
				t.Fatalf("%s:\n got %q\nwant %q", format, got, want)
			}
		}
		if st, _, body := get(t, e, s.staff, "/exports/service-records?from="+from); st != 400 || !strings.Contains(string(body), `"field":"to"`) {
			t.Fatalf("without to: %d %s", st, body)
		}
		_, volunteerToken := e.Person(t, s.community.ID, "志愿者丁", viewer.Volunteer)
		if st, _, _ := get(t, e, volunteerToken, "/exports/service-records?from="+from+"&to="+to); st != 403 {
			t.Fatalf("a volunteer: %d", st)
		}

		// The ledger.
		h, err := e.Client.Household.Create().SetCommunityID(s.community.ID).SetAddress("上码头小区3栋2单元301").SetSize(3).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		created := time.Now().UTC().Add(-30 * time.Hour).Truncate(time.Second)
		resolved := created.Add(5 * time.Hour)
		r1, err := e.Client.Request.Create().SetCommunityID(s.community.ID).SetNumber("QJ-2026-0001").SetYear(2026).SetSeq(1).
			SetKind(request.KindDISPUTE).SetChannel(request.ChannelWALK_IN).SetStatus(request.StatusCLOSED).SetTitle("邻里噪音纠纷").
			SetCreatedAt(created).SetAcceptedAt(created.Add(time.Hour)).SetResolvedAt(resolved).SetClosedAt(resolved.Add(time.Hour)).
			SetOutcome(request.OutcomeMEDIATED).SetResolution("调解成功").SetSatisfaction(5).SetHouseholdID(h.ID).
			SetSubmitterID(people[0].ID).SetTeamID(s.team.ID).SetAssigneeID(people[1].ID).Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Client.Request.Create().SetCommunityID(s.community.ID).SetNumber("QJ-2026-0002").SetYear(2026).SetSeq(2).
			SetKind(request.KindREPAIR).SetChannel(request.ChannelPHONE).SetTitle("路灯不亮").SetCreatedAt(created.Add(time.Hour)).
			Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		wantLedger := [][]string{
			{"编号", "登记时间", "类别", "类别代码", "渠道", "渠道代码", "标题", "状态", "状态代码", "反映人", "住户地址", "承办队伍", "承办人",
				"受理时间", "办结时间", "办理结果", "结果代码", "处理情况", "确认时间", "满意度"},
			{"QJ-2026-0001", clock(&created), "矛盾纠纷", "DISPUTE", "来访", "WALK_IN", "邻里噪音纠纷", "已评价关闭", "CLOSED", people[0].DisplayName, h.Address, s.team.Name,
				people[1].DisplayName, clock(r1.AcceptedAt), clock(r1.ResolvedAt), "调解成功", "MEDIATED", "调解成功", clock(r1.ClosedAt), "5"},
			{"QJ-2026-0002", clock(ptr(created.Add(time.Hour))), "维修", "REPAIR", "电话", "PHONE", "路灯不亮", "已提交", "SUBMITTED"},
		}
		lf, lt := url.QueryEscape(created.Add(-time.Minute).Format(time.RFC3339)), url.QueryEscape(time.Now().Format(time.RFC3339))
		for _, format := range []string{"csv", "xlsx"} {
			st, _, body := get(t, e, s.staff, "/exports/requests?format="+format+"&from="+lf+"&to="+lt)
			if got := trim(table(t, format, body)); st != 200 || !reflect.DeepEqual(got, trim(wantLedger)) {
				t.Fatalf("%s ledger (%d):\n got %q\nwant %q", format, st, got, wantLedger)
			}
		}
		n, err := e.Client.AuditEntry.Query().Where(auditentry.ActionIn("export.service_records", "export.requests"),
			auditentry.ActorID(s.staffID)).Count(e.Sys())
		if err != nil || n != 4 {
			t.Fatalf("audit entries of the exports: %d %v", n, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func atof(s string) float64 {
	var f float64
	_, _ = fmt.Sscan(s, &f)
	return f
}

// TestStatisticsExport: the statistics sheet holds the same figures as
// communityStatistics.
func TestStatisticsExport(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e)
		start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		a, slots := e.Activity(t, s.community.ID, linlitest.ActivitySpec{StartsAt: start})
		r, _ := s.register(t, slots[0], "张三", registration.StatusCONFIRMED)
		s.manual(t, a, r, "IN", start)
		from, to := start.Add(-24*time.Hour), start.Add(24*time.Hour)
		var out struct {
			CommunityStatistics struct{ ActivitiesHeld, ParticipantPersonTimes, BeneficiaryPersonTimes int }
		}
		e.Do(t, s.staff, `query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) { activitiesHeld participantPersonTimes beneficiaryPersonTimes } }`,
			map[string]any{"c": e.ID(s.community.ID), "f": from, "t": to}).Decode(t, &out)
		st, _, body := get(t, e, s.staff, "/exports/statistics?format=xlsx&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)))
		if st != 200 {
			t.Fatalf("%d %s", st, body)
		}
		got := map[string]string{}
		for _, row := range table(t, "xlsx", body)[1:] {
			if len(row) == 3 && row[1] == "" {
				got[strings.Fields(row[0])[0]] = row[2]
			}
		}
		f := out.CommunityStatistics
		if got["activitiesHeld"] != fmt.Sprint(f.ActivitiesHeld) || got["participantPersonTimes"] != fmt.Sprint(f.ParticipantPersonTimes) ||
			got["beneficiaryPersonTimes"] != fmt.Sprint(f.BeneficiaryPersonTimes) || f.ActivitiesHeld != 1 || f.ParticipantPersonTimes != 1 {
			t.Fatalf("sheet %v, query %+v", got, f)
		}
	})
}

// TestExportStreamsInConstantMemory: a 100,000-row export (service
// records) grows the heap by a bounded amount, far less than the rows take,
// in both formats.
func TestExportStreamsInConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 100,000 rows")
	}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e)
		p, _ := e.Person(t, s.community.ID, "志愿者", viewer.Volunteer)
		const n = bigExport
		start := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
		for i := 0; i < n; i += 1000 {
			bulk := make([]*ent.ServiceRecordCreate, 0, 1000)
			for j := i; j < min(n, i+1000); j++ {
				at := start.Add(time.Duration(j) * 500 * time.Millisecond)
				bulk = append(bulk, e.Client.ServiceRecord.Create().SetCommunityID(s.community.ID).SetPersonID(p.ID).
					SetActivityName("社区文化广场黄梅戏演出").SetServiceDate(at.In(cst).Format("2006-01-02")).SetPlace("社区文化广场").
					SetServiceContent("演出服务与现场秩序维护").SetStartedAt(at).SetEndedAt(at.Add(time.Hour)).SetMinutes(60).
					SetOrganizingTeam("文化文艺").SetPersonInCharge("社工"))
			}
			if err := e.Client.ServiceRecord.CreateBulk(bulk...).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
		q := "/exports/service-records?from=" + url.QueryEscape(start.Add(-time.Hour).Format(time.RFC3339)) + "&to=" +
			url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
		// The heap then tracks what is live, not garbage not yet collected.
		defer debug.SetGCPercent(debug.SetGCPercent(20))
		for _, format := range []string{"csv", "xlsx"} {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var peak atomic.Uint64
			done := make(chan struct{})
			go func() {
				var m runtime.MemStats
				for {
					select {
					case <-done:
						return
					case <-time.After(20 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}()
			req, _ := http.NewRequest(http.MethodGet, e.Server.URL+q+"&format="+format, nil)
			req.Header.Set("Authorization", "Bearer "+s.staff)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var rows int
			var size int64
			if format == "csv" {
				cr := csv.NewReader(resp.Body)
				for {
					if _, err := cr.Read(); err == io.EOF {
						break
					} else if err != nil {
						t.Fatal(err)
					}
					rows++
				}
			} else {
				// The reader side needs the whole zip; count its bytes only.
				size, err = io.Copy(io.Discard, resp.Body)
				if err != nil {
					t.Fatal(err)
				}
			}
			resp.Body.Close()
			close(done)
			growth := int64(peak.Load()) - int64(before.HeapInuse)
			t.Logf("%s: %d rows, %d bytes, heap growth %.1f MB", format, rows, size, float64(growth)/(1<<20))
			if format == "csv" && rows != n+1 {
				t.Fatalf("%d rows", rows)
			}
			// 100,000 records as Ent rows take ~100 MB; a page takes ~0.5 MB,
			// excelize's stream buffer up to 16 MB (32 MB of capacity).
			limit := int64(16 << 20)
			if format == "xlsx" {
				limit = 48 << 20
			}
			if growth > limit {
				t.Fatalf("%s: the heap grew by %d MB exporting %d rows", format, growth>>20, n)
			}
		}
	})
}
