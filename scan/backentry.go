package scan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/authz"
	"linli/ent"
	"linli/ent/auditentry"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/ent/servicerecord"
	"linli/hours"
	"linli/organize"
	"linli/store"
	"linli/viewer"
)

// Paper sign-in sheets (补录): staff enter an activity's attendance after
// it ended, within the back-entry window. Each entry is decided like any
// check-in by hand (decide, the same window and the same no-double-count
// rule), by the staff member, recorded as a MANUAL scan under a nonce
// marked backEntryNonce, audited, and the service record it makes is
// flagged backEntryReason until another staff member confirms it.

// DefaultBackEntryDays is how long after an activity ended its paper
// sign-in sheet may still be entered (-back-entry-days).
const DefaultBackEntryDays = 30

// Audit-log actions of back-entries.
const (
	ActionBackEntry = "checkin.back_entry"
	ActionConfirm   = "service_record.confirm"
)

const (
	backEntryNonce  = "backentry:"
	backEntryReason = "补录：待另一位工作人员确认"
	// MaxBackEntries bounds one recordAttendance call.
	MaxBackEntries = 500
)

// BackEntry is one line of a paper sign-in sheet: a registration, a person
// (with the slot when they hold several), or a display name and phone (its
// last four digits or more).
type BackEntry struct {
	RegistrationID, PersonID, SlotID int
	Name, Phone                      string
	CheckedInAt                      time.Time
	CheckedOutAt                     *time.Time
}

// BackEntryResult is one line's answer: Status OK, a check-in status
// (ALREADY_CHECKED_IN, TOO_EARLY, …) or an error code (NOT_FOUND,
// VALIDATION_FAILED with Field, …).
type BackEntryResult struct {
	Status          string
	Field           string
	Message         string
	RegistrationID  int
	ServiceRecordID int
}

// BackEntryWindow is when activity a's sheet may be entered: from its end
// for days.
func BackEntryWindow(a *ent.Activity, days int) (opens, closes time.Time) {
	return a.EndsAt, a.EndsAt.Add(time.Duration(days) * 24 * time.Hour)
}

