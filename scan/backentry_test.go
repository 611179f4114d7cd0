package scan_test

import (
	"math"
	"testing"
	"time"

	"linli/ent/servicerecord"
	"linli/linlitest"
	"linli/viewer"
)

// sheet is a site whose activity ended `ago` before now, with three
// volunteers (doctors) and a resident signed up while it was ahead.
type sheet struct {
	*site
	docs  []member
	regs  []reg
	res   member
	rreg  reg
	start time.Time
}

func newSheet(t *testing.T, e *linlitest.Env, ago time.Duration) *sheet {
	t.Helper()
	s := &sheet{site: newSite(t, e, "前进社区")}
	for _, n := range []string{"王医生", "李医生", "赵医生"} {
		m := s.member(t, n, viewer.Volunteer)
		s.docs = append(s.docs, m)
		s.regs = append(s.regs, s.signUp(t, m, s.doctors, 1))
	}
	s.res = s.member(t, "张阿姨")
	s.rreg = s.signUp(t, s.res, s.seats, 1)
	s.moveTo(t, ago)
	return s
}

// moveTo makes the activity (3 hours long) end `ago` before now.
func (s *sheet) moveTo(t *testing.T, ago time.Duration) {
	t.Helper()
	s.start = time.Now().UTC().Add(-ago - 3*time.Hour).Truncate(time.Second)
	a, err := s.activity.Update().SetStartsAt(s.start).SetEndsAt(s.start.Add(3 * time.Hour)).Save(s.e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	s.activity = a
}

type line struct {
	Status, Message string
	Field           *string
	Registration    *struct{ ID, Status string }
	ServiceRecord   *struct {
		ID               string
		FlaggedForReview bool
		Hours            float64
	}
}

const recordAttendance = `mutation($a: ID!, $e: [AttendanceEntryInput!]!) { recordAttendance(activityID: $a, entries: $e) {
	status message field registration { id status } serviceRecord { id flaggedForReview hours } } }`

func (s *sheet) record(t *testing.T, token string, entries ...map[string]any) []line {
	t.Helper()
	var out struct{ RecordAttendance []line }
	s.e.Do(t, token, recordAttendance, map[string]any{"a": linlitest.ID(s.activity.ID), "e": entries}).Decode(t, &out)
	if len(out.RecordAttendance) != len(entries) {
		t.Fatalf("%d answers to %d lines", len(out.RecordAttendance), len(entries))
	}
	return out.RecordAttendance
}

func ts(t time.Time) string { return t.Format(time.RFC3339) }

func byReg(r reg, in time.Time, out *time.Time) map[string]any {
	m := map[string]any{"registrationID": linlitest.ID(r.ID), "checkedInAt": ts(in)}
	if out != nil {
		m["checkedOutAt"] = ts(*out)
	}
	return m
}

func wantLine(t *testing.T, l line, status string) {
	t.Helper()
	if l.Status != status || l.Message == "" {
		t.Fatalf("line %+v, want %s with a message", l, status)
	}
}

// TestBackEntryWindow: a sheet is entered from the activity's end for
// -back-entry-days (30) days, boundaries included; each line's times are
// weighed against the slot's check-in window like any check-in.
func TestBackEntryWindow(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 48*time.Hour)
		in := func() time.Time { return s.start.Add(10 * time.Minute) }
		// Not yet ended: that is manualCheckIn's job.
		s.moveTo(t, -time.Hour)
		s.e.Do(t, s.staff, recordAttendance, map[string]any{"a": linlitest.ID(s.activity.ID), "e": []any{byReg(s.regs[0], time.Now().Add(-time.Minute), nil)}}).
			WantCode(t, "BACK_ENTRY_WINDOW_CLOSED")
		// Ended 30 days and a minute ago: closed.
		s.moveTo(t, 30*24*time.Hour+time.Minute)
		s.e.Do(t, s.staff, recordAttendance, map[string]any{"a": linlitest.ID(s.activity.ID), "e": []any{byReg(s.regs[0], in(), nil)}}).
			WantCode(t, "BACK_ENTRY_WINDOW_CLOSED")
		// A minute inside the 30 days: open; and far outside the slot's
		// window a line is TOO_EARLY or TOO_LATE, inside it OK.
		s.moveTo(t, 30*24*time.Hour-time.Minute)
		opens := s.start.Add(-time.Duration(s.activity.CheckinOpensMinutes) * time.Minute)
		got := s.record(t, s.staff,
			byReg(s.regs[0], opens.Add(-time.Minute), nil),
			byReg(s.regs[1], s.start.Add(3*time.Hour+time.Minute), nil),
			byReg(s.regs[2], opens, nil),
		)
		wantLine(t, got[0], "TOO_EARLY")
		wantLine(t, got[1], "TOO_LATE")
		wantLine(t, got[2], "OK")
		if got[2].Registration == nil || got[2].Registration.Status != "CHECKED_IN" {
			t.Fatalf("boundary line %+v", got[2])
		}
		s.wantCheckedIn(t, s.doctors.ID, 1)
	})
}

