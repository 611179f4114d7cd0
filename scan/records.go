package scan

import (
	"context"
	"fmt"
	"linli/ent/notification"
	"linli/notify"
	"strconv"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/predicate"
	"linli/ent/servicerecord"
	"linli/ent/teammembership"
	"linli/hours"
	"linli/viewer"
)

// autoCloseReason flags a service record linli closed itself because
// nobody checked out; a later real check-out scan replaces it.
const autoCloseReason = "未签退，已按岗位结束时间自动签退，待核实"

// RecordInfo is what a service record says besides its times: the fields
// the national volunteer-record rules ask for.
type RecordInfo struct {
	ActivityName, Place, Content, Team, InCharge, RecordedBy string
}

// NewRecordInfo is the record fields of a position in slot sl of activity
// a: held at venue v (nil: online, "线上"; the address follows the name),
// organised by team tm whose leader leader is in charge, or without a team
// by community c; recorded by recordedBy.
func NewRecordInfo(a *ent.Activity, sl *ent.Slot, v *ent.Venue, tm *ent.Team, c *ent.Community, leader, recordedBy string) *RecordInfo {
	info := &RecordInfo{ActivityName: a.Title, Content: sl.Name, Place: "线上", RecordedBy: recordedBy}
	if v != nil {
		info.Place = v.Name
		if v.Address != "" {
			info.Place += "（" + v.Address + "）"
		}
	}
	if c != nil {
		info.Team = c.Name
	}
	if tm != nil {
		info.Team, info.InCharge = tm.Name, leader
	}
	return info
}

// loadRecordInfo gathers a volunteer position's record fields. It runs as
// linli itself: the scanner was authorized for the registration already.
func (s *Service) loadRecordInfo(ctx context.Context, who scanner, t *target) (*RecordInfo, error) {
	sys := viewer.System(ctx)
	a, err := s.client.Activity.Query().Where(activity.ID(t.activityID)).
		WithVenue().WithTeam().WithCommunity().Only(sys)
	if err != nil {
		return nil, err
	}
	sl, err := s.client.Slot.Get(sys, t.slotID)
	if err != nil {
		return nil, err
	}
	leader := ""
	if tm := a.Edges.Team; tm != nil {
		lead, err := s.client.TeamMembership.Query().
			Where(teammembership.TeamID(tm.ID), teammembership.RoleEQ(teammembership.RoleLEADER)).
			Order(ent.Asc(teammembership.FieldID)).WithPerson().First(sys)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if lead != nil && lead.Edges.Person != nil {
			leader = lead.Edges.Person.DisplayName
		}
	}
	by, err := s.recordedBy(sys, who)
	if err != nil {
		return nil, err
	}
	return NewRecordInfo(a, sl, a.Edges.Venue, a.Edges.Team, a.Edges.Community, leader, by), nil
}

// recordedBy names who recorded a service: the kiosk, the staff member, or
// linli itself (a check-out it closed).
func (s *Service) recordedBy(sys context.Context, who scanner) (string, error) {
	switch {
	case who.kioskID != 0:
		k, err := s.client.Kiosk.Get(sys, who.kioskID)
		if err != nil {
			return "", err
		}
		return "签到终端：" + k.Name, nil
	case who.actorID != 0:
		p, err := s.client.Person.Get(sys, who.actorID)
		if err != nil {
			return "", err
		}
		return p.DisplayName, nil
	}
	return "系统自动签退", nil
}

// registrationTimes reads a registration's check-in and check-out times
// inside tx, after they were written.
func registrationTimes(ctx context.Context, tx *ent.Tx, regID int) (in, out time.Time, err error) {
	r, err := tx.Registration.Get(ctx, regID)
	if err != nil {
		return in, out, err
	}
	if r.CheckedInAt != nil {
		in = *r.CheckedInAt
	}
	if r.CheckedOutAt != nil {
		out = *r.CheckedOutAt
	}
	return in, out, nil
}

// insertRecord records a volunteer's service for a registration just
// checked out in tx: its check-in to check-out bounded by the door's
// window (target.served). flag, when set, marks it for review.
func (s *Service) insertRecord(ctx context.Context, tx *ent.Tx, info *RecordInfo, t *target, flag string, now time.Time) (int, error) {
	in, out, err := registrationTimes(ctx, tx, t.regID)
	if err != nil {
		return 0, err
	}
	b, minutes := NewRecord(tx.ServiceRecord.Create().SetCreatedAt(now).SetUpdatedAt(now), info,
		t.activity, t.slot, s.rules.grace, t.regID, t.personID, in, out)
	if flag == "" {
		// The door's scans happened: a record overlapping another of the
		// volunteer's is kept, flagged for review (a home visit is refused).
		sin, sout, _ := Served(t.activity, t.slot, s.rules.grace, in, out)
		clash, err := hours.Overlaps(ctx, tx, sin, sout, &t.regID, t.personID)
		if err != nil {
			return 0, err
		}
		if clash {
			flag = hours.OverlapReason
		}
	}
	if err = b.SetFlaggedForReview(flag != "").SetFlagReason(flag).Exec(ctx); err != nil {
		return minutes, err
	}
	return minutes, notify.Emit(ctx, tx, notify.Event{Kind: notification.KindHOURS_CREDITED, CommunityID: t.activity.CommunityID,
		ActivityID: t.activity.ID, RegistrationID: t.regID, PersonIDs: []int{t.personID}, Note: strconv.FormatFloat(hours.Of(minutes), 'f', -1, 64)})
}

