// Package qualify keeps qualifications: the kinds a community recognises
// (执业医师, 护士 …), the qualifications its people hold (entered by staff
// with the evidence's reference and an expiry date, audited), which slots
// require which kinds, the staff list of those about to expire and the
// daily job that tells holders and staff. Whether a qualification is in
// force at a moment is InForce (and its predicate InForceWhere); whether a
// person may take a slot is the ledger's eligibility rule
// (ledger.Eligible), which loads what people hold with Held.
package qualify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/person"
	"linli/ent/predicate"
	"linli/ent/qualification"
	"linli/ent/qualificationkind"
	"linli/ent/slot"
	"linli/reliability"
	"linli/store"
	"linli/viewer"
)

// Bounds of what staff enter.
const (
	MaxKinds         = 100 // kinds per community
	MaxRequired      = 10  // kinds one slot may require
	MaxExpiringDays  = 366
	MaxExpiringList  = 500
	MaxQualsOfPerson = 100
)

// Audit-log actions.
const (
	ActionKindCreate = "qualification.kind_create"
	ActionRecord     = "qualification.record"
	ActionRemove     = "qualification.remove"
	ActionSlot       = "slot.requirements_set"
	ActionWindow     = "community.no_show_window_set"
)

// DemoKinds are the kinds the demo community keeps.
var DemoKinds = []string{"执业医师", "护士", "律师", "心理咨询师", "教师", "急救"}

// Service keeps qualifications over one database.
type Service struct{ Client *ent.Client }

// New returns a Service over client.
func New(client *ent.Client) *Service { return &Service{Client: client} }

// ParseDate reads a China-time date YYYY-MM-DD (years 2000–2100).
func ParseDate(field, s string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", s, cst.Zone)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return time.Time{}, apperr.Invalid(field, "%s must be a date YYYY-MM-DD between 2000 and 2100", field)
	}
	return d, nil
}

// ValidUntil is the moment a qualification expiring on day (YYYY-MM-DD,
// China time) stops being in force: the start of the next day.
func ValidUntil(day time.Time) time.Time {
	y, m, d := day.In(cst.Zone).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, cst.Zone).UTC()
}

// InForce reports whether q is in force at now (through its expiry date,
// China time).
func InForce(q *ent.Qualification, now time.Time) bool { return now.Before(q.ValidUntil) }

// InForceWhere is InForce as a predicate.
func InForceWhere(now time.Time) predicate.Qualification { return qualification.ValidUntilGT(now) }

// Held returns, for each of people, the kinds among kinds they hold in force
// at now, in one statement through client (a transaction's, in the ledger).
func Held(ctx context.Context, client *ent.Client, people, kinds []int, now time.Time) (map[int]map[int]bool, error) {
	out := map[int]map[int]bool{}
	if len(people) == 0 || len(kinds) == 0 {
		return out, nil
	}
	qs, err := client.Qualification.Query().Where(qualification.PersonIDIn(people...), qualification.KindIDIn(kinds...),
		InForceWhere(now)).Select(qualification.FieldPersonID, qualification.FieldKindID).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		if out[q.PersonID] == nil {
			out[q.PersonID] = map[int]bool{}
		}
		out[q.PersonID][q.KindID] = true
	}
	return out, nil
}

// KindNames returns the names of kinds, by id.
func KindNames(ctx context.Context, client *ent.Client, kinds []int) (map[int]string, error) {
	out := map[int]string{}
	if len(kinds) == 0 {
		return out, nil
	}
	ks, err := client.QualificationKind.Query().Where(qualificationkind.IDIn(kinds...)).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		out[k.ID] = k.Name
	}
	return out, nil
}

func communityOf(ctx context.Context, cid *int) (int, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return 0, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if cid != nil {
		return *cid, nil
	}
	return v.CommunityID, nil
}

// Kinds lists a community's qualification kinds by name (the viewer's
// community when cid is nil); anyone of the community reads them.
func (s *Service) Kinds(ctx context.Context, cid *int) ([]*ent.QualificationKind, error) {
	c, err := communityOf(ctx, cid)
	if err != nil {
		return nil, err
	}
	return s.Client.QualificationKind.Query().Where(qualificationkind.CommunityID(c)).
		Order(ent.Asc(qualificationkind.FieldName)).Limit(MaxKinds).All(ctx)
}

// CreateKind adds a qualification kind to community cid (staff).
func (s *Service) CreateKind(ctx context.Context, cid int, name, description string) (*ent.QualificationKind, error) {
	if err := authz.ManageQualifications(viewer.FromContext(ctx), cid); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > 50 {
		return nil, apperr.Invalid("name", "name must be 1 to 50 characters")
	}
	if utf8.RuneCountInString(description) > 500 {
		return nil, apperr.Invalid("description", "description must be at most 500 characters")
	}
	n, err := s.Client.QualificationKind.Query().Where(qualificationkind.CommunityID(cid)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n >= MaxKinds {
		return nil, apperr.Invalid("name", "a community keeps at most %d qualification kinds", MaxKinds)
	}
	var k *ent.QualificationKind
	err = store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		var err error
		k, err = tx.QualificationKind.Create().SetCommunityID(cid).SetName(name).SetDescription(description).Save(ctx)
		if ent.IsConstraintError(err) {
			return apperr.Invalid("name", "the community already has a qualification kind named %s", name)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionKindCreate,
			Subject: fmt.Sprintf("QualificationKind:%d %s", k.ID, name), SubjectID: &k.ID})
	})
	return k, err
}