// RecordAttendance enters a paper sign-in sheet of activityID, line by
// line: a bad line is answered with its code and the others go on.
func (s *Service) RecordAttendance(ctx context.Context, activityID int, entries []BackEntry) ([]BackEntryResult, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if len(entries) == 0 || len(entries) > MaxBackEntries {
		return nil, apperr.Invalid("entries", "give 1 to %d entries", MaxBackEntries)
	}
	a, err := s.client.Activity.Get(viewer.System(ctx), activityID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if err != nil {
		return nil, err
	}
	if v.CommunityID != a.CommunityID && !v.IsAdmin() {
		// Another community's activity does not exist for the viewer.
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if err := authz.RequireStaffOf(ctx, a.CommunityID, "only staff of the activity's community enter its sign-in sheet"); err != nil {
		return nil, err
	}
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if opens, closes := BackEntryWindow(a, s.backEntryDays); now.Before(opens) || now.After(closes) {
		return nil, apperr.New(apperr.BackEntryWindowClosed,
			"a sign-in sheet is entered after the activity ended, for %d days (before the end: manualCheckIn)", s.backEntryDays)
	}
	out := make([]BackEntryResult, len(entries))
	for i, e := range entries {
		res, err := s.backEntry(ctx, who, a, e, now)
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae):
			res = BackEntryResult{Status: string(ae.Code), Field: ae.Field, Message: ae.Message}
		case err != nil:
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

func (s *Service) backEntry(ctx context.Context, who scanner, a *ent.Activity, e BackEntry, now time.Time) (BackEntryResult, error) {
	if e.CheckedOutAt != nil && !e.CheckedOutAt.After(e.CheckedInAt) {
		return BackEntryResult{}, apperr.Invalid("checkedOutAt", "checkedOutAt must be after checkedInAt")
	}
	if e.CheckedInAt.After(now) || e.CheckedOutAt != nil && e.CheckedOutAt.After(now) {
		return BackEntryResult{}, apperr.Invalid("checkedInAt", "times must be in the past")
	}
	t, err := s.backEntryTarget(ctx, who, a, e)
	if err != nil {
		return BackEntryResult{}, err
	}
	walkedIn := false
	if t == nil {
		if e.SlotID == 0 || e.RegistrationID != 0 || e.PersonID != 0 {
			return BackEntryResult{Status: string(apperr.NotFound), Message: "找不到报名记录（未报名者请写明岗位 slotID、姓名和完整手机号）"}, nil
		}
		// Not registered: a walk-in at the time they came, by the door's rules.
		var r *Result
		if t, r, err = s.backEntryWalkIn(ctx, who, a, e); err != nil || r.Status != OK {
			if err != nil {
				return BackEntryResult{}, err
			}
			return BackEntryResult{Status: string(r.Status), Message: r.Message}, nil
		}
		walkedIn = true
	}
	res := BackEntryResult{RegistrationID: t.regID}
	// Online-style scans timed by staff (At nil): decide weighs them at the
	// given time with the slot's window, and never moves a recorded time.
	steps := []struct {
		kind checkinscan.Kind
		at   time.Time
	}{{In, e.CheckedInAt.UTC().Truncate(time.Microsecond)}}
	if e.CheckedOutAt != nil {
		steps = append(steps, struct {
			kind checkinscan.Kind
			at   time.Time
		}{Out, e.CheckedOutAt.UTC().Truncate(time.Microsecond)})
	}
	res.Status, res.Message = string(OK), "已补录"
	detail := fmt.Sprintf("%s in %s", a.Title, e.CheckedInAt.UTC().Format(time.RFC3339))
	if walkedIn {
		detail += " (walk-in)"
		steps = steps[1:]
	}
	for _, st := range steps {
		nonce, err := newBackEntryNonce()
		if err != nil {
			return res, err
		}
		in := Scan{Kind: st.kind, Method: checkinscan.MethodMANUAL, Nonce: nonce, ActivityID: a.ID, unknown: "找不到报名记录"}
		r, err := s.apply(ctx, who, in, t, st.at, now)
		if err != nil {
			return res, err
		}
		if r.Status != OK && st.kind == In {
			res.Status, res.Message = string(r.Status), r.Message
			return res, nil
		}
		if r.Status != OK {
			// The check-in stands (and is audited); the check-out is refused.
			res.Status, res.Message = string(r.Status), "签到已补录，签退未补录："+r.Message
			detail += fmt.Sprintf(", out %s refused (%s)", st.at.Format(time.RFC3339), r.Status)
			break
		}
		if st.kind == In {
			if t, err = s.loadTarget(ctx, registration.ID(t.regID)); err != nil {
				return res, err
			}
		} else {
			detail += ", out " + st.at.Format(time.RFC3339)
		}
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		sys := viewer.System(ctx)
		rec, err := tx.ServiceRecord.Query().Where(servicerecord.RegistrationID(t.regID)).Only(sys)
		switch {
		case ent.IsNotFound(err):
		case err != nil:
			return err
		default:
			res.ServiceRecordID = rec.ID
			detail += fmt.Sprintf("; ServiceRecord:%d (%d min) flagged for a second staff member", rec.ID, rec.Minutes)
			if err := tx.ServiceRecord.UpdateOne(rec).SetFlaggedForReview(true).SetFlagReason(backEntryReason).Exec(sys); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: a.CommunityID, Action: ActionBackEntry,
			Subject: fmt.Sprintf("Registration:%d", t.regID), SubjectID: &t.regID, Detail: detail})
	})
	return res, err
}

// backEntryWalkIn registers and checks in someone who came without
// signing up, at the line's check-in time: the walk-in's rules (the
// check-in window, eligibility, free seats) as at the door.
func (s *Service) backEntryWalkIn(ctx context.Context, who scanner, a *ent.Activity, e BackEntry) (*target, *Result, error) {
	nonce, err := newBackEntryNonce()
	if err != nil {
		return nil, nil, err
	}
	w := WalkIn{SlotID: e.SlotID, Phone: e.Phone, DisplayName: strings.TrimSpace(e.Name), Seats: 1, Nonce: nonce}
	scan, phone, err := walkInScan(&w)
	if err != nil {
		return nil, nil, apperr.Invalid("phone", "someone not registered is entered with their full phone number")
	}
	sl, err := s.walkInSlot(ctx, e.SlotID)
	if err != nil {
		return nil, nil, err
	}
	if sl.ActivityID != a.ID {
		return nil, nil, apperr.Invalid("slotID", "the slot is not one of this activity's")
	}
	at := e.CheckedInAt.UTC().Truncate(time.Microsecond)
	t := slotTarget(sl, sl.Edges.Activity, 1)
	scan.ActivityID = a.ID
	if o := decide(In, t, who, 0, at, s.now(), false, s.rules); !o.write {
		r, err := s.apply(ctx, who, scan, t, at, s.now())
		return nil, r, err
	}
	p, consentAt, err := s.walkInPerson(ctx, w, sl, phone, at)
	if err != nil {
		return nil, nil, err
	}
	t.personID = p.ID
	r, err := s.takeWalkIn(ctx, who, scan, t, consentAt, at)
	if err != nil || r.Status != OK {
		return nil, r, err
	}
	t, err = s.loadTarget(ctx, registration.ID(t.regID))
	return t, r, err
}

// backEntryTarget finds the registration a line is about: nil when none.
func (s *Service) backEntryTarget(ctx context.Context, who scanner, a *ent.Activity, e BackEntry) (*target, error) {
	switch {
	case e.RegistrationID != 0:
		t, err := s.loadTarget(ctx, registration.ID(e.RegistrationID))
		if err != nil || t == nil || t.activityID != a.ID {
			return nil, err
		}
		return t, nil
	case e.PersonID != 0:
		q := s.client.Registration.Query().Where(registration.ActivityID(a.ID), registration.PersonID(e.PersonID),
			registration.StatusNEQ(registration.StatusCANCELLED))
		if e.SlotID != 0 {
			q.Where(registration.SlotID(e.SlotID))
		}
		ids, err := q.Limit(2).IDs(viewer.System(ctx))
		switch {
		case err != nil || len(ids) == 0:
			return nil, err
		case len(ids) > 1:
			return nil, apperr.Invalid("slotID", "the person holds several positions; give slotID")
		}
		return s.loadTarget(ctx, registration.ID(ids[0]))
	}
	name, phone := strings.TrimSpace(e.Name), strings.TrimSpace(e.Phone)
	if name == "" || len(name) > 200 {
		return nil, apperr.Invalid("name", "give registrationID, personID, or name and phone")
	}
	// A whole number is read as every phone input is (+86 138-0000-0004
	// is 13800000004); its last digits are matched as they are.
	if full, err := auth.NormalizePhone(phone); err == nil {
		phone = full
	}
	if len(phone) < 4 || len(phone) > 20 || strings.Trim(phone, "0123456789") != "" {
		return nil, apperr.Invalid("phone", "phone must be the number or at least its last 4 digits")
	}
	return s.findByName(ctx, who, a.ID, name, phone)
}

func newBackEntryNonce() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return backEntryNonce + hex.EncodeToString(b), nil
}

