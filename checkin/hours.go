package checkin

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/ent"
	"linli/ent/servicerecord"
	"linli/events"
	"linli/viewer"
)

// DefaultStarThresholds are the hours for star levels 1 to 5 when a
// community sets none.
var DefaultStarThresholds = []int{100, 300, 600, 1000, 1500}

// StarLevel is how many of the thresholds (hours, ascending) hours reaches.
func StarLevel(hours float64, thresholds []int) int {
	if len(thresholds) == 0 {
		thresholds = DefaultStarThresholds
	}
	level := 0
	for _, t := range thresholds {
		if hours < float64(t) {
			break
		}
		level++
	}
	return level
}

// VolunteerService is a volunteer's hours and star level.
type VolunteerService struct {
	Person                       *ent.Person
	TotalMinutes, FlaggedMinutes int
	Records                      int
	StarLevel                    int
	// HoursToNextStar is nil at the top level.
	HoursToNextStar *float64
}

// VolunteerService sums a person's service records: the viewer's own when
// personID is nil, anyone's in the community for staff.
func (s *Service) VolunteerService(ctx context.Context, personID *int) (*VolunteerService, error) {
	p, err := s.personFor(ctx, personID)
	if err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	c, err := s.client.Community.Get(sys, p.CommunityID)
	if err != nil {
		return nil, err
	}
	out := &VolunteerService{Person: p}
	var total, flagged sql.NullInt64
	if _, err := s.one(ctx, s.db.SQL, `SELECT COALESCE(SUM(minutes), 0), COALESCE(SUM(CASE WHEN flagged_for_review THEN minutes ELSE 0 END), 0), COUNT(*)
FROM service_records WHERE person_id = ?`, []any{p.ID}, &total, &flagged, &out.Records); err != nil {
		return nil, err
	}
	out.TotalMinutes, out.FlaggedMinutes = int(total.Int64), int(flagged.Int64)
	thresholds := c.StarThresholds
	if len(thresholds) == 0 {
		thresholds = DefaultStarThresholds
	}
	h := float64(out.TotalMinutes) / 60
	out.StarLevel = StarLevel(h, thresholds)
	if out.StarLevel < len(thresholds) {
		next := float64(thresholds[out.StarLevel]) - h
		out.HoursToNextStar = &next
	}
	return out, nil
}

// personFor is the person a personal read is about: the viewer (nil id) or,
// for staff of their community, anyone. Others get NOT_FOUND, as if the
// person did not exist.
func (s *Service) personFor(ctx context.Context, personID *int) (*ent.Person, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk() || v.PersonID == 0:
		return nil, apperr.New(apperr.Forbidden, "only people have service records")
	}
	id := v.PersonID
	if personID != nil {
		id = *personID
	}
	p, err := s.client.Person.Get(viewer.System(ctx), id)
	if ent.IsNotFound(err) || err == nil && id != v.PersonID && !v.IsStaffOf(p.CommunityID) {
		return nil, apperr.New(apperr.NotFound, "no such person")
	}
	return p, err
}

// ServiceRecords lists service records, newest first: the viewer's own, or
// for staff their community's (one person's, or those flagged for review).
func (s *Service) ServiceRecords(ctx context.Context, personID *int, flagged *bool, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int) (*ent.ServiceRecordConnection, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	q := s.client.ServiceRecord.Query()
	switch {
	case personID != nil:
		p, err := s.personFor(ctx, personID)
		if err != nil {
			return nil, err
		}
		q.Where(servicerecord.PersonID(p.ID))
	case v.IsStaff():
	case v.PersonID != 0 && !v.IsKiosk():
		q.Where(servicerecord.PersonID(v.PersonID))
	default:
		return nil, apperr.New(apperr.Forbidden, "only people have service records")
	}
	if flagged != nil {
		q.Where(servicerecord.FlaggedForReview(*flagged))
	}
	// The viewer's context: privacy keeps everyone to what they may see.
	return q.Paginate(ctx, after, first, before, last, ent.WithServiceRecordOrder(&ent.ServiceRecordOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.ServiceRecordOrderFieldStartedAt,
	}))
}

// Correction is a staff correction of a service record's times.
type Correction struct {
	StartedAt, EndedAt time.Time
	Reason             string
}

