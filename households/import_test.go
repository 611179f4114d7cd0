package households_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"linli/app"
	"linli/ent/household"
	"linli/ent/person"
	"linli/ent/teammembership"
	"linli/linlitest"
)

const importSheet = `mutation($kind: ImportKind!, $file: Upload!, $dry: Boolean!) {
  importSpreadsheet(kind: $kind, file: $file, dryRun: $dry) { kind dryRun committed rows created updated errors { row column code message } }
}`

type importOut struct {
	ImportSpreadsheet struct {
		Kind                   string
		DryRun, Committed      bool
		Rows, Created, Updated int
		Errors                 []struct {
			Row          int
			Column, Code string
			Message      string
		}
	}
}

func runImport(t *testing.T, e *linlitest.Env, token, kind string, dry bool, name string, file []byte) importOut {
	t.Helper()
	var out importOut
	upload(t, e, token, importSheet, map[string]any{"kind": kind, "dry": dry}, name, file).Decode(t, &out)
	return out
}

// xlsx builds a workbook with one sheet of rows.
func xlsx(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A households sheet as a community keeps it (CSV, GB18030 as Excel saves
// it on Chinese Windows): a dry run reports the bad rows by row, column and
// code and writes nothing; a commit with a bad row writes nothing either;
// the corrected sheet commits every row; importing it again updates.
func TestImportHouseholdsCSV(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		sheet := "地址,户主,电话,人数,关爱标签\n" +
			"上码头小区1栋101,王大爷,13800000001,1,空巢老人、低保\n" +
			"\n" +
			"上码头小区1栋102,李阿姨,,2,\n" +
			"上码头小区1栋103,,12ab,三,独生子女\n" +
			"上码头小区1栋101,张三,13800000003,2,残疾人\n"
		gbk, err := simplifiedchinese.GB18030.NewEncoder().String(sheet)
		if err != nil {
			t.Fatal(err)
		}
		count := func() int {
			n, err := e.Client.Household.Query().Where(household.CommunityID(w.a.ID)).Count(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, dry := range []bool{true, false} {
			out := runImport(t, e, w.coord, "HOUSEHOLDS", dry, "住户.csv", []byte(gbk)).ImportSpreadsheet
			if out.Committed || out.Rows != 4 || count() != 0 {
				t.Fatalf("dry %v: %+v, %d households written", dry, out, count())
			}
			type cell struct {
				row          int
				column, code string
			}
			var got []cell
			for _, e := range out.Errors {
				got = append(got, cell{e.Row, e.Column, e.Code})
			}
			want := []cell{{5, "户主", "REQUIRED"}, {5, "电话", "INVALID_PHONE"}, {5, "人数", "INVALID_NUMBER"},
				{5, "关爱标签", "UNKNOWN_CARE_TAG"}, {6, "地址", "DUPLICATE"}}
			if !slices.Equal(got, want) {
				t.Fatalf("dry %v: errors %+v, want %+v", dry, got, want)
			}
		}
		fixed := strings.Replace(strings.Replace(sheet, "上码头小区1栋103,,12ab,三,独生子女", "上码头小区1栋103,赵六,0562-1234567,3人,LEFT_BEHIND_CHILD", 1),
			"上码头小区1栋101,张三", "上码头小区1栋104,张三", 1)
		out := runImport(t, e, w.coord, "HOUSEHOLDS", false, "住户.csv", []byte("\xEF\xBB\xBF"+fixed)).ImportSpreadsheet
		if !out.Committed || out.Created != 4 || out.Updated != 0 || len(out.Errors) != 0 || count() != 4 {
			t.Fatalf("commit: %+v, %d households", out, count())
		}
		h, err := e.Client.Household.Query().Where(household.Address("上码头小区1栋101")).Only(e.Sys())
		if err != nil || h.HeadName != "王大爷" || h.Phone != "13800000001" || !slices.Equal(h.CareTags, []string{"EMPTY_NEST", "LOW_INCOME"}) {
			t.Fatalf("imported %+v, %v", h, err)
		}
		if h, _ := e.Client.Household.Query().Where(household.Address("上码头小区1栋103")).Only(e.Sys()); h.Size != 3 || h.Phone != "05621234567" {
			t.Fatalf("imported %+v", h)
		}
		// Importing again updates the same addresses.
		again := runImport(t, e, w.coord, "HOUSEHOLDS", false, "住户.csv", []byte(strings.Replace(fixed, "王大爷,13800000001,1", "王大爷,13800000001,2", 1))).ImportSpreadsheet
		if !again.Committed || again.Created != 0 || again.Updated != 4 || count() != 4 {
			t.Fatalf("re-import: %+v", again)
		}
		// Only staff import.
		for _, tok := range []string{w.leader, w.vol, w.res} {
			upload(t, e, tok, importSheet, map[string]any{"kind": "HOUSEHOLDS", "dry": true}, "住户.csv", []byte(fixed)).WantCode(t, "FORBIDDEN")
		}
		// A sheet without the address column is one error naming it.
		miss := runImport(t, e, w.coord, "HOUSEHOLDS", true, "x.csv", []byte("户主,电话\n王,138\n")).ImportSpreadsheet
		if len(miss.Errors) != 1 || miss.Errors[0].Code != "MISSING_COLUMN" || miss.Errors[0].Column != "地址" {
			t.Fatalf("missing column: %+v", miss.Errors)
		}
	})
}

// People as XLSX (built here with excelize): residents and volunteers with
// their team, skills and registration date (a date cell and a text date).
func TestImportPeopleXLSX(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		reg := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
		rows := [][]any{
			{"姓名", "电话", "类型", "队伍", "技能", "注册日期"},
			{"陈志愿", "13600000001", "志愿者", "邻里守望队", "理发、维修", reg},
			{"刘居民", "13600000002", "居民", "", "", ""},
			{"黄志愿", "13600000003", "", "邻里守望队、不存在的队", "", "2023/13/40"},
			{"", "13600000001", "外星人", "", "", ""},
			// An existing volunteer: joins the team, keeps their name.
			{"改名字", w.vol2P.Phone, "志愿者", "文化文艺队", "唱歌", "2022-03-15"},
		}
		file := xlsx(t, rows)
		out := runImport(t, e, w.coord, "PEOPLE", true, "volunteers.xlsx", file).ImportSpreadsheet
		type cell struct {
			row          int
			column, code string
		}
		var got []cell
		for _, e := range out.Errors {
			got = append(got, cell{e.Row, e.Column, e.Code})
		}
		want := []cell{{4, "队伍", "UNKNOWN_TEAM"}, {4, "注册日期", "INVALID_DATE"}, {5, "姓名", "REQUIRED"},
			{5, "类型", "UNKNOWN_KIND"}, {5, "电话", "DUPLICATE"}}
		if !slices.Equal(got, want) || out.Committed || out.Rows != 5 {
			t.Fatalf("dry run: %+v, errors %+v, want %+v", out, got, want)
		}
		before, _ := e.Client.Person.Query().Count(e.Sys())
		rows = slices.Delete(rows, 3, 5)
		out = runImport(t, e, w.coord, "PEOPLE", false, "volunteers.xlsx", xlsx(t, rows)).ImportSpreadsheet
		if !out.Committed || out.Created != 2 || out.Updated != 1 || len(out.Errors) != 0 {
			t.Fatalf("commit: %+v", out)
		}
		if after, _ := e.Client.Person.Query().Count(e.Sys()); after != before+2 {
			t.Fatalf("%d people, want %d", after, before+2)
		}
		chen, err := e.Client.Person.Query().Where(person.Phone("13600000001")).WithVolunteerProfile().WithMemberships().Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		vp := chen.Edges.VolunteerProfile
		if chen.DisplayName != "陈志愿" || !slices.Contains(chen.Roles, "VOLUNTEER") || vp == nil ||
			!slices.Equal(vp.Skills, []string{"理发", "维修"}) || vp.RegisteredAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02") != "2023-05-01" ||
			len(chen.Edges.Memberships) != 1 || chen.Edges.Memberships[0].TeamID != w.team.ID {
			t.Fatalf("陈志愿 %+v profile %+v memberships %+v", chen, vp, chen.Edges.Memberships)
		}
		liu, _ := e.Client.Person.Query().Where(person.Phone("13600000002")).WithVolunteerProfile().Only(e.Sys())
		if slices.Contains(liu.Roles, "VOLUNTEER") || liu.Edges.VolunteerProfile != nil {
			t.Fatalf("a resident row made a volunteer: %+v", liu)
		}
		vol2, _ := e.Client.Person.Query().Where(person.ID(w.vol2P.ID)).WithVolunteerProfile().Only(e.Sys())
		if vol2.DisplayName != "志愿者乙" || !slices.Contains(vol2.Edges.VolunteerProfile.Skills, "唱歌") {
			t.Fatalf("existing volunteer %+v %+v", vol2, vol2.Edges.VolunteerProfile)
		}
		if ok, _ := e.Client.TeamMembership.Query().Where(teammembership.PersonID(w.vol2P.ID), teammembership.TeamID(w.otherTeam.ID)).Exist(e.Sys()); !ok {
			t.Fatal("the existing volunteer did not join 文化文艺队")
		}
		// The imported volunteer is listed among the community's volunteers.
		var vols struct{ Volunteers struct{ TotalCount int } }
		e.Do(t, w.coord, `{ volunteers(first: 50, where: {nameContains: "陈志愿"}) { totalCount } }`, nil).Decode(t, &vols)
		if vols.Volunteers.TotalCount != 1 {
			t.Fatalf("volunteers lists %d 陈志愿", vols.Volunteers.TotalCount)
		}
	})
}