// ConfirmServiceRecord clears a back-entered record's review flag, by a
// staff member of its community other than who entered the sheet.
func (s *Service) ConfirmServiceRecord(ctx context.Context, id int) (*ent.ServiceRecord, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	sys := viewer.System(ctx)
	// As the viewer: another community's record is unknown here.
	rec, err := s.client.ServiceRecord.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such service record")
	}
	if err != nil {
		return nil, err
	}
	if err := authz.RequireStaffOf(ctx, rec.CommunityID, "only staff of the community confirm its service records"); err != nil {
		return nil, err
	}
	enteredBy, err := s.enteredBy(sys, rec)
	if err != nil {
		return nil, err
	}
	if err := s.secondPerson(sys, v, rec, enteredBy); err != nil {
		return nil, err
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		n, err := tx.ServiceRecord.Update().Where(servicerecord.ID(id), servicerecord.FlagReason(rec.FlagReason)).
			SetFlaggedForReview(false).SetFlagReason("").Save(sys)
		if err != nil {
			return err
		}
		if n != 1 {
			return apperr.New(apperr.Conflict, "the service record changed meanwhile")
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: rec.CommunityID, Action: ActionConfirm,
			Subject: fmt.Sprintf("ServiceRecord:%d", id), SubjectID: &id, Detail: fmt.Sprintf("%s (%d min)", rec.ActivityName, rec.Minutes)})
	})
	if err != nil {
		return nil, err
	}
	return s.client.ServiceRecord.Get(ctx, id)
}

// enteredBy is who entered a record awaiting confirmation: the staff member
// who back-entered its registration (a paper sheet's line), or who recorded
// the home visit that lists them (a record of one's own service). Any other
// record is not awaiting a second person: CONFLICT.
func (s *Service) enteredBy(sys context.Context, rec *ent.ServiceRecord) ([]int, error) {
	switch {
	case rec.FlaggedForReview && rec.FlagReason == backEntryReason && rec.RegistrationID != nil:
		var ids []int
		err := s.client.CheckInScan.Query().Where(checkinscan.RegistrationID(*rec.RegistrationID),
			checkinscan.NonceHasPrefix(backEntryNonce), checkinscan.StatusEQ(OK), checkinscan.ActorIDNotNil()).
			Select(checkinscan.FieldActorID).Scan(sys, &ids)
		return ids, err
	case rec.FlaggedForReview && rec.FlagReason == hours.SelfRecordedReason && rec.HomeVisitID != nil:
		hv, err := s.client.HomeVisit.Get(sys, *rec.HomeVisitID)
		if err != nil {
			return nil, err
		}
		if hv.RecordedByID == nil {
			return nil, nil
		}
		return []int{*hv.RecordedByID}, nil
	}
	return nil, apperr.New(apperr.Conflict, "this service record is not awaiting a second staff member's confirmation")
}

// secondPerson is the two-person rule of a confirmation: not who entered
// the record, not the volunteer it credits, and not someone whom who
// entered it gave a role within the back-entry window (a coordinator
// cannot make his own second person); a platform admin always is one.
func (s *Service) secondPerson(sys context.Context, v *viewer.Viewer, rec *ent.ServiceRecord, enteredBy []int) error {
	if v.PersonID == 0 || slices.Contains(enteredBy, v.PersonID) || v.PersonID == rec.PersonID {
		return apperr.New(apperr.Forbidden, "a record is confirmed by a second staff member, not by who entered it or whom it credits")
	}
	if v.Has(viewer.Admin) || len(enteredBy) == 0 {
		return nil
	}
	since := time.Now().UTC().AddDate(0, 0, -s.backEntryDays)
	appointed, err := s.client.AuditEntry.Query().Where(auditentry.Action(organize.ActionRolesSet),
		auditentry.SubjectID(v.PersonID), auditentry.ActorIDIn(enteredBy...), auditentry.AtGT(since)).Exist(sys)
	if err != nil {
		return err
	}
	if appointed {
		return apperr.New(apperr.Forbidden, "a record is confirmed by a second staff member, not by one who entered it gave a role to lately")
	}
	return nil
}