// CorrectServiceRecord sets a record's times (staff of its community),
// clears its review flag and writes the change to the audit log.
func (s *Service) CorrectServiceRecord(ctx context.Context, id int, c Correction) (*ent.ServiceRecord, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	c.Reason = strings.TrimSpace(c.Reason)
	if n := utf8.RuneCountInString(c.Reason); n == 0 || n > 500 {
		return nil, apperr.Invalid("input.reason", "reason must be 1 to 500 characters")
	}
	c.StartedAt, c.EndedAt = c.StartedAt.UTC().Truncate(time.Second), c.EndedAt.UTC().Truncate(time.Second)
	if c.EndedAt.Before(c.StartedAt) || c.EndedAt.Sub(c.StartedAt) > 24*time.Hour {
		return nil, apperr.Invalid("input.endedAt", "endedAt must be after startedAt, by at most 24 hours")
	}
	old, err := s.client.ServiceRecord.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such service record")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	minutes := servedMinutes(c.StartedAt, c.EndedAt)
	sys := viewer.System(ctx)
	tx, err := s.client.Tx(sys)
	if err != nil {
		return nil, err
	}
	err = tx.ServiceRecord.UpdateOneID(id).
		SetStartedAt(c.StartedAt).SetEndedAt(c.EndedAt).SetMinutes(minutes).SetServiceDate(serviceDate(c.StartedAt)).
		SetFlaggedForReview(false).SetFlagReason("").
		SetCorrectedAt(now).SetCorrectedByID(v.PersonID).SetCorrectionReason(truncate(c.Reason, 500)).
		Exec(sys)
	if err == nil {
		err = tx.AuditEntry.Create().SetCommunityID(old.CommunityID).SetActorID(v.PersonID).
			SetAction("service_record.correct").SetSubject(fmt.Sprintf("ServiceRecord:%d", id)).
			SetDetail(fmt.Sprintf("%s–%s (%d min) → %s–%s (%d min): %s",
				old.StartedAt.Format(time.RFC3339), old.EndedAt.Format(time.RFC3339), old.Minutes,
				c.StartedAt.Format(time.RFC3339), c.EndedAt.Format(time.RFC3339), minutes, c.Reason)).
			SetAt(now).Exec(sys)
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return s.client.ServiceRecord.Get(ctx, id)
}

// CloseMissingCheckOuts checks out the volunteers still checked in a grace
// period after their position ended, at its end, and flags their records
// for review. It returns how many it closed. The app runs it periodically.
func (s *Service) CloseMissingCheckOuts(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT r.id FROM registrations r
JOIN slots s ON s.id = r.slot_id JOIN activities a ON a.id = r.activity_id
WHERE r.status = 'CHECKED_IN' AND s.kind = 'VOLUNTEER' AND COALESCE(s.ends_at, a.ends_at) < ?
ORDER BY r.id`), now.UTC().Add(-s.rules.grace))
	if err != nil {
		return 0, err
	}
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	closed := 0
	for _, id := range ids {
		ok, err := s.closeOne(ctx, id)
		if err != nil {
			return closed, err
		}
		if ok {
			closed++
		}
	}
	return closed, nil
}

func (s *Service) closeOne(ctx context.Context, regID int) (bool, error) {
	t, err := s.loadTarget(ctx, targetByID, regID)
	if err != nil || t == nil || t.status != "CHECKED_IN" {
		return false, err
	}
	who := scanner{communityID: t.communityID}
	info, err := s.loadRecordInfo(ctx, who, t)
	if err != nil {
		return false, err
	}
	_, end := t.window()
	if t.checkedInAt.Valid && t.checkedInAt.Time.After(end) {
		end = t.checkedInAt.Time
	}
	now := s.now()
	closed := false
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		if _, err := s.exec(ctx, tx, lockActivity, t.activityID); err != nil {
			return nil, err
		}
		n, err := s.exec(ctx, tx, checkOutRegistration, end, now, t.regID)
		if err != nil || n == 0 {
			return nil, err // checked out meanwhile
		}
		if _, err := s.insertRecord(ctx, tx, info, t, autoCloseReason, now); err != nil {
			return nil, err
		}
		in := Scan{Kind: Out, Method: "AUTO", Nonce: fmt.Sprintf("auto:%d", t.regID)}
		if _, err := s.record(ctx, tx, who, in, t, OK, "未签退，已按岗位结束时间自动签退", end, now); err != nil {
			return nil, err
		}
		closed = true
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, "CHECKED_OUT"), nil
	})
	return closed, err
}

// RunCloser calls CloseMissingCheckOuts every interval until ctx ends.
func (s *Service) RunCloser(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.CloseMissingCheckOuts(ctx, s.now()); err != nil && ctx.Err() == nil {
			log.Warn("close missing check-outs", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Info("closed missing check-outs", slog.Int("count", n))
		}
	}
}