// NewRecord fills b with the service record of registration regID of
// personID in slot sl of activity a, checked in at in and out at out: the
// part of that inside the door's window and grace (Served), in whole
// minutes, which it also returns. The caller sets the review flag and the row's own times.
func NewRecord(b *ent.ServiceRecordCreate, info *RecordInfo, a *ent.Activity, sl *ent.Slot, grace time.Duration, regID, personID int, in, out time.Time) (*ent.ServiceRecordCreate, int) {
	in, out, minutes := Served(a, sl, grace, in, out)
	return b.SetCommunityID(a.CommunityID).SetPersonID(personID).SetRegistrationID(regID).SetActivityID(a.ID).
		SetActivityName(hours.Clip(info.ActivityName, 200)).SetServiceDate(hours.Date(in)).
		SetPlace(hours.Clip(info.Place, 300)).SetServiceContent(hours.Clip(info.Content, 500)).
		SetStartedAt(in).SetEndedAt(out).SetMinutes(minutes).SetOrganizingTeam(hours.Clip(info.Team, 100)).
		SetPersonInCharge(hours.Clip(info.InCharge, 100)).SetRecordedBy(hours.Clip(info.RecordedBy, 100)), minutes
}

// retimeRecord brings a registration's service record (if it has one) in
// line with its times after a real check-out (realOut) replaced one linli
// made itself, and clears that record's flag. Records staff corrected stay
// as corrected.
func (s *Service) retimeRecord(ctx context.Context, tx *ent.Tx, t *target, realOut bool, now time.Time) (int, error) {
	in, out, err := registrationTimes(ctx, tx, t.regID)
	if err != nil || out.IsZero() {
		return 0, err
	}
	in, out, minutes := t.served(in, out, s.rules.grace)
	mine := []predicate.ServiceRecord{servicerecord.RegistrationID(t.regID), servicerecord.CorrectedAtIsNil()}
	if err := tx.ServiceRecord.Update().Where(mine...).SetStartedAt(in).SetEndedAt(out).SetMinutes(minutes).
		SetServiceDate(hours.Date(in)).SetUpdatedAt(now).Exec(ctx); err != nil || !realOut {
		return minutes, err
	}
	err = tx.ServiceRecord.Update().Where(append(mine, servicerecord.FlagReason(autoCloseReason))...).
		SetFlaggedForReview(false).SetFlagReason("").Exec(ctx)
	return minutes, err
}

// flagMovedRecord is what an offline scan uploaded after a volunteer's
// service record was made does when it would change the record: instead of
// moving the record's times (and hours) silently, it flags the record for
// staff review, saying what the scan said. A scan that would not change
// the hours (an earlier check-in before the slot started) changes nothing.
// It reports whether the registration had a record.
func (s *Service) flagMovedRecord(ctx context.Context, tx *ent.Tx, t *target, kind checkinscan.Kind, at time.Time) (hasRecord, flagged bool, err error) {
	rec, err := recordOf(ctx, tx, t.regID)
	if err != nil || rec == nil {
		return false, false, err
	}
	in, out, err := registrationTimes(ctx, tx, t.regID)
	if err != nil {
		return true, false, err
	}
	what := "签到"
	if kind == In {
		in = at
	} else {
		out, what = at, "签退"
	}
	if _, _, m := t.served(in, out, s.rules.grace); m == rec.Minutes {
		return true, false, nil
	}
	u := tx.ServiceRecord.UpdateOne(rec).SetFlaggedForReview(true)
	// The first reason stays (a check-out linli made itself keeps saying so).
	if rec.FlagReason == "" {
		reason := fmt.Sprintf("离线补传的%s扫码（%s）与记录不符，待核实", what, at.In(cst.Zone).Format("2006-01-02 15:04"))
		u.SetFlagReason(hours.Clip(reason, 300))
	}
	return true, true, u.Exec(ctx)
}

// recordOf reads the service record of a registration in tx; nil when it
// has none.
func recordOf(ctx context.Context, tx *ent.Tx, regID int) (*ent.ServiceRecord, error) {
	r, err := tx.ServiceRecord.Query().Where(servicerecord.RegistrationID(regID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return r, err
}
