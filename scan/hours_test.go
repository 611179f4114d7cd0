package scan_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/auditentry"
	"linli/ent/servicerecord"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

// clinic is a morning clinic that started 3 hours ago at the kiosk's venue,
// organised by a team with a leader, with its doctors signed up while it
// was still ahead.
type clinic struct {
	*site
	activity *ent.Activity
	doctors  *ent.Slot
	starts   time.Time
	docs     []member
	regs     []reg
}

func newClinic(t *testing.T, s *site, doctors int, started time.Duration) *clinic {
	t.Helper()
	e := s.e
	team, err := e.Client.Team.Create().SetCommunityID(s.community.ID).SetName("医疗健康队").Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	leader := s.member(t, "李队长", viewer.Volunteer)
	if err := e.Client.TeamMembership.Create().SetCommunityID(s.community.ID).SetTeamID(team.ID).
		SetPersonID(leader.person.ID).SetRole(teammembership.RoleLEADER).Exec(e.Sys()); err != nil {
		t.Fatal(err)
	}
	a, _, docSlot := s.newActivity(t, s.venue.ID, time.Now().Add(time.Hour))
	c := &clinic{site: s, doctors: docSlot}
	for i := 0; i < doctors; i++ {
		m := s.member(t, "王医生", viewer.Volunteer)
		c.docs = append(c.docs, m)
		c.regs = append(c.regs, s.signUp(t, m, docSlot, 1))
	}
	c.starts = time.Now().Add(-started).UTC().Truncate(time.Minute)
	a, err = a.Update().SetTeamID(team.ID).SetStartsAt(c.starts).SetEndsAt(c.starts.Add(3 * time.Hour)).Save(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	c.activity = a
	return c
}

// at is a scan made offline at the given time.
func at(t time.Time) map[string]any { return map[string]any{"at": t.Format(time.RFC3339Nano)} }

type service struct {
	TotalHours, FlaggedHours float64
	RecordCount, StarLevel   int
	HoursToNextStar          *float64
}

func (s *site) volunteerService(t *testing.T, token string, personID int) service {
	t.Helper()
	var out struct{ VolunteerService service }
	vars := map[string]any{}
	if personID != 0 {
		vars["p"] = linlitest.ID(personID)
	}
	s.e.Do(t, token, `query($p: ID) { volunteerService(personID: $p) { totalHours flaggedHours recordCount starLevel hoursToNextStar } }`, vars).
		Decode(t, &out)
	return out.VolunteerService
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestServiceHours: a doctor checks in at 8:50 and out at 11:40 for a
// position from 9:00; the record credits 8:50 to 11:40 (the door took the
// check-in) and has the national
// fields, the hours give a star level, a certificate verifies. A doctor who never checks out is closed at the end and flagged;
// staff correct it (audited); undo removes a record.
func TestServiceHours(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e, "前进社区")
		if err := s.community.Update().SetStarThresholds([]int{1, 2, 3, 4, 5}).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		c := newClinic(t, s, 3, 4*time.Hour)
		in := c.starts.Add(-10 * time.Minute)
		out := c.starts.Add(2*time.Hour + 40*time.Minute)
		doc := c.docs[0]

		wantStatus(t, s.scan(t, s.kiosk, "checkIn", c.regs[0].Code, nonce(), at(in)), "OK")
		a := s.scan(t, s.kiosk, "checkOut", c.regs[0].Code, nonce(), at(out))
		wantStatus(t, a, "OK")
		if !strings.Contains(a.Message, "2.8 小时") {
			t.Fatalf("check-out message %q does not give the hours", a.Message)
		}
		rec, err := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(c.regs[0].ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Minutes != 170 || rec.ActivityName != "义诊" || rec.ServiceContent != "医生" ||
			!strings.HasPrefix(rec.Place, "道德讲堂") || rec.OrganizingTeam != "医疗健康队" ||
			rec.PersonInCharge != "李队长" || rec.RecordedBy != "签到终端：前台平板" || rec.FlaggedForReview ||
			rec.ServiceDate != in.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02") || !rec.StartedAt.Equal(in) || !rec.EndedAt.Equal(out) {
			t.Fatalf("service record: %+v", rec)
		}

		// 170 minutes against thresholds 1..5 hours: two stars, 1/3 h to go.
		vs := s.volunteerService(t, doc.token, 0)
		if !near(vs.TotalHours, 170.0/60) || vs.StarLevel != 2 || vs.RecordCount != 1 || vs.HoursToNextStar == nil ||
			!near(*vs.HoursToNextStar, 3-170.0/60) {
			t.Fatalf("volunteer service: %+v", vs)
		}
		// Staff may read it; another resident may not.
		if got := s.volunteerService(t, s.staff, doc.person.ID); got.RecordCount != 1 {
			t.Fatalf("staff read %+v", got)
		}
		nosy := s.member(t, "邻居")
		e.Do(t, nosy.token, `query($p: ID) { volunteerService(personID: $p) { totalHours } }`,
			map[string]any{"p": linlitest.ID(doc.person.ID)}).WantCode(t, "NOT_FOUND")
		e.Do(t, nosy.token, `mutation { issueCertificate { code } }`, nil).WantCode(t, "NOT_ELIGIBLE")

		// The certificate verifies for anyone, dashes and case aside.
		var cert struct{ IssueCertificate struct{ Code string } }
		e.Do(t, doc.token, `mutation { issueCertificate { code } }`, nil).Decode(t, &cert)
		code := cert.IssueCertificate.Code
		var v struct {
			VerifyCertificate *struct {
				PersonName, CommunityName string
				TotalHours                float64
				StarLevel, RecordCount    int
			}
		}
		e.Do(t, "", `query($c: String!) { verifyCertificate(code: $c) { personName communityName totalHours starLevel recordCount } }`,
			map[string]any{"c": strings.ToLower(strings.ReplaceAll(code, "-", ""))}).Decode(t, &v)
		if got := v.VerifyCertificate; got == nil || got.PersonName != "王**" || got.CommunityName != "前进社区" ||
			!near(got.TotalHours, 170.0/60) || got.StarLevel != 2 || got.RecordCount != 1 {
			t.Fatalf("verification: %+v", got)
		}
		e.Do(t, "", `query { verifyCertificate(code: "AAAA-BBBB-CCCC-DDDD-EEEE") { personName } }`, nil).Decode(t, &v)
		if v.VerifyCertificate != nil {
			t.Fatal("a made-up code verified")
		}

		// The second doctor checks in and never out: closed at the end of
		// the slot, flagged. Nothing is closed before the grace period ends.
		second := c.regs[1]
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", second.Code, nonce(), at(c.starts.Add(5*time.Minute))), "OK")
		svc := e.App.Resolver.Checkin
		ends := c.starts.Add(3 * time.Hour)
		if n, err := svc.CloseMissingCheckOuts(context.Background(), ends.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("closed %d before the grace period ended (%v)", n, err)
		}
		if n, err := svc.CloseMissingCheckOuts(context.Background(), ends.Add(3*time.Hour)); err != nil || n != 1 {
			t.Fatalf("closed %d, want 1 (%v)", n, err)
		}
		if n, _ := svc.CloseMissingCheckOuts(context.Background(), ends.Add(3*time.Hour)); n != 0 {
			t.Fatalf("closed %d again", n)
		}
		flagged, err := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(second.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if !flagged.FlaggedForReview || flagged.Minutes != 175 || !flagged.EndedAt.Equal(ends) || flagged.RecordedBy != "系统自动签退" {
			t.Fatalf("closed record: %+v", flagged)
		}
		vs = s.volunteerService(t, c.docs[1].token, 0)
		if !near(vs.FlaggedHours, 175.0/60) || !near(vs.TotalHours, 175.0/60) {
			t.Fatalf("flagged hours: %+v", vs)
		}
		var list struct {
			ServiceRecords struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		e.Do(t, s.staff, `{ serviceRecords(flagged: true, first: 20) { totalCount edges { node { id } } } }`, nil).Decode(t, &list)
		if list.ServiceRecords.TotalCount != 1 || atoi(t, list.ServiceRecords.Edges[0].Node.ID) != flagged.ID {
			t.Fatalf("flagged list: %+v", list)
		}
		e.Do(t, doc.token, `{ serviceRecords(first: 20) { totalCount } }`, nil).Decode(t, &list)
		if list.ServiceRecords.TotalCount != 1 {
			t.Fatalf("a doctor sees %d records, want their own 1", list.ServiceRecords.TotalCount)
		}

		// Staff correct it: flag cleared, hours changed, audited.
		var corrected struct {
			CorrectServiceRecord struct {
				Hours            float64
				FlaggedForReview bool
			}
		}
		e.Do(t, s.staff, `mutation($id: ID!, $in: ServiceRecordCorrection!) { correctServiceRecord(id: $id, input: $in) { hours flaggedForReview } }`,
			map[string]any{"id": linlitest.ID(flagged.ID), "in": map[string]any{
				"startedAt": c.starts.Add(5 * time.Minute), "endedAt": c.starts.Add(2 * time.Hour), "reason": "电话核实：11:00 离开"}}).
			Decode(t, &corrected)
		if got := corrected.CorrectServiceRecord; got.FlaggedForReview || !near(got.Hours, 115.0/60) {
			t.Fatalf("corrected: %+v", got)
		}
		e.Do(t, doc.token, `mutation($id: ID!, $in: ServiceRecordCorrection!) { correctServiceRecord(id: $id, input: $in) { hours } }`,
			map[string]any{"id": linlitest.ID(rec.ID), "in": map[string]any{"startedAt": in, "endedAt": in.Add(20 * time.Hour), "reason": "多算点"}}).
			WantCode(t, "FORBIDDEN")
		s.wantAudit(t, "service_record.correct", 1)

		// A real check-out arriving late replaces linli's own: the third
		// doctor is closed, then their tablet uploads the real check-out
		// (10 minutes after the end, inside the grace: credited).
		third := c.regs[2]
		wantStatus(t, s.scan(t, s.kiosk, "checkIn", third.Code, nonce(), at(c.starts)), "OK")
		if n, err := svc.CloseMissingCheckOuts(context.Background(), ends.Add(3*time.Hour)); err != nil || n != 1 {
			t.Fatalf("closed %d, want 1 (%v)", n, err)
		}
		wantStatus(t, s.scan(t, s.kiosk, "checkOut", third.Code, nonce(), at(ends.Add(10*time.Minute))), "OK")
		real, err := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(third.ID)).Only(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if real.FlaggedForReview || real.Minutes != 190 {
			t.Fatalf("record after the real check-out: %+v", real)
		}

		// Undo of the first doctor's check-out removes their record (audited).
		e.Do(t, s.staff, `mutation($r: ID!) { undoCheckIn(registrationID: $r, reason: "签退扫错了人") { status } }`,
			map[string]any{"r": linlitest.ID(c.regs[0].ID)}).Decode(t, &struct{}{})
		if n, _ := e.Client.ServiceRecord.Query().Where(servicerecord.RegistrationID(c.regs[0].ID)).Count(e.Sys()); n != 0 {
			t.Fatal("undo left the service record")
		}
		if vs := s.volunteerService(t, doc.token, 0); vs.RecordCount != 0 || vs.StarLevel != 0 {
			t.Fatalf("after undo: %+v", vs)
		}
		s.wantAudit(t, "checkin.undo", 1)
		// The certificate is a snapshot: it still verifies what it said.
		e.Do(t, "", `query($c: String!) { verifyCertificate(code: $c) { totalHours } }`, map[string]any{"c": code}).Decode(t, &v)
		if v.VerifyCertificate == nil || !near(v.VerifyCertificate.TotalHours, 170.0/60) {
			t.Fatalf("certificate after undo: %+v", v.VerifyCertificate)
		}
	})
}

func (s *site) wantAudit(t *testing.T, action string, want int) {
	t.Helper()
	n, err := s.e.Client.AuditEntry.Query().Where(auditentry.Action(action), auditentry.CommunityID(s.community.ID)).Count(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("%d audit entries %s, want %d", n, action, want)
	}
}