// The multipart transport through the real handler: it needs a signed-in
// request, obeys the upload limit, keeps its operations within the body
// limit, and an unreadable file is VALIDATION_FAILED on field file.
func TestUploadLimits(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		vars := map[string]any{"kind": "HOUSEHOLDS", "dry": true}
		r := upload(t, e, "", importSheet, vars, "a.csv", []byte("地址,户主\n"))
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous upload: status %d", r.Status)
		}
		r.WantCode(t, "UNAUTHENTICATED")
		big := bytes.Repeat([]byte("x"), 64<<10+1)
		r = upload(t, e, w.coord, importSheet, vars, "a.csv", big)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("upload over the limit: status %d", r.Status)
		}
		// Operations above the body limit (4 KiB here), with a small file.
		padded := importSheet + "\n#" + strings.Repeat(" ", 5<<10)
		r = upload(t, e, w.coord, padded, vars, "a.csv", []byte("地址,户主\n"))
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("large operations in an upload: status %d", r.Status)
		}
		// The same operations as JSON are refused by the body limit too.
		if res := e.Do(t, w.coord, padded, vars); res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("large JSON body: status %d", res.Status)
		}
		r = upload(t, e, w.coord, importSheet, vars, "a.xlsx", []byte("PK\x03\x04broken"))
		r.WantCode(t, "VALIDATION_FAILED")
		if r.Field() != "file" {
			t.Fatalf("field %q", r.Field())
		}
		// Within the limits it runs.
		out := runImport(t, e, w.coord, "HOUSEHOLDS", true, "a.csv", []byte("地址,户主\n1栋101,王\n")).ImportSpreadsheet
		if out.Rows != 1 || out.Created != 1 || len(out.Errors) != 0 {
			t.Fatalf("%+v", out)
		}
	}, func(c *app.Config) { c.MaxBodyBytes, c.MaxUploadBytes = 4<<10, 64<<10 })
}

