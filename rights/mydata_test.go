package rights_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"linli/linlitest"
)

func get(t *testing.T, e *linlitest.Env, token, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.Server.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestMyData: a person downloads everything linli holds about them, as
// JSON and XLSX, and nothing about anyone else; downloads are limited and
// audited.
func TestMyData(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		e.Do(t, w.vtok, `mutation { giveConsent(input: {purpose: PHOTOS, wordingVersion: "photos-v1"}) { id } }`, nil).WantCode(t, "")
		status, body := get(t, e, w.vtok, "/me/data?format=json&personID="+e.ID(w.vid+1))
		if status != 200 {
			t.Fatalf("GET /me/data: %d %s", status, body)
		}
		var d map[string]json.RawMessage
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		for _, section := range []string{"profile", "teamMemberships", "registrations", "serviceRecords", "requests", "requestHistory", "homeVisits", "consents", "auditEntries", "sessions"} {
			if len(d[section]) < len(`{"rows":[]}`) || string(d[section]) == `{"rows":[],"truncated":false}` {
				t.Errorf("section %s is empty: %s", section, d[section])
			}
		}
		s := string(body)
		for _, want := range []string{w.name, w.phone, "欧阳志愿者家水管漏水", "生活帮帮团", "已为欧阳志愿者更换阀门"} {
			if !strings.Contains(s, want) {
				t.Errorf("download lacks %q", want)
			}
		}
		// Nobody else's data: the other volunteer on the same sheet, the
		// head of the household visited (the visit's place is in the
		// volunteer's own service record, as the national rules ask).
		for _, not := range []string{"另一位志愿者", "王大爷"} {
			if strings.Contains(s, not) {
				t.Errorf("download holds someone else's data: %q", not)
			}
		}

		status, body = get(t, e, w.vtok, "/me/data?format=xlsx")
		if status != 200 {
			t.Fatalf("xlsx: %d %s", status, body)
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if sheets := f.GetSheetList(); len(sheets) < 10 {
			t.Errorf("xlsx sheets: %v", sheets)
		}
		rows, err := f.GetRows(f.GetSheetList()[0])
		if err != nil || len(rows) != 2 || !strings.Contains(strings.Join(rows[1], "|"), w.phone) {
			t.Errorf("profile sheet: %v %v", rows, err)
		}
		f.Close()

		// Through GraphQL too.
		var q struct{ MyData struct{ URL, JSON string } }
		e.Do(t, w.vtok, `{ myData(json: true) { url json } }`, nil).Decode(t, &q)
		if !strings.HasPrefix(q.MyData.URL, "/me/data") || !strings.Contains(q.MyData.JSON, w.phone) {
			t.Errorf("myData: %+v", q.MyData.URL)
		}

		// Without a token; with a bad format.
		if status, _ := get(t, e, "", "/me/data"); status != 401 {
			t.Errorf("anonymous: %d", status)
		}
		venue, err := e.Client.Venue.Create().SetCommunityID(w.cid).SetName("大厅").Save(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		var k struct{ RegisterKiosk struct{ Token string } }
		e.Do(t, w.coord, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "签到平板") { token } }`, map[string]any{"v": e.ID(venue.ID)}).Decode(t, &k)
		if status, b := get(t, e, k.RegisterKiosk.Token, "/me/data"); status != 403 {
			t.Errorf("a kiosk's download: %d %s", status, b)
		}
		if status, _ := get(t, e, w.coord, "/me/data?format=csv"); status != 400 {
			t.Errorf("format csv: %d", status)
		}
		// Five downloads an hour: three done, two more, then 429.
		for i := range 2 {
			if status, b := get(t, e, w.vtok, "/me/data"); status != 200 {
				t.Fatalf("download %d: %d %s", i+4, status, b)
			}
		}
		if status, b := get(t, e, w.vtok, "/me/data"); status != 429 || !strings.Contains(string(b), "RATE_LIMITED") {
			t.Errorf("sixth download: %d %s", status, b)
		}
		// Someone else is not limited by it.
		if status, _ := get(t, e, w.coord, "/me/data"); status != 200 {
			t.Errorf("coordinator's own download: %d", status)
		}
		var log struct {
			AuditLog struct {
				Edges []struct{ Node struct{ Action string } }
			}
		}
		e.Do(t, w.coord, `query($c: ID!) { auditLog(communityID: $c, first: 50, where: {actions: ["export.my_data"]}) { edges { node { action } } } }`,
			map[string]any{"c": e.ID(w.cid)}).Decode(t, &log)
		if len(log.AuditLog.Edges) != 6 {
			t.Errorf("export.my_data entries: %d, want 6", len(log.AuditLog.Edges))
		}
	})
}