// TestBackEntryRefusals: each bad line gets its code, and the good lines
// of the same sheet go through; people by ID, by name and phone; nobody
// but staff of the community enters a sheet.
func TestBackEntryRefusals(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 24*time.Hour)
		in, out := s.start.Add(5*time.Minute), s.start.Add(2*time.Hour)
		stranger, _ := e.Person(t, s.community.ID, "路人")
		if _, err := e.Client.Registration.UpdateOneID(s.regs[2].ID).SetStatus("CANCELLED").Save(e.Sys()); err != nil {
			t.Fatal(err)
		}
		early := out.Add(-3 * time.Hour)
		late := s.start.Add(12 * time.Hour) // past the end and the check-out grace
		got := s.record(t, s.staff,
			map[string]any{"personID": linlitest.ID(s.docs[0].person.ID), "checkedInAt": ts(in), "checkedOutAt": ts(out)},
			map[string]any{"name": "张阿姨", "phone": s.res.person.Phone, "checkedInAt": ts(in)},
			map[string]any{"personID": linlitest.ID(stranger.ID), "checkedInAt": ts(in)},
			map[string]any{"name": "张阿姨", "phone": "12", "checkedInAt": ts(in)},
			map[string]any{"checkedInAt": ts(in)},
			byReg(s.regs[1], in, &early),
			byReg(s.regs[2], in, nil),
			map[string]any{"registrationID": linlitest.ID(s.regs[1].ID), "checkedInAt": ts(time.Now().Add(time.Hour))},
			byReg(s.regs[1], in, &late),
		)
		wantLine(t, got[0], "OK")
		wantLine(t, got[1], "OK")
		wantLine(t, got[2], "NOT_FOUND")
		wantLine(t, got[3], "VALIDATION_FAILED")
		wantLine(t, got[4], "VALIDATION_FAILED")
		wantLine(t, got[5], "VALIDATION_FAILED")
		wantLine(t, got[6], "CANCELLED")
		wantLine(t, got[7], "VALIDATION_FAILED")
		// The check-in of a line stands when its check-out is refused.
		wantLine(t, got[8], "TOO_LATE")
		if got[8].Registration == nil || got[8].Registration.Status != "CHECKED_IN" {
			t.Fatalf("line with a late check-out %+v", got[8])
		}
		for i, f := range map[int]string{3: "phone", 4: "name", 5: "checkedOutAt", 7: "checkedInAt"} {
			if got[i].Field == nil || *got[i].Field != f {
				t.Errorf("line %d: field %v, want %s", i, got[i].Field, f)
			}
		}
		if got[0].Registration.Status != "CHECKED_OUT" || got[0].ServiceRecord == nil || !got[0].ServiceRecord.FlaggedForReview ||
			got[1].Registration.Status != "CHECKED_IN" || got[1].ServiceRecord != nil {
			t.Fatalf("lines %+v %+v", got[0], got[1])
		}
		s.wantCheckedIn(t, s.doctors.ID, 2)
		s.wantCheckedIn(t, s.seats.ID, 1)
		var n struct{ AuditLog struct{ TotalCount int } }
		e.Do(t, s.staff, `{ auditLog(where: {actions: ["checkin.back_entry"]}, first: 1) { totalCount } }`, nil).Decode(t, &n)
		if n.AuditLog.TotalCount != 3 {
			t.Fatalf("%d back-entries audited, want 3 (two lines, and the check-in of the third)", n.AuditLog.TotalCount)
		}

		_, resident := e.Person(t, s.community.ID, "居民")
		other := e.Community(t, "跃进社区")
		_, otherStaff := e.Person(t, other.ID, "外社工", viewer.Coordinator)
		vars := map[string]any{"a": linlitest.ID(s.activity.ID), "e": []any{byReg(s.regs[1], in, nil)}}
		e.Do(t, resident, recordAttendance, vars).WantCode(t, "FORBIDDEN")
		e.Do(t, otherStaff, recordAttendance, vars).WantCode(t, "NOT_FOUND") // another community's activity does not exist for them
		e.Do(t, "", recordAttendance, vars).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, s.staff, recordAttendance, map[string]any{"a": linlitest.ID(s.activity.ID), "e": []any{}}).WantCode(t, "VALIDATION_FAILED")
	})
}

