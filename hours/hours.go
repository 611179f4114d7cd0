package hours

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/ent"
	"linli/ent/servicerecord"
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
	// As the viewer: privacy lets people read their own records and staff
	// their community's, which personFor already asked for.
	var sums []struct {
		Flagged bool `json:"flagged_for_review"`
		Sum     int  `json:"sum"`
		Count   int  `json:"count"`
	}
	if err := s.client.ServiceRecord.Query().Where(servicerecord.PersonID(p.ID)).
		GroupBy(servicerecord.FieldFlaggedForReview).
		Aggregate(ent.Sum(servicerecord.FieldMinutes), ent.Count()).Scan(ctx, &sums); err != nil {
		return nil, err
	}
	for _, x := range sums {
		out.TotalMinutes += x.Sum
		out.Records += x.Count
		if x.Flagged {
			out.FlaggedMinutes += x.Sum
		}
	}
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
	v, err := authz.RequireStaff(ctx)
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
	minutes := Minutes(c.StartedAt, c.EndedAt)
	sys := viewer.System(ctx)
	tx, err := s.client.Tx(sys)
	if err != nil {
		return nil, err
	}
	err = tx.ServiceRecord.UpdateOneID(id).
		SetStartedAt(c.StartedAt).SetEndedAt(c.EndedAt).SetMinutes(minutes).SetServiceDate(Date(c.StartedAt)).
		SetFlaggedForReview(false).SetFlagReason("").
		SetCorrectedAt(now).SetCorrectedByID(v.PersonID).SetCorrectionReason(Clip(c.Reason, 500)).
		Exec(sys)
	if err == nil {
		err = audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: old.CommunityID, Action: "service_record.correct",
			Subject: fmt.Sprintf("ServiceRecord:%d", id), SubjectID: &id,
			Detail: fmt.Sprintf("%s–%s (%d min) → %s–%s (%d min): %s",
				old.StartedAt.Format(time.RFC3339), old.EndedAt.Format(time.RFC3339), old.Minutes,
				c.StartedAt.Format(time.RFC3339), c.EndedAt.Format(time.RFC3339), minutes, c.Reason)})
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

// Of turns minutes of service into hours rounded to 0.01, as every
// figure, sheet and notification shows them.
func Of(minutes int) float64 { return math.Round(float64(minutes)/60*100) / 100 }
