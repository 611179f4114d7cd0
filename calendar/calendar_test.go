package calendar_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	goical "github.com/emersion/go-ical"

	"linli/calendar"
	"linli/ent"
	"linli/ent/auditentry"
	"linli/linlitest"
	"linli/viewer"
)

const (
	rotate     = `mutation($team: ID, $venue: ID) { rotateCalendarFeed(teamID: $team, venueID: $venue) { scope path url } }`
	signUp     = `mutation($slot: ID!) { signUp(input: {slotID: $slot}) { outcome registration { id } } }`
	cancelReg  = `mutation($id: ID!) { cancelRegistration(input: {registrationID: $id}) { status } }`
	feedHeader = "no-store, private"
)

type world struct {
	cid                         int
	coord, resident, other      string
	residentID                  int
	venue                       *ent.Venue
	team                        *ent.Team
	clinic, show, old, draft    *ent.Activity
	clinicSlot, showSlot, oldSl *ent.Slot
}

func newWorld(t *testing.T, e *linlitest.Env) *world {
	w := &world{}
	c := e.Community(t, "前进社区")
	w.cid = c.ID
	_, w.coord = e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
	p, tok := e.Person(t, c.ID, "章桂兰")
	w.resident, w.residentID = tok, p.ID
	_, w.other = e.Person(t, c.ID, "吴小雨")
	var err error
	if w.venue, err = e.Client.Venue.Create().SetCommunityID(c.ID).SetName("社区大厅").SetAddress("前进路 1 号").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	if w.team, err = e.Client.Team.Create().SetCommunityID(c.ID).SetName("医疗健康服务队").Save(e.Sys()); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
	var slots []*ent.Slot
	w.clinic, slots = e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊", StartsAt: start,
		Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 5}}})
	w.clinicSlot = slots[0]
	w.show, slots = e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "黄梅戏演出", StartsAt: start.Add(24 * time.Hour),
		Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 1}}})
	w.showSlot = slots[0]
	w.old, slots = e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "去年的讲座", StartsAt: time.Now().UTC().Add(-100 * 24 * time.Hour)})
	w.oldSl = slots[0]
	w.draft, _ = e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "草稿", Status: "DRAFT", StartsAt: start})
	for _, a := range []*ent.Activity{w.clinic, w.show, w.old, w.draft} {
		if err := e.Client.Activity.UpdateOne(a).SetVenueID(w.venue.ID).SetTeamID(w.team.ID).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

type feedURL struct {
	RotateCalendarFeed struct{ Scope, Path, URL string }
}

func rotateFeed(t *testing.T, e *linlitest.Env, token string, vars map[string]any) string {
	t.Helper()
	var out feedURL
	e.Do(t, token, rotate, vars).Decode(t, &out)
	if !strings.HasPrefix(out.RotateCalendarFeed.Path, "/calendar/") || !strings.HasSuffix(out.RotateCalendarFeed.Path, ".ics") {
		t.Fatalf("feed path %q", out.RotateCalendarFeed.Path)
	}
	return out.RotateCalendarFeed.Path
}

// fetch GETs a feed; it answers the status and, for 200, the body after
// checking the headers every feed carries.
func fetch(t *testing.T, e *linlitest.Env, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(e.Server.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("Cache-Control"); got != feedHeader {
		t.Fatalf("Cache-Control %q, want %q", got, feedHeader)
	}
	if resp.StatusCode == http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(body)
}

// parsed is what both parsers agree a feed holds: summaries by UID, with
// their start, end, place and alarm trigger.
type parsedEvent struct {
	summary, location, trigger string
	start, end                 time.Time
}

// parseBoth parses body with golang-ical (the library that writes it) and
// with emersion/go-ical (a second, independent parser), and checks that
// they agree.
func parseBoth(t *testing.T, body string) map[string]parsedEvent {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatalf("golang-ical: %v\n%s", err, body)
	}
	first := map[string]parsedEvent{}
	for _, ev := range cal.Events() {
		start, err := ev.GetStartAt()
		if err != nil {
			t.Fatal(err)
		}
		end, err := ev.GetEndAt()
		if err != nil {
			t.Fatal(err)
		}
		p := parsedEvent{start: start.UTC(), end: end.UTC()}
		if s := ev.GetProperty(ics.ComponentPropertySummary); s != nil {
			p.summary = s.Value
		}
		if s := ev.GetProperty(ics.ComponentPropertyLocation); s != nil {
			p.location = s.Value
		}
		if al := ev.Alarms(); len(al) == 1 {
			if tr := al[0].GetProperty(ics.ComponentPropertyTrigger); tr != nil {
				p.trigger = tr.Value
			}
		}
		first[ev.Id()] = p
	}
	second, err := goical.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v\n%s", err, body)
	}
	evs := second.Events()
	if len(evs) != len(first) {
		t.Fatalf("go-ical read %d events, golang-ical %d", len(evs), len(first))
	}
	for _, ev := range evs {
		uid, _ := ev.Props.Text(goical.PropUID)
		p, ok := first[uid]
		if !ok {
			t.Fatalf("go-ical read event %q that golang-ical did not", uid)
		}
		start, err := ev.DateTimeStart(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		end, err := ev.DateTimeEnd(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		summary, _ := ev.Props.Text(goical.PropSummary)
		location, _ := ev.Props.Text(goical.PropLocation)
		if !start.Equal(p.start) || !end.Equal(p.end) || summary != p.summary || location != p.location {
			t.Fatalf("parsers disagree on %s: go-ical %v–%v %q %q, golang-ical %+v", uid, start, end, summary, location, p)
		}
		var alarms int
		for _, c := range ev.Children {
			if c.Name == goical.CompAlarm {
				alarms++
				if tr := c.Props.Get(goical.PropTrigger); tr == nil || tr.Value != p.trigger {
					t.Fatalf("go-ical alarm trigger %v, golang-ical %q", tr, p.trigger)
				}
			}
		}
		if alarms != 1 {
			t.Fatalf("event %s: %d alarms", uid, alarms)
		}
	}
	return first
}

func bySummary(evs map[string]parsedEvent) map[string]parsedEvent {
	out := map[string]parsedEvent{}
	for _, p := range evs {
		out[p.summary] = p
	}
	return out
}

// A person's feed lists their confirmed and waitlisted activities (not a
// cancelled registration, not one older than the feed's window), with the
// times in UTC, the venue as the place and a reminder alarm; both parsers
// read it alike. Rotating the feed makes the old URL a 404; revoking the
// person's feeds (account deletion) too.
func TestPersonFeed(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		e.Do(t, "", rotate, nil).WantCode(t, "UNAUTHENTICATED")
		// The show has one seat: the other person takes it, the resident waits.
		e.Do(t, w.other, signUp, map[string]any{"slot": e.ID(w.showSlot.ID)})
		var su struct {
			SignUp struct {
				Outcome      string
				Registration struct{ ID string }
			}
		}
		e.Do(t, w.resident, signUp, map[string]any{"slot": e.ID(w.clinicSlot.ID)}).Decode(t, &su)
		clinicReg := su.SignUp.Registration.ID
		e.Do(t, w.resident, signUp, map[string]any{"slot": e.ID(w.showSlot.ID)}).Decode(t, &su)
		if su.SignUp.Outcome != "WAITLISTED" {
			t.Fatalf("show sign-up %s, want WAITLISTED", su.SignUp.Outcome)
		}
		// A registration for an activity 100 days ago, outside the window.
		if err := e.Client.Registration.Create().SetCommunityID(w.cid).SetPersonID(w.residentID).SetSlotID(w.oldSl.ID).
			SetActivityID(w.old.ID).SetStatus("CHECKED_OUT").SetCheckInCode("old-code-1").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}

		path := rotateFeed(t, e, w.resident, nil)
		status, body := fetch(t, e, path)
		if status != http.StatusOK {
			t.Fatalf("feed: %d %s", status, body)
		}
		evs := bySummary(parseBoth(t, body))
		if len(evs) != 2 {
			t.Fatalf("feed lists %v, want the clinic and the waitlisted show", evs)
		}
		clinic, ok := evs["义诊"]
		if !ok || !clinic.start.Equal(w.clinic.StartsAt.UTC()) || !clinic.end.Equal(w.clinic.EndsAt.UTC()) {
			t.Fatalf("clinic event %+v, activity %v–%v", clinic, w.clinic.StartsAt, w.clinic.EndsAt)
		}
		if clinic.location != "社区大厅（前进路 1 号）" || clinic.trigger != "-PT120M" {
			t.Fatalf("clinic event place %q alarm %q", clinic.location, clinic.trigger)
		}
		if _, ok := evs["黄梅戏演出（候补）"]; !ok {
			t.Fatalf("the waitlisted show is missing: %v", evs)
		}
		// Times are written in UTC ("Z"), never as floating local times.
		if !strings.Contains(body, "DTSTART:"+w.clinic.StartsAt.UTC().Format("20060102T150405Z")) {
			t.Fatalf("DTSTART not in UTC:\n%s", body)
		}

		// A cancelled registration disappears.
		e.Do(t, w.resident, cancelReg, map[string]any{"id": clinicReg})
		_, body = fetch(t, e, path)
		if evs := bySummary(parseBoth(t, body)); len(evs) != 1 || evs["义诊"].summary != "" {
			t.Fatalf("after cancelling the clinic the feed lists %v", evs)
		}

		// Rotating: the old URL is a 404, the new one works.
		newPath := rotateFeed(t, e, w.resident, nil)
		if newPath == path {
			t.Fatal("rotation kept the token")
		}
		if status, _ := fetch(t, e, path); status != http.StatusNotFound {
			t.Fatalf("old URL after rotation: %d, want 404", status)
		}
		if status, _ := fetch(t, e, newPath); status != http.StatusOK {
			t.Fatalf("new URL: %d", status)
		}
		n, err := e.Client.AuditEntry.Query().Where(auditentry.Action(calendar.ActionRotate)).Count(e.Sys())
		if err != nil || n != 2 {
			t.Fatalf("%d rotation audit entries (%v), want 2", n, err)
		}

		// Account deletion revokes the person's feeds.
		if err := calendar.RevokePerson(e.Sys(), e.Client, w.residentID); err != nil {
			t.Fatal(err)
		}
		if status, _ := fetch(t, e, newPath); status != http.StatusNotFound {
			t.Fatalf("URL after RevokePerson: %d, want 404", status)
		}
		// Tokens that are not ones: 404 without a database hit worth the name.
		for _, p := range []string{"/calendar/x.ics", "/calendar/cal_nope.ics", "/calendar/" + strings.Repeat("a", 500) + ".ics", strings.TrimSuffix(newPath, ".ics")} {
			if status, _ := fetch(t, e, p); status != http.StatusNotFound {
				t.Fatalf("%s: %d, want 404", p, status)
			}
		}
	})
}