// TestBackEntryNoDoubleCount: a line for someone checked in already (at
// the door, or by an earlier line) is ALREADY_CHECKED_IN and changes
// nothing: one check-in, one attendee person-time, one service record.
func TestBackEntryNoDoubleCount(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 24*time.Hour)
		in, out := s.start.Add(5*time.Minute), s.start.Add(2*time.Hour)
		stats := func() (persons int, hours float64) {
			var st struct {
				CommunityStatistics struct {
					AttendeePersonTimes int
					ServiceHours        float64
				}
			}
			s.e.Do(t, s.staff, `query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) { attendeePersonTimes serviceHours } }`,
				map[string]any{"c": linlitest.ID(s.community.ID), "f": ts(s.start.Add(-24 * time.Hour)), "t": ts(time.Now().Add(time.Hour))}).Decode(t, &st)
			return st.CommunityStatistics.AttendeePersonTimes, st.CommunityStatistics.ServiceHours
		}
		p0, h0 := stats()
		got := s.record(t, s.staff, byReg(s.rreg, in, nil), byReg(s.regs[0], in, &out), byReg(s.rreg, in.Add(time.Minute), nil))
		wantLine(t, got[0], "OK")
		wantLine(t, got[1], "OK")
		wantLine(t, got[2], "ALREADY_CHECKED_IN")
		again := s.record(t, s.staff, byReg(s.regs[0], in, &out))
		wantLine(t, again[0], "ALREADY_CHECKED_IN")
		s.wantCheckedIn(t, s.seats.ID, 1)
		s.wantCheckedIn(t, s.doctors.ID, 1)
		if n, err := e.Client.ServiceRecord.Query().Count(e.Sys()); err != nil || n != 1 {
			t.Fatalf("%d service records, %v", n, err)
		}
		p1, h1 := stats()
		if p1 != p0+1 || math.Abs(h1-h0-got[1].ServiceRecord.Hours) > 0.01 || got[1].ServiceRecord.Hours <= 0 {
			t.Fatalf("attendees %d → %d, hours %v → %v (record %v)", p0, p1, h0, h1, got[1].ServiceRecord.Hours)
		}
	})
}

// TestBackEntryConfirmation: a back-entered service record stays flagged
// until a second staff member confirms it; who entered it may not; every
// line and the confirmation are in the audit log.
func TestBackEntryConfirmation(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 24*time.Hour)
		_, second := e.Person(t, s.community.ID, "社工二", viewer.Coordinator)
		in, out := s.start.Add(5*time.Minute), s.start.Add(2*time.Hour)
		got := s.record(t, s.staff, byReg(s.regs[0], in, &out), byReg(s.regs[1], in, &out), byReg(s.regs[1], in, &out))
		rec := got[0].ServiceRecord
		if rec == nil || !rec.FlaggedForReview {
			t.Fatalf("line %+v", got[0])
		}
		if sv := s.volunteerService(t, s.docs[0].token, 0); !near(sv.FlaggedHours, rec.Hours) {
			t.Fatalf("flagged hours %v, want %v", sv.FlaggedHours, rec.Hours)
		}
		confirm := `mutation($id: ID!) { confirmServiceRecord(id: $id) { id flaggedForReview } }`
		vars := map[string]any{"id": rec.ID}
		s.e.Do(t, s.staff, confirm, vars).WantCode(t, "FORBIDDEN")
		_, resident := e.Person(t, s.community.ID, "居民")
		s.e.Do(t, resident, confirm, vars).WantCode(t, "NOT_FOUND")
		// The volunteer sees their record but is not staff.
		s.e.Do(t, s.docs[0].token, confirm, vars).WantCode(t, "FORBIDDEN")
		_, otherStaff := e.Person(t, e.Community(t, "跃进社区").ID, "外社工", viewer.Coordinator)
		s.e.Do(t, otherStaff, confirm, vars).WantCode(t, "NOT_FOUND")
		var c struct {
			ConfirmServiceRecord struct{ FlaggedForReview bool }
		}
		s.e.Do(t, second, confirm, vars).Decode(t, &c)
		if c.ConfirmServiceRecord.FlaggedForReview {
			t.Fatal("still flagged after a second staff member confirmed")
		}
		s.e.Do(t, second, confirm, vars).WantCode(t, "CONFLICT")
		if sv := s.volunteerService(t, s.docs[0].token, 0); sv.FlaggedHours != 0 || !near(sv.TotalHours, rec.Hours) {
			t.Fatalf("after confirmation %+v", sv)
		}
		n, err := e.Client.ServiceRecord.Query().Where(servicerecord.FlaggedForReview(true)).Count(e.Sys())
		if err != nil || n != 1 {
			t.Fatalf("%d records still flagged (want the other line's), %v", n, err)
		}

		var log struct {
			AuditLog struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Action, SubjectID, ClientAddress string
						Actor                            *struct{ DisplayName string }
					}
				}
			}
		}
		q := `query($w: AuditLogFilter) { auditLog(where: $w, first: 50) { totalCount edges { node { action subjectID clientAddress actor { displayName } } } } }`
		s.e.Do(t, s.staff, q, map[string]any{"w": map[string]any{"actions": []string{"checkin.back_entry"}}}).Decode(t, &log)
		if log.AuditLog.TotalCount != 2 {
			t.Fatalf("%d back-entry entries, want one per OK line", log.AuditLog.TotalCount)
		}
		for _, ed := range log.AuditLog.Edges {
			if ed.Node.Actor == nil || ed.Node.Actor.DisplayName != "社工" || ed.Node.ClientAddress != "127.0.0.1" {
				t.Fatalf("entry %+v", ed.Node)
			}
		}
		s.e.Do(t, s.staff, q, map[string]any{"w": map[string]any{"actions": []string{"service_record.confirm"}}}).Decode(t, &log)
		if log.AuditLog.TotalCount != 1 || log.AuditLog.Edges[0].Node.SubjectID != rec.ID || log.AuditLog.Edges[0].Node.Actor.DisplayName != "社工二" {
			t.Fatalf("confirmation entries %+v", log.AuditLog)
		}
	})
}

