package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/mask"
	"linli/viewer"
)

// chromiumPath is Debian's Chromium, which the browser tests drive.
const chromiumPath = "/usr/bin/chromium"

// chromium returns the browser, skipping the test without one on a
// developer's machine and failing it under CI, where a skipped browser
// suite would be a pass that proves nothing.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI for the browser tests (apt-get install chromium)", chromiumPath)
		}
		t.Skip("chromium not installed")
	}
	return chromiumPath
}

// door is the fixture the browser test runs against: a community with a
// venue and a kiosk there, today's activity at the venue and the people
// whose codes the tablet scans.
type door struct {
	e              *linlitest.Env
	community      *ent.Community
	venue          *ent.Venue
	staff          string
	staffPerson    *ent.Person
	kioskID        string
	activity       *ent.Activity
	seats, lecture *ent.Slot
}

type person struct {
	p     *ent.Person
	token string
	reg   struct{ ID, Status, CheckInCode string }
}

func (d *door) person(t *testing.T, name string) *person {
	t.Helper()
	p, token := d.e.Person(t, d.community.ID, name, viewer.Resident)
	return &person{p: p, token: token}
}

func (d *door) signUp(t *testing.T, p *person, sl *ent.Slot, wantStatus string) *person {
	t.Helper()
	var out struct {
		SignUp struct {
			Registration struct{ ID, Status, CheckInCode string }
		}
	}
	d.e.Do(t, p.token, `mutation($s: ID!) { signUp(input: {slotID: $s, seats: 1}) { registration { id status checkInCode } } }`,
		map[string]any{"s": d.e.ID(sl.ID)}).Decode(t, &out)
	p.reg = out.SignUp.Registration
	if p.reg.Status != wantStatus || p.reg.CheckInCode == "" {
		t.Fatalf("signUp of %s: %+v, want %s with a code", p.p.DisplayName, p.reg, wantStatus)
	}
	return p
}

func (d *door) activityAt(t *testing.T, title string, starts time.Time, slots ...linlitest.SlotSpec) (*ent.Activity, []*ent.Slot) {
	t.Helper()
	return d.activityIn(t, title, activity.StatusPUBLISHED, starts, slots...)
}

