package scan

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/teammembership"
	"linli/hours"
	"linli/viewer"
)

// autoCloseReason flags a service record linli closed itself because
// nobody checked out; a later real check-out scan replaces it.
const autoCloseReason = "未签退，已按岗位结束时间自动签退，待核实"

// recordInfo is what a service record says besides its times: the fields
// the national volunteer-record rules ask for.
type recordInfo struct {
	activityName, place, content, team, inCharge, recordedBy string
}

// loadRecordInfo gathers a volunteer position's record fields. It runs as
// linli itself: the scanner was authorized for the registration already.
func (s *Service) loadRecordInfo(ctx context.Context, who scanner, t *target) (*recordInfo, error) {
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
	info := &recordInfo{activityName: a.Title, content: sl.Name, place: "线上"}
	if v := a.Edges.Venue; v != nil {
		info.place = v.Name
		if v.Address != "" {
			info.place += "（" + v.Address + "）"
		}
	}
	if a.Edges.Community != nil {
		info.team = a.Edges.Community.Name
	}
	if tm := a.Edges.Team; tm != nil {
		info.team = tm.Name
		lead, err := s.client.TeamMembership.Query().
			Where(teammembership.TeamID(tm.ID), teammembership.RoleEQ(teammembership.RoleLEADER)).
			Order(ent.Asc(teammembership.FieldID)).WithPerson().First(sys)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if lead != nil && lead.Edges.Person != nil {
			info.inCharge = lead.Edges.Person.DisplayName
		}
	}
	switch {
	case who.kioskID != 0:
		k, err := s.client.Kiosk.Get(sys, who.kioskID)
		if err != nil {
			return nil, err
		}
		info.recordedBy = "签到终端：" + k.Name
	case who.actorID != 0:
		p, err := s.client.Person.Get(sys, who.actorID)
		if err != nil {
			return nil, err
		}
		info.recordedBy = p.DisplayName
	default:
		info.recordedBy = "系统自动签退"
	}
	return info, nil
}

// registrationTimes reads a registration's check-in and check-out times
// inside tx, after they were written.
func (s *Service) registrationTimes(ctx context.Context, tx *sql.Tx, regID int) (in, out time.Time, err error) {
	var i, o sql.NullTime
	if _, err = s.one(ctx, tx, `SELECT checked_in_at, checked_out_at FROM registrations WHERE id = ?`, []any{regID}, &i, &o); err != nil {
		return in, out, err
	}
	return i.Time, o.Time, nil
}

// insertRecord records a volunteer's service for a registration just
// checked out in tx: the part of its check-in to check-out inside the slot
// (target.served). flag, when set, marks it for review.
func (s *Service) insertRecord(ctx context.Context, tx *sql.Tx, info *recordInfo, t *target, flag string, now time.Time) (int, error) {
	in, out, err := s.registrationTimes(ctx, tx, t.regID)
	if err != nil {
		return 0, err
	}
	in, out, minutes := t.served(in, out)
	_, err = s.exec(ctx, tx, `INSERT INTO service_records
(created_at, updated_at, community_id, person_id, registration_id, activity_id, activity_name, service_date, place,
 service_content, started_at, ended_at, minutes, organizing_team, person_in_charge, recorded_by,
 flagged_for_review, flag_reason, correction_reason)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		now, now, t.communityID, t.personID, t.regID, t.activityID, hours.Clip(info.activityName, 200), hours.Date(in),
		hours.Clip(info.place, 300), hours.Clip(info.content, 500), in, out, minutes, hours.Clip(info.team, 100),
		hours.Clip(info.inCharge, 100), hours.Clip(info.recordedBy, 100), flag != "", flag, "")
	return minutes, err
}

// retimeRecord brings a registration's service record (if it has one) in
// line with its times after a real check-out (realOut) replaced one linli
// made itself, and clears that record's flag. Records staff corrected stay
// as corrected.
func (s *Service) retimeRecord(ctx context.Context, tx *sql.Tx, t *target, realOut bool, now time.Time) (int, error) {
	regID := t.regID
	in, out, err := s.registrationTimes(ctx, tx, regID)
	if err != nil || out.IsZero() {
		return 0, err
	}
	in, out, minutes := t.served(in, out)
	args := []any{in, out, minutes, hours.Date(in), now}
	set := ""
	if realOut {
		set = `, flagged_for_review = CASE WHEN flag_reason = ? THEN ? ELSE flagged_for_review END,
  flag_reason = CASE WHEN flag_reason = ? THEN '' ELSE flag_reason END`
		args = append(args, autoCloseReason, false, autoCloseReason)
	}
	_, err = s.exec(ctx, tx, `UPDATE service_records SET started_at = ?, ended_at = ?, minutes = ?, service_date = ?, updated_at = ?`+set+`
WHERE registration_id = ? AND corrected_at IS NULL`, append(args, regID)...)
	return minutes, err
}

// flagMovedRecord is what an offline scan uploaded after a volunteer's
// service record was made does when it would change the record: instead of
// moving the record's times (and hours) silently, it flags the record for
// staff review, saying what the scan said. A scan that would not change
// the hours (an earlier check-in before the slot started) changes nothing.
// It reports whether the registration had a record.
func (s *Service) flagMovedRecord(ctx context.Context, tx *sql.Tx, t *target, kind string, at, now time.Time) (hasRecord, flagged bool, err error) {
	id, minutes, ok, err := s.recordOf(ctx, tx, t.regID)
	if err != nil || !ok {
		return false, false, err
	}
	in, out, err := s.registrationTimes(ctx, tx, t.regID)
	if err != nil {
		return true, false, err
	}
	if kind == string(In) {
		in = at
	} else {
		out = at
	}
	if _, _, m := t.served(in, out); m == minutes {
		return true, false, nil
	}
	what := "签到"
	if kind != string(In) {
		what = "签退"
	}
	// The first reason stays (a check-out linli made itself keeps saying so).
	reason := fmt.Sprintf("离线补传的%s扫码（%s）与记录不符，待核实", what, at.In(hours.Zone).Format("2006-01-02 15:04"))
	_, err = s.exec(ctx, tx, `UPDATE service_records SET flagged_for_review = ?, updated_at = ?,
  flag_reason = CASE WHEN flag_reason = '' THEN ? ELSE flag_reason END WHERE id = ?`, true, now, hours.Clip(reason, 300), id)
	return true, err == nil, err
}

// recordOf reads the service record of a registration in tx, if it has one.
func (s *Service) recordOf(ctx context.Context, tx *sql.Tx, regID int) (id, minutes int, ok bool, err error) {
	ok, err = s.one(ctx, tx, `SELECT id, minutes FROM service_records WHERE registration_id = ?`, []any{regID}, &id, &minutes)
	return id, minutes, ok, err
}