// TestBackEntryWalkIn: someone on the sheet who never signed up is a
// walk-in at the time they came, by the door's rules: eligibility, free
// seats, the check-in window; a second line for them is ALREADY_CHECKED_IN.
func TestBackEntryWalkIn(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSheet(t, e, 24*time.Hour)
		// Two of the three doctor positions are taken by lines below.
		in, out := s.start.Add(5*time.Minute), s.start.Add(2*time.Hour)
		newcomer := linlitest.NextPhone()
		walk := func(name, phone string, slotID int, at time.Time) map[string]any {
			return map[string]any{"name": name, "phone": phone, "slotID": linlitest.ID(slotID), "checkedInAt": ts(at), "checkedOutAt": ts(out)}
		}
		vol, _ := e.Person(t, s.community.ID, "孙医生", viewer.Volunteer)
		if err := e.Client.Slot.UpdateOneID(s.doctors.ID).SetCapacity(4).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		got := s.record(t, s.staff,
			walk("新居民", newcomer, s.seats.ID, in),
			walk("新居民", newcomer, s.seats.ID, in),
			walk("路人", linlitest.NextPhone(), s.doctors.ID, in),
			walk("孙医生", vol.Phone, s.doctors.ID, s.start.Add(-24*time.Hour)),
			walk("孙医生", vol.Phone, s.doctors.ID, in),
			map[string]any{"name": "新居民", "phone": newcomer[len(newcomer)-4:], "checkedInAt": ts(in)},
		)
		wantLine(t, got[0], "OK")
		wantLine(t, got[1], "ALREADY_CHECKED_IN")
		wantLine(t, got[2], "NOT_ELIGIBLE")
		wantLine(t, got[3], "TOO_EARLY")
		wantLine(t, got[4], "OK")
		wantLine(t, got[5], "ALREADY_CHECKED_IN")
		if got[0].Registration == nil || got[0].Registration.Status != "CHECKED_OUT" || got[4].ServiceRecord == nil || !got[4].ServiceRecord.FlaggedForReview {
			t.Fatalf("walk-in lines %+v %+v", got[0], got[4])
		}
		s.wantCheckedIn(t, s.seats.ID, 1)
		s.wantCheckedIn(t, s.doctors.ID, 1)
		// The doctors' slot is full now (3 signed up and 孙医生): no more walk-ins.
		other, _ := e.Person(t, s.community.ID, "周医生", viewer.Volunteer)
		full := s.record(t, s.staff, walk("周医生", other.Phone, s.doctors.ID, in))
		wantLine(t, full[0], "CAPACITY_FULL")
	})
}