func (d *door) activityIn(t *testing.T, title string, status activity.Status, starts time.Time, slots ...linlitest.SlotSpec) (*ent.Activity, []*ent.Slot) {
	t.Helper()
	a, s := d.e.Activity(t, d.community.ID, linlitest.ActivitySpec{
		Title: title, Category: activity.CategoryHALL, Status: status, StartsAt: starts.UTC().Truncate(time.Second), Slots: slots,
	})
	a, err := a.Update().SetVenueID(d.venue.ID).Save(d.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	return a, s
}

func newDoor(t *testing.T, e *linlitest.Env) *door {
	t.Helper()
	d := &door{e: e, community: e.Community(t, "前进社区")}
	d.staffPerson, d.staff = e.Person(t, d.community.ID, "社工小周", viewer.Coordinator)
	v, err := e.Client.Venue.Create().SetCommunityID(d.community.ID).SetName("道德讲堂").SetAddress("枞阳镇前进路 1 号").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	d.venue = v
	var out struct {
		RegisterKiosk struct{ Kiosk struct{ ID string } }
	}
	e.Do(t, d.staff, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "大厅签到平板") { kiosk { id } } }`,
		map[string]any{"v": e.ID(v.ID)}).Decode(t, &out)
	d.kioskID = out.RegisterKiosk.Kiosk.ID
	var slots []*ent.Slot
	d.activity, slots = d.activityAt(t, "健康义诊", time.Now().Add(20*time.Minute),
		linlitest.SlotSpec{Name: "义诊座位", Capacity: 30},
		linlitest.SlotSpec{Name: "健康讲座", Capacity: 1},
		linlitest.SlotSpec{Name: "志愿医生", Kind: slot.KindVOLUNTEER, Capacity: 3})
	d.seats, d.lecture = slots[0], slots[1]
	return d
}

// qrVideo writes the registration's QR code, as GET /qr/{id} serves it to
// its owner, as a Y4M video Chromium's fake camera plays: the code in the
// middle of a white 640×480 frame, in grey (Y plane only, neutral U and V).
func qrVideo(t *testing.T, e *linlitest.Env, p *person, path string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/qr/"+p.reg.ID+"?size=360", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /qr: %d %s", resp.StatusCode, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, y4m(img, 640, 480, 10), 0o644); err != nil {
		t.Fatal(err)
	}
}

// y4m is frames frames of img centred on white, as a 4:2:0 YUV4MPEG2 stream.
func y4m(img image.Image, w, h, frames int) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	luma := bytes.Repeat([]byte{235}, w*h)
	b := img.Bounds()
	ox, oy := (w-b.Dx())/2, (h-b.Dy())/2
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			grey := (299*r + 587*g + 114*bl) / 1000 >> 8
			// Studio range, as video has it.
			luma[(oy+y-b.Min.Y)*w+ox+x-b.Min.X] = byte(16 + grey*219/255)
		}
	}
	chroma := bytes.Repeat([]byte{128}, 2*(w/2)*(h/2))
	for range frames {
		buf.WriteString("FRAME\n")
		buf.Write(luma)
		buf.Write(chroma)
	}
	return buf.Bytes()
}

type entry struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	RegistrationID string `json:"registrationID,omitempty"`
}

func (p *person) entry() entry {
	return entry{Code: p.reg.CheckInCode, Name: mask.Name(p.p.DisplayName), RegistrationID: p.reg.ID}
}

// The kiosk page and the board in a real browser: pairing, a QR code
// through the camera, a scanner's typing, every answer, offline scans kept
// across a reload and uploaded once, a revocation signing the tablet out,
// and the board following a sign-up within a second; with no console
// error, failed request or CSP violation.
func TestKioskAndBoardInChromium(t *testing.T) {
	browser := chromium(t)
	node, dir := linlitest.NodeProject(t, filepath.Join("testdata", "e2e"))
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		d := newDoor(t, e)
		camera := d.signUp(t, d.person(t, "章桂兰"), d.seats, "CONFIRMED")
		typed := d.signUp(t, d.person(t, "李建国"), d.seats, "CONFIRMED")
		d.signUp(t, d.person(t, "占座人"), d.lecture, "CONFIRMED")
		waitlisted := d.signUp(t, d.person(t, "候补人"), d.lecture, "WAITLISTED")
		cancelled := d.signUp(t, d.person(t, "取消人"), d.seats, "CONFIRMED")
		e.Do(t, cancelled.token, `mutation($r: ID!) { cancelRegistration(input: {registrationID: $r}) { status } }`,
			map[string]any{"r": cancelled.reg.ID}).Decode(t, &struct{}{})
		notIn := d.signUp(t, d.person(t, "未到人"), d.seats, "CONFIRMED")
		manual := d.signUp(t, d.person(t, "陈秀英"), d.seats, "CONFIRMED")
		var offline []*person
		for _, n := range []string{"王芳", "刘洋", "赵敏"} {
			offline = append(offline, d.signUp(t, d.person(t, n), d.seats, "CONFIRMED"))
		}
		_, tomorrowSlots := d.activityAt(t, "明日广场舞", time.Now().Add(26*time.Hour), linlitest.SlotSpec{Name: "舞者", Capacity: 10})
		other := d.signUp(t, d.person(t, "明日人"), tomorrowSlots[0], "CONFIRMED")
		boardSignup := d.person(t, "看板人")
		mistaken := d.signUp(t, d.person(t, "误扫人"), d.seats, "CONFIRMED")
		selfIn := d.signUp(t, d.person(t, "自助人"), d.seats, "CONFIRMED")
		selfLate := d.signUp(t, d.person(t, "迟到人"), d.seats, "CONFIRMED")
		// The board picks up an activity published while it is on.
		draft, _ := d.activityIn(t, "临时加场", activity.StatusDRAFT, time.Now().Add(40*time.Minute), linlitest.SlotSpec{Name: "座位", Capacity: 5})
		// A morning exercise about to start with ten people in: the board's list
		// of the latest check-ins is full and must still fit its screen.
		_, morning := d.activityAt(t, "晨练太极", time.Now().Add(5*time.Minute), linlitest.SlotSpec{Name: "学员", Capacity: 20})
		for i, name := range []string{"周立波", "吴秀兰", "郑国强", "冯晓梅", "褚建华", "卫红英", "蒋志明", "沈玉珍", "韩德胜", "杨桂芝"} {
			p := d.signUp(t, d.person(t, name), morning[0], "CONFIRMED")
			var in struct{ CheckIn struct{ Status string } }
			e.Do(t, d.staff, `mutation($c: String!, $n: String!, $a: ID!) { checkIn(input: {code: $c, nonce: $n, activityID: $a}) { status } }`,
				map[string]any{"c": p.reg.CheckInCode, "n": fmt.Sprintf("morning-%d", i), "a": e.ID(morning[0].ActivityID)}).Decode(t, &in)
			if in.CheckIn.Status != "OK" {
				t.Fatalf("morning check-in of %s: %s", name, in.CheckIn.Status)
			}
		}

		shots := os.Getenv("LINLI_BROWSER_SHOTS")
		if shots == "" {
			shots = t.TempDir()
		} else {
			shots = filepath.Join(shots, e.Backend)
		}
		video := filepath.Join(t.TempDir(), "qr.y4m")
		qrVideo(t, e, camera, video)

		cfg := map[string]any{
			"url": e.Server.URL, "chromium": browser, "video": video, "shots": shots,
			"staffToken": d.staff, "staffPhone": d.staffPerson.Phone, "staffPassword": linlitest.Password, "kioskID": d.kioskID, "venueID": e.ID(d.venue.ID), "activityID": e.ID(d.activity.ID),
			"camera": camera.entry(), "typed": typed.entry(),
			"waitlisted": waitlisted.reg.CheckInCode, "cancelled": cancelled.reg.CheckInCode,
			"otherActivity": other.reg.CheckInCode, "notCheckedIn": notIn.reg.CheckInCode,
			"manual": map[string]string{"name": manual.p.DisplayName, "phoneTail": manual.p.Phone[len(manual.p.Phone)-4:],
				"maskedName": mask.Name(manual.p.DisplayName)},
			"walkIn": map[string]string{"phone": "13905550123", "name": "孙立新", "maskedName": mask.Name("孙立新"),
				"slotID": e.ID(d.seats.ID)},
			"boardSignup":     map[string]string{"token": boardSignup.token, "slotID": e.ID(d.seats.ID)},
			"draftActivityID": e.ID(draft.ID),
			"mistaken":        mistaken.entry(),
			"notCheckedInID":  notIn.reg.ID,
			"search": map[string]string{"query": string([]rune(manual.p.DisplayName)[:1]), "registrationID": manual.reg.ID,
				"nothing": "查无此人"},
			"selfIn":    map[string]string{"phone": selfIn.p.Phone, "password": linlitest.Password, "name": mask.Name(selfIn.p.DisplayName)},
			"selfLate":  map[string]string{"phone": selfLate.p.Phone, "password": linlitest.Password},
			"pairVideo": filepath.Join(t.TempDir(), "pair.y4m"),
			// camera, manual, walk-in and the three offline people (the
			// one checked out still counts as arrived); the mistaken scan
			// is undone.
			"expectCheckedIn": 7,
		}
		// TOO_EARLY needs a second activity of today whose check-in has
		// not opened (it opens an hour before the start): two hours from
		// now, when that is still today in China.
		early := time.Now().Add(2 * time.Hour)
		cst := time.FixedZone("CST", 8*3600)
		if ended := time.Now().Add(-3*time.Hour - 20*time.Minute); ended.In(cst).YearDay() == time.Now().In(cst).YearDay() {
			a, _ := d.activityAt(t, "早市义剪", ended, linlitest.SlotSpec{Name: "座位", Capacity: 5})
			cfg["finishedActivityID"] = e.ID(a.ID)
		}
		if early.In(cst).YearDay() == time.Now().In(cst).YearDay() {
			a, s := d.activityAt(t, "晚间讲座", early, linlitest.SlotSpec{Name: "听众", Capacity: 10})
			p := d.signUp(t, d.person(t, "早到人"), s[0], "CONFIRMED")
			cfg["early"] = map[string]string{"activityID": e.ID(a.ID), "code": p.reg.CheckInCode}
		} else {
			t.Log("TOO_EARLY not tried: two hours from now is tomorrow in China")
		}
		var offlineEntries []entry
		for _, p := range offline {
			offlineEntries = append(offlineEntries, p.entry())
		}
		cfg["offline"] = offlineEntries
		cfgPath := filepath.Join(t.TempDir(), "config.json")
		b, _ := json.Marshal(cfg)
		if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "e2e.mjs", cfgPath)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		t.Logf("e2e.mjs:\n%s", out)
		if err != nil {
			t.Fatalf("e2e.mjs: %v", err)
		}
		if strings.Contains(string(out), d.staff) {
			t.Error("the browser run printed the staff token")
		}

		// On the server: each offline scan counted exactly once.
		for _, p := range offline {
			id := e.IntID(t, p.reg.ID)
			n, err := e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(id), checkinscan.KindEQ(checkinscan.KindIN),
				checkinscan.StatusEQ(checkinscan.StatusOK)).Count(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			reg, err := e.Client.Registration.Get(e.Sys(), id)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 || reg.CheckedInAt == nil {
				t.Errorf("%s: %d effective check-ins, checked in at %v; want exactly 1", p.p.DisplayName, n, reg.CheckedInAt)
			}
		}
		// The phone's self check-in counted as a scan at the door (method
		// SELF); the photo of the rotated QR checked nobody in.
		if n, err := e.Client.CheckInScan.Query().Where(checkinscan.RegistrationID(e.IntID(t, selfIn.reg.ID)),
			checkinscan.MethodEQ(checkinscan.MethodSELF), checkinscan.StatusEQ(checkinscan.StatusOK)).Count(e.Sys()); err != nil || n != 1 {
			t.Errorf("self check-ins of %s: %d %v, want 1", selfIn.p.DisplayName, n, err)
		}
		if reg, err := e.Client.Registration.Get(e.Sys(), e.IntID(t, selfLate.reg.ID)); err != nil || reg.CheckedInAt != nil {
			t.Errorf("%s checked in with a rotated QR: %v %v", selfLate.p.DisplayName, reg, err)
		}
		// The mistaken scan is undone: confirmed, not checked in.
		if reg, err := e.Client.Registration.Get(e.Sys(), e.IntID(t, mistaken.reg.ID)); err != nil || reg.Status != registration.StatusCONFIRMED {
			t.Errorf("the mistaken scan was not undone: %v %v", reg, err)
		}
		k, err := e.Client.Kiosk.Get(e.Sys(), e.IntID(t, d.kioskID))
		if err != nil || k.RevokedAt == nil {
			t.Errorf("kiosk after the run: %v %v", k, err)
		}
	})
}