// Households as XLSX with the numbers typed as numbers (Excel's usual
// phone and size cells), and people as CSV: both kinds read both formats.
func TestImportOtherFormats(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		file := xlsx(t, [][]any{
			{"门牌号", "户主姓名", "联系电话", "家庭人数", "关爱类型"},
			{"育才小区2栋301", "钱奶奶", 13800000009, 1, "空巢、残疾"},
			{"育才小区2栋302", "孙先生", 5621234567, 2.5, ""},
		})
		dry := runImport(t, e, w.coord, "HOUSEHOLDS", true, "households.xlsx", file).ImportSpreadsheet
		if len(dry.Errors) != 1 || dry.Errors[0].Row != 3 || dry.Errors[0].Column != "家庭人数" || dry.Errors[0].Code != "INVALID_NUMBER" {
			t.Fatalf("dry run errors %+v", dry.Errors)
		}
		file = xlsx(t, [][]any{
			{"门牌号", "户主姓名", "联系电话", "家庭人数", "关爱类型"},
			{"育才小区2栋301", "钱奶奶", 13800000009, 1, "空巢、残疾"},
			{"育才小区2栋302", "孙先生", 5621234567, 2, ""},
		})
		out := runImport(t, e, w.coord, "HOUSEHOLDS", false, "households.xlsx", file).ImportSpreadsheet
		if !out.Committed || out.Created != 2 {
			t.Fatalf("commit %+v", out)
		}
		h, err := e.Client.Household.Query().Where(household.Address("育才小区2栋301")).Only(e.Sys())
		if err != nil || h.Phone != "13800000009" || !slices.Equal(h.CareTags, []string{"DISABILITY", "EMPTY_NEST"}) {
			t.Fatalf("imported %+v, %v", h, err)
		}
		people := "姓名,电话,队伍,注册日期\n何志愿,13600000011,邻里守望队,2024年3月8日\n"
		got := runImport(t, e, w.coord, "PEOPLE", false, "people.csv", []byte(people)).ImportSpreadsheet
		if !got.Committed || got.Created != 1 {
			t.Fatalf("people CSV %+v", got)
		}
		p, err := e.Client.Person.Query().Where(person.Phone("13600000011")).WithVolunteerProfile().Only(e.Sys())
		if err != nil || p.Edges.VolunteerProfile == nil || !p.Edges.VolunteerProfile.RegisteredAt.Equal(time.Date(2024, 3, 7, 16, 0, 0, 0, time.UTC)) {
			t.Fatalf("imported %+v, %v", p, err)
		}
	})
}