// Staff get a feed per team and per venue, listing its published
// activities (not drafts, not older than the window); residents may not
// make one (FORBIDDEN), and a coordinator who loses the role loses the feed.
func TestTeamAndVenueFeeds(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		e.Do(t, w.resident, rotate, map[string]any{"team": e.ID(w.team.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, w.resident, rotate, map[string]any{"venue": e.ID(w.venue.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, w.coord, rotate, map[string]any{"team": e.ID(w.team.ID), "venue": e.ID(w.venue.ID)}).WantCode(t, "VALIDATION_FAILED")

		// Another community's coordinator cannot name this one's team.
		c2 := e.Community(t, "红旗社区")
		_, coord2 := e.Person(t, c2.ID, "刘建国", viewer.Coordinator)
		e.Do(t, coord2, rotate, map[string]any{"team": e.ID(w.team.ID)}).WantCode(t, "NOT_FOUND")

		for _, vars := range []map[string]any{{"team": e.ID(w.team.ID)}, {"venue": e.ID(w.venue.ID)}} {
			path := rotateFeed(t, e, w.coord, vars)
			status, body := fetch(t, e, path)
			if status != http.StatusOK {
				t.Fatalf("%v feed: %d", vars, status)
			}
			evs := bySummary(parseBoth(t, body))
			if len(evs) != 2 || evs["义诊"].summary == "" || evs["黄梅戏演出"].summary == "" {
				t.Fatalf("%v feed lists %v, want the clinic and the show", vars, evs)
			}
		}
		path := rotateFeed(t, e, w.coord, map[string]any{"venue": e.ID(w.venue.ID)})
		coord, err := e.Client.Person.Query().Where().All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range coord {
			if p.CommunityID == w.cid && len(p.Roles) > 1 {
				if err := e.Client.Person.UpdateOne(p).SetRoles([]string{string(viewer.Resident)}).Exec(e.Sys()); err != nil {
					t.Fatal(err)
				}
			}
		}
		if status, _ := fetch(t, e, path); status != http.StatusNotFound {
			t.Fatalf("a former coordinator's venue feed: %d, want 404", status)
		}
	})
}