// RecordInput is a qualification staff enter: whose, which kind, its
// expiry date (YYYY-MM-DD, China time) and the evidence's reference (a
// certificate's number: a reference, not the document).
type RecordInput struct {
	PersonID, KindID int
	ExpiresOn        string
	EvidenceRef      string
}

// Record enters (or renews) a person's qualification: staff of the
// person's community, audited with the evidence's reference. An expiry
// date in the past is allowed (an expired qualification on file is not in
// force).
func (s *Service) Record(ctx context.Context, in RecordInput) (*ent.Qualification, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	day, err := ParseDate("expiresOn", in.ExpiresOn)
	if err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(in.EvidenceRef)
	if n := utf8.RuneCountInString(ref); n < 1 || n > 100 {
		return nil, apperr.Invalid("evidenceRef", "evidenceRef must be 1 to 100 characters (the certificate's number or reference)")
	}
	// Read as the viewer: another community's person or kind is NOT_FOUND.
	p, err := s.Client.Person.Query().Where(person.ID(in.PersonID)).Only(ctx)
	if err != nil {
		return nil, notFound(err, "no such person")
	}
	if err := authz.ManageQualifications(v, p.CommunityID); err != nil {
		return nil, err
	}
	k, err := s.Client.QualificationKind.Query().Where(qualificationkind.ID(in.KindID), qualificationkind.CommunityID(p.CommunityID)).Only(ctx)
	if err != nil {
		return nil, notFound(err, "no such qualification kind")
	}
	until := ValidUntil(day)
	date := day.Format("2006-01-02")
	var q *ent.Qualification
	err = store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		old, err := tx.Qualification.Query().Where(qualification.PersonID(p.ID), qualification.KindID(k.ID)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			q, err = tx.Qualification.Create().SetCommunityID(p.CommunityID).SetPersonID(p.ID).SetKindID(k.ID).
				SetExpiresOn(date).SetValidUntil(until).SetEvidenceRef(ref).SetRecordedByID(v.PersonID).Save(ctx)
		case err == nil:
			u := old.Update().SetExpiresOn(date).SetValidUntil(until).SetEvidenceRef(ref).SetRecordedByID(v.PersonID)
			if !old.ValidUntil.Equal(until) {
				u.ClearExpiryNotifiedAt()
			}
			q, err = u.Save(ctx)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: p.CommunityID, Action: ActionRecord,
			Subject: fmt.Sprintf("Person:%d", p.ID), SubjectID: &p.ID,
			Detail: fmt.Sprintf("%s, expires %s, evidence %s", k.Name, date, ref)})
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Remove deletes a qualification (staff of its community), audited.
func (s *Service) Remove(ctx context.Context, id int) error {
	q, err := s.Client.Qualification.Query().Where(qualification.ID(id)).WithKind().Only(ctx)
	if err != nil {
		return notFound(err, "no such qualification")
	}
	if err := authz.ManageQualifications(viewer.FromContext(ctx), q.CommunityID); err != nil {
		return err
	}
	return store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		if err := tx.Qualification.DeleteOneID(q.ID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: q.CommunityID, Action: ActionRemove,
			Subject: fmt.Sprintf("Person:%d", q.PersonID), SubjectID: &q.PersonID,
			Detail: fmt.Sprintf("%s, expired %s, evidence %s", q.Edges.Kind.Name, q.ExpiresOn, q.EvidenceRef)})
	})
}

// OfPerson lists a person's qualifications, by expiry (the person and
// staff of their community: others find none).
func (s *Service) OfPerson(ctx context.Context, personID int) ([]*ent.Qualification, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	return s.Client.Qualification.Query().Where(qualification.PersonID(personID)).
		Order(ent.Asc(qualification.FieldValidUntil), ent.Asc(qualification.FieldID)).Limit(MaxQualsOfPerson).All(ctx)
}

// Expiring lists community cid's qualifications in force now that expire
// within days (China-time days, today included), soonest first (staff).
func (s *Service) Expiring(ctx context.Context, cid *int, days int) ([]*ent.Qualification, error) {
	c, err := communityOf(ctx, cid)
	if err != nil {
		return nil, err
	}
	if err := authz.ManageQualifications(viewer.FromContext(ctx), c); err != nil {
		return nil, err
	}
	if days < 0 || days > MaxExpiringDays {
		return nil, apperr.Invalid("withinDays", "withinDays must be between 0 and %d", MaxExpiringDays)
	}
	now := time.Now()
	return s.Client.Qualification.Query().Where(qualification.CommunityID(c), InForceWhere(now),
		qualification.ValidUntilLTE(expiringBy(now, days))).
		Order(ent.Asc(qualification.FieldValidUntil), ent.Asc(qualification.FieldID)).Limit(MaxExpiringList).All(ctx)
}

