package retention_test

import (
	"context"
	"testing"
	"time"

	"linli/audit"
	"linli/demo"
	"linli/ent"
	"linli/ent/community"
	"linli/ent/household"
	"linli/ent/job"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/jobs"
	"linli/linlitest"
	"linli/retention"
	"linli/viewer"
)

const statsQuery = `query($c: ID!, $from: Time!, $to: Time!) {
	communityStatistics(communityID: $c, from: $from, to: $to) {
		activitiesHeld participantPersonTimes attendeePersonTimes volunteerPersonTimes beneficiaryPersonTimes
		serviceHours registeredVolunteers residentPopulation volunteerShare requestsReceived requestsResolved
		disputesMediated homeVisits householdsVisited responseRate resolutionRate satisfactionRate
		byCategory { category activitiesHeld participantPersonTimes }
		byServiceType { serviceType activitiesHeld participantPersonTimes }
		byTeam { team { name } activitiesHeld volunteerPersonTimes serviceHours homeVisits }
		byMonth { month activitiesHeld participantPersonTimes requestsReceived } } }`

// TestPurgeKeepsStatistics: the demo community's year, purged as if four
// years had passed (every scan, closed request's text, care tag and read
// past its retention), answers exactly the same communityStatistics; what
// was past retention is gone or anonymised, the purge is audited on the
// intact chain, and a second purge finds nothing. A purge at today removes
// nothing recent.
func TestPurgeKeepsStatistics(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		ctx := context.Background()
		if err := e.App.LoadDemo(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := e.Client.Community.Query().Where(community.Name(demo.Qianjin)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		// A scan at the door, and staff reads for the log.
		if err := e.Client.CheckInScan.Create().SetCommunityID(c.ID).SetNonce("n-1").SetKind("IN").SetMethod("MANUAL").
			SetStatus("OK").SetScannedAt(time.Now()).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.Do(t, staff, `{ households(first: 20) { edges { node { phone careTags } } } }`, nil).Decode(t, &struct{}{})
		if err := e.App.ReadLog.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		vars := map[string]any{"c": e.ID(c.ID), "from": time.Now().AddDate(-2, 0, 0), "to": time.Now().AddDate(0, 0, 1)}
		stats := func() string {
			r := e.Do(t, staff, statsQuery, vars)
			r.Decode(t, &struct{}{})
			return string(r.Data)
		}
		before := stats()

		// Today: nothing recent goes.
		rep, err := retention.Purge(ctx, e.Client, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Scans != 0 || rep.Reads != 0 || rep.Communities < 2 {
			t.Fatalf("purge today: %+v", rep)
		}

		later := time.Now().AddDate(4, 0, 0)
		rep, err = retention.Purge(ctx, e.Client, later)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Scans < 1 || rep.Requests == 0 || rep.CareTags == 0 || rep.Reads == 0 {
			t.Fatalf("purge four years on did too little: %+v", rep)
		}
		if after := stats(); after != before {
			t.Fatalf("statistics changed by the purge:\nbefore %s\nafter  %s", before, after)
		}

		// What was past retention is gone.
		if n, _ := e.Client.CheckInScan.Query().Count(e.Sys()); n != 0 {
			t.Errorf("%d scans left", n)
		}
		if n, _ := e.Client.SensitiveRead.Query().Count(e.Sys()); n != 0 {
			t.Errorf("%d reads left", n)
		}
		hs, err := e.Client.Household.Query().Where(household.CommunityID(c.ID)).All(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if len(h.CareTags) > 0 {
				t.Fatalf("household %d keeps care tags %v", h.ID, h.CareTags)
			}
		}
		closed, err := e.Client.Request.Query().Where(request.CommunityID(c.ID), request.StatusEQ(request.StatusCLOSED)).All(e.Sys())
		if err != nil || len(closed) == 0 {
			t.Fatalf("closed requests: %d, %v", len(closed), err)
		}
		for _, r := range closed {
			if r.Title != retention.Cleared || r.Description != "" || r.Resolution != nil {
				t.Fatalf("request %s keeps its text: %q %q %v", r.Number, r.Title, r.Description, r.Resolution)
			}
		}
		if n, _ := e.Client.RequestEvent.Query().Where(requestevent.RequestIDIn(ids(closed)...), requestevent.NoteNEQ("")).Count(e.Sys()); n != 0 {
			t.Errorf("%d history notes of closed requests left", n)
		}
		// Open requests keep theirs.
		if n, _ := e.Client.Request.Query().Where(request.CommunityID(c.ID), request.StatusNotIn(request.StatusCLOSED, request.StatusREJECTED), request.TitleEQ(retention.Cleared)).Count(e.Sys()); n != 0 {
			t.Errorf("%d open requests anonymised", n)
		}

		// Audited, on an intact chain; a second run finds nothing.
		var log struct {
			AuditLog struct{ TotalCount int }
		}
		e.Do(t, staff, `query($c: ID) { auditLog(communityID: $c, where: {actions: ["retention.purge"]}, first: 5) { totalCount } }`,
			map[string]any{"c": e.ID(c.ID)}).Decode(t, &log)
		if log.AuditLog.TotalCount != 1 {
			t.Errorf("retention.purge entries: %d", log.AuditLog.TotalCount)
		}
		if v, err := audit.Verify(ctx, e.Client, nil); err != nil || len(v.Broken) > 0 {
			t.Fatalf("chain after purge: %+v %v", v, err)
		}
		again, err := retention.Purge(ctx, e.Client, later)
		if err != nil {
			t.Fatal(err)
		}
		if again.Scans+again.Requests+again.RequestNotes+again.CareTags+again.Reads != 0 {
			t.Errorf("second purge: %+v", again)
		}
	})
}

func ids(rs []*ent.Request) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// TestRetentionSettings: staff read their community's retention, only
// admins change it, within the floors, audited; the purge follows it.
func TestRetentionSettings(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "跃进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, otherStaff := e.Person(t, other.ID, "外社工", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "居民")
		_, admin := e.Person(t, other.ID, "管理员", viewer.Admin)
		get := `query($c: ID!) { retention(communityID: $c) { scanDays requestTextDays careTagDays notificationDays readLogDays } }`
		set := `mutation($c: ID!, $in: RetentionInput!) { setRetention(communityID: $c, input: $in) { scanDays readLogDays } }`
		type ret struct{ ScanDays, RequestTextDays, CareTagDays, NotificationDays, ReadLogDays int }
		var got struct{ Retention ret }
		e.Do(t, staff, get, map[string]any{"c": e.ID(c.ID)}).Decode(t, &got)
		d := retention.Defaults
		if got.Retention != (ret{d.ScanDays, d.RequestTextDays, d.CareTagDays, d.NotificationDays, d.ReadLogDays}) {
			t.Fatalf("defaults: %+v", got.Retention)
		}
		e.Do(t, otherStaff, get, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, resident, get, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "FORBIDDEN")
		for _, tok := range []string{staff, resident} {
			e.Do(t, tok, set, map[string]any{"c": e.ID(c.ID), "in": map[string]any{"scanDays": 60}}).WantCode(t, "FORBIDDEN")
		}
		r := e.Do(t, admin, set, map[string]any{"c": e.ID(c.ID), "in": map[string]any{"readLogDays": 30}})
		r.WantCode(t, "VALIDATION_FAILED")
		if r.Field() != "readLogDays" {
			t.Errorf("field %q", r.Field())
		}
		var changed struct {
			SetRetention struct{ ScanDays, ReadLogDays int }
		}
		e.Do(t, admin, set, map[string]any{"c": e.ID(c.ID), "in": map[string]any{"scanDays": 60}}).Decode(t, &changed)
		if changed.SetRetention.ScanDays != 60 || changed.SetRetention.ReadLogDays != d.ReadLogDays {
			t.Fatalf("set: %+v", changed.SetRetention)
		}
		var log struct {
			AuditLog struct{ TotalCount int }
		}
		e.Do(t, staff, `query($c: ID) { auditLog(communityID: $c, where: {actions: ["retention.set"]}, first: 5) { totalCount } }`,
			map[string]any{"c": e.ID(c.ID)}).Decode(t, &log)
		if log.AuditLog.TotalCount != 1 {
			t.Errorf("retention.set entries: %d", log.AuditLog.TotalCount)
		}
		// The purge follows the community's choice: a scan 90 days old goes
		// in c (60 days) and stays in other (the default year).
		old := time.Now().AddDate(0, 0, -90)
		for i, cid := range []int{c.ID, other.ID} {
			if err := e.Client.CheckInScan.Create().SetCommunityID(cid).SetNonce("old-" + string(rune('a'+i))).SetKind("IN").SetMethod("MANUAL").
				SetStatus("OK").SetScannedAt(old).SetRecordedAt(old).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
		// Notifications: one past the default 180 days, one recent.
		p, _ := e.Person(t, c.ID, "收件人")
		for i, at := range []time.Time{time.Now().AddDate(0, 0, -200), time.Now().AddDate(0, 0, -10)} {
			if err := e.Client.Notification.Create().SetCommunityID(c.ID).SetPersonID(p.ID).SetKind("REMINDER").
				SetTitle("提醒").SetBody("明天上午义诊").SetSource("test:" + string(rune('a'+i))).SetCreatedAt(at).Exec(e.Sys()); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := retention.Purge(context.Background(), e.Client, time.Now())
		if err != nil || rep.Scans != 1 || rep.Notifications != 1 {
			t.Fatalf("purge: %+v %v", rep, err)
		}
		if n, _ := e.Client.Notification.Query().Count(e.Sys()); n != 1 {
			t.Errorf("%d notifications left, want the recent one", n)
		}
		// The purge is the daily periodic job of the app's runner.
		j, err := e.Client.Job.Query().Where(job.UniqueKey(jobs.PeriodicKey(retention.JobKind))).Only(e.Sys())
		if err != nil || j.Kind != retention.JobKind || j.PeriodSeconds != int(retention.Every/time.Second) {
			t.Fatalf("periodic job: %+v %v", j, err)
		}
		if n, _ := e.Client.CheckInScan.Query().Count(e.Sys()); n != 1 {
			t.Errorf("%d scans left, want other's", n)
		}
	})
}