// expiringBy is the latest valid_until of a qualification that expires
// within days of now: its last day is today (China time) plus days.
func expiringBy(now time.Time, days int) time.Time {
	return ValidUntil(now.In(cst.Zone).AddDate(0, 0, days))
}

// SlotRequirements is what a slot asks of the people who take it.
type SlotRequirements struct {
	KindIDs []int
	// NoShowLimit: more no-shows than this send a sign-up to approval;
	// nil: no limit.
	NoShowLimit *int
}

// SetSlotRequirements sets the qualification kinds a slot requires and its
// no-show limit: staff, and leaders of the activity's team (Ent's slot
// rule decides, as for its capacity). Audited.
func (s *Service) SetSlotRequirements(ctx context.Context, slotID int, in SlotRequirements) (*ent.Slot, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	kinds := slices.Compact(slices.Sorted(slices.Values(in.KindIDs)))
	if len(kinds) > MaxRequired {
		return nil, apperr.Invalid("qualificationKindIDs", "a slot may require at most %d qualifications", MaxRequired)
	}
	if in.NoShowLimit != nil && (*in.NoShowLimit < 0 || *in.NoShowLimit > 100) {
		return nil, apperr.Invalid("noShowLimit", "noShowLimit must be between 0 and 100")
	}
	sl, err := s.Client.Slot.Query().Where(slot.ID(slotID)).WithActivity().Only(ctx)
	if err != nil {
		return nil, notFound(err, "no such slot")
	}
	if v := viewer.FromContext(ctx); !v.CanOrganize(sl.CommunityID, sl.Edges.Activity.TeamID) {
		return nil, apperr.New(apperr.Forbidden, "only staff and the team's leaders may change this slot")
	}
	n, err := s.Client.QualificationKind.Query().Where(qualificationkind.IDIn(kinds...), qualificationkind.CommunityID(sl.CommunityID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n != len(kinds) {
		return nil, apperr.Invalid("qualificationKindIDs", "no such qualification kind in the community")
	}
	err = store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		u := tx.Slot.UpdateOneID(sl.ID).SetRequiredQualifications(kinds).SetNillableNoShowLimit(in.NoShowLimit)
		if len(kinds) == 0 {
			u.ClearRequiredQualifications()
		}
		if in.NoShowLimit == nil {
			u.ClearNoShowLimit()
		}
		if err := u.Exec(ctx); err != nil {
			return err
		}
		limit := "none"
		if in.NoShowLimit != nil {
			limit = fmt.Sprint(*in.NoShowLimit)
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: sl.CommunityID, Action: ActionSlot,
			Subject: fmt.Sprintf("Slot:%d %s", sl.ID, sl.Name), SubjectID: &sl.ID,
			Detail: fmt.Sprintf("kinds %v, no-show limit %s", kinds, limit)})
	})
	if err != nil {
		return nil, err
	}
	return s.Client.Slot.Get(ctx, sl.ID)
}

// SetNoShowWindow sets community cid's forgiveness window (1–60 months;
// staff), audited.
func (s *Service) SetNoShowWindow(ctx context.Context, cid, months int) (int, error) {
	if err := authz.ManageQualifications(viewer.FromContext(ctx), cid); err != nil {
		return 0, err
	}
	if months < 1 || months > 60 {
		return 0, apperr.Invalid("months", "months must be between 1 and 60")
	}
	err := store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		// The community row is written by admins only (Ent's rule): staff
		// change this one setting through the system, checked above.
		if err := tx.Community.UpdateOneID(cid).SetNoShowWindowMonths(months).Exec(viewer.System(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionWindow,
			Subject: fmt.Sprintf("Community:%d", cid), SubjectID: &cid, Detail: fmt.Sprintf("%d months", months)})
	})
	return months, err
}

// RequiredKinds lists the kinds slot sl requires.
func (s *Service) RequiredKinds(ctx context.Context, sl *ent.Slot) ([]*ent.QualificationKind, error) {
	if len(sl.RequiredQualifications) == 0 {
		return []*ent.QualificationKind{}, nil
	}
	return s.Client.QualificationKind.Query().Where(qualificationkind.IDIn(sl.RequiredQualifications...)).
		Order(ent.Asc(qualificationkind.FieldName)).All(ctx)
}

func notFound(err error, message string) error {
	if ent.IsNotFound(err) {
		return apperr.New(apperr.NotFound, "%s", message)
	}
	return err
}

// AtRisk lists the people registered for an activity whose no-shows in
// the community's window reach min (1–100; staff of its community).
func (s *Service) AtRisk(ctx context.Context, activityID, min int) ([]*reliability.AtRisk, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if min < 1 || min > 100 {
		return nil, apperr.Invalid("minNoShows", "minNoShows must be between 1 and 100")
	}
	a, err := s.Client.Activity.Query().Where(activity.ID(activityID)).Only(ctx)
	if err != nil {
		return nil, notFound(err, "no such activity")
	}
	if err := authz.ManageQualifications(v, a.CommunityID); err != nil {
		return nil, err
	}
	return reliability.AtRiskOf(ctx, s.Client, a, min, time.Now())
}
