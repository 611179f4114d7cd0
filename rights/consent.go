package rights

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/consent"
	"linli/ent/household"
	"linli/ent/person"
	"linli/ent/slot"
	"linli/ledger"
	"linli/store"
	"linli/viewer"
)

// Audit actions of consents.
const (
	ActionConsentGive     = "consent.give"
	ActionConsentWithdraw = "consent.withdraw"
)

// MinorAge is the age under which a person's sensitive data needs a
// guardian's consent (PIPL art. 31).
const MinorAge = 14

// Minor reports whether someone born in birthYear is under MinorAge in
// the year of now (China time, by year: the law counts birthdays, linli
// keeps only the year and so treats the whole year of the 14th birthday
// as still under 14). Unknown (nil): not a minor.
func Minor(birthYear *int, now time.Time) bool {
	return birthYear != nil && now.In(cst.Zone).Year()-*birthYear < MinorAge
}

// InForce reports whether personID has a consent in force for purpose that
// counts: for a minor, only one given by a guardian. It is the one answer
// to "may linli process this person's data for this purpose".
func InForce(ctx context.Context, c *ent.Client, personID int, purpose consent.Purpose, now time.Time) (bool, error) {
	sys := viewer.System(ctx)
	p, err := c.Person.Query().Where(person.ID(personID)).Select(person.FieldBirthYear, person.FieldDeletedAt).Only(sys)
	if ent.IsNotFound(err) {
		return false, nil
	}
	if err != nil || p.DeletedAt != nil {
		return false, err
	}
	q := c.Consent.Query().Where(consent.PersonID(personID), consent.PurposeEQ(purpose), consent.WithdrawnAtIsNil())
	if Minor(p.BirthYear, now) {
		q.Where(consent.ByGuardian(true))
	}
	return q.Exist(sys)
}

// HealthSignUp decides the consent a sign-up for slotID carries into the
// ledger's rule (ledger.Eligible, CONSENT_REQUIRED without it): for a
// health activity, the explicit consent given with the sign-up
// (consentSensitive: true) is recorded as a HEALTH_SIGNUP consent, and the
// answer is whether one is in force — so a withdrawal stops health
// sign-ups until a new consent, and a minor needs a guardian's, recorded
// by staff, whatever the flag says. Other activities pass the flag through
// (it means nothing there).
func (s *Service) HealthSignUp(ctx context.Context, slotID int, given bool) (bool, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.PersonID == 0 {
		return given, nil // the ledger refuses the anonymous
	}
	sys := viewer.System(ctx)
	// One statement: the service type of the slot's activity.
	a, err := s.Client.Activity.Query().Where(activity.HasSlotsWith(slot.ID(slotID))).
		Select(activity.FieldServiceType).Only(sys)
	if ent.IsNotFound(err) {
		return given, nil // the ledger answers NOT_FOUND
	}
	if err != nil {
		return false, err
	}
	if !ledger.HealthData(a) {
		return given, nil
	}
	now := s.now()
	if given {
		p, err := s.Client.Person.Get(sys, v.PersonID)
		if err != nil {
			return false, err
		}
		if Minor(p.BirthYear, now) {
			return InForce(ctx, s.Client, v.PersonID, consent.PurposeHEALTH_SIGNUP, now)
		}
		ok, err := InForce(ctx, s.Client, v.PersonID, consent.PurposeHEALTH_SIGNUP, now)
		if err != nil || ok {
			return ok, err
		}
		_, err = s.give(ctx, p, nil, consent.PurposeHEALTH_SIGNUP, "signup-consentSensitive", false, nil)
		return err == nil, err
	}
	return InForce(ctx, s.Client, v.PersonID, consent.PurposeHEALTH_SIGNUP, now)
}

// GiveInput is a consent to record.
type GiveInput struct {
	Purpose        consent.Purpose
	WordingVersion string
	// PersonID: staff recording for someone (0: the viewer's own).
	PersonID    int
	ByGuardian  bool
	HouseholdID *int
}

// Give records a consent: the viewer's own, or (staff of the person's
// community) someone else's — a guardian's for a minor, a household head's
// given on paper. A consent already in force for the purpose is replaced
// (withdrawn now, the new one in force), so the wording version is the
// latest. A minor's own consent does not count: CONSENT_REQUIRED, a
// guardian's is needed, recorded by staff.
func (s *Service) Give(ctx context.Context, in GiveInput) (*ent.Consent, error) {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return nil, coded(err)
	}
	in.WordingVersion = strings.TrimSpace(in.WordingVersion)
	if in.WordingVersion == "" || len(in.WordingVersion) > 40 {
		return nil, apperr.Invalid("wordingVersion", "wordingVersion must be 1 to 40 bytes")
	}
	if err := consent.PurposeValidator(in.Purpose); err != nil {
		return nil, apperr.Invalid("purpose", "unknown purpose")
	}
	p, recorder, err := s.subject(ctx, v, in.PersonID)
	if err != nil {
		return nil, err
	}
	if recorder == nil && in.ByGuardian {
		return nil, apperr.Invalid("byGuardian", "a guardian's consent is recorded by staff")
	}
	if recorder == nil && Minor(p.BirthYear, s.now()) {
		return nil, apperr.New(apperr.ConsentRequired, "under %d a guardian's consent is needed; staff record it", MinorAge)
	}
	if in.HouseholdID != nil {
		ok, err := s.Client.Household.Query().Where(household.ID(*in.HouseholdID), household.CommunityID(p.CommunityID)).Exist(viewer.System(ctx))
		if err != nil {
			return nil, err
		}
		if !ok || recorder == nil && !v.IsStaffOf(p.CommunityID) {
			// Residents read no households: a household ID is staff's to give.
			return nil, apperr.Invalid("householdID", "no such household")
		}
	}
	return s.give(ctx, p, recorder, in.Purpose, in.WordingVersion, in.ByGuardian, in.HouseholdID)
}

func (s *Service) give(ctx context.Context, p *ent.Person, recorder *int, purpose consent.Purpose, wording string, guardian bool, household *int) (*ent.Consent, error) {
	sys := viewer.System(ctx)
	var out *ent.Consent
	err := store.InTx(sys, s.Client, store.TxOptions{Lock: s.DB.Writers()}, func(tx *ent.Tx) error {
		now := s.now()
		if _, err := tx.Consent.Update().Where(consent.PersonID(p.ID), consent.PurposeEQ(purpose), consent.WithdrawnAtIsNil()).
			SetWithdrawnAt(now).Save(sys); err != nil {
			return err
		}
		c, err := tx.Consent.Create().SetCommunityID(p.CommunityID).SetPersonID(p.ID).SetPurpose(purpose).
			SetWordingVersion(wording).SetGivenAt(now).SetNillableRecordedByID(recorder).SetByGuardian(guardian).
			SetNillableHouseholdID(household).Save(sys)
		if err != nil {
			return err
		}
		out = c
		detail := fmt.Sprintf("%s, wording %s", purpose, wording)
		if guardian {
			detail += ", by a guardian"
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: p.CommunityID, Action: ActionConsentGive,
			Subject: fmt.Sprintf("Person:%d", p.ID), SubjectID: &p.ID, Detail: detail})
	})
	return out, err
}

// Withdraw ends the consent in force for purpose (the viewer's own, or
// staff for someone): processing for the purpose stops from now on
// (InForce answers false). None in force is NOT_FOUND.
func (s *Service) Withdraw(ctx context.Context, purpose consent.Purpose, personID int) (*ent.Consent, error) {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return nil, coded(err)
	}
	if err := consent.PurposeValidator(purpose); err != nil {
		return nil, apperr.Invalid("purpose", "unknown purpose")
	}
	p, _, err := s.subject(ctx, v, personID)
	if err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	var out *ent.Consent
	err = store.InTx(sys, s.Client, store.TxOptions{Lock: s.DB.Writers()}, func(tx *ent.Tx) error {
		c, err := tx.Consent.Query().Where(consent.PersonID(p.ID), consent.PurposeEQ(purpose), consent.WithdrawnAtIsNil()).
			Order(ent.Desc(consent.FieldGivenAt), ent.Desc(consent.FieldID)).First(sys)
		if ent.IsNotFound(err) {
			return apperr.New(apperr.NotFound, "no consent to %s is in force", purpose)
		}
		if err != nil {
			return err
		}
		if out, err = tx.Consent.UpdateOne(c).SetWithdrawnAt(s.now()).Save(sys); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: p.CommunityID, Action: ActionConsentWithdraw,
			Subject: fmt.Sprintf("Person:%d", p.ID), SubjectID: &p.ID, Detail: string(purpose)})
	})
	return out, err
}

// subject is the person a consent is about: the viewer (personID 0 or
// their own), or someone staff of their community act for (recorder set).
// Anyone else is NOT_FOUND.
func (s *Service) subject(ctx context.Context, v *viewer.Viewer, personID int) (*ent.Person, *int, error) {
	sys := viewer.System(ctx)
	if personID == 0 || personID == v.PersonID {
		p, err := s.Client.Person.Get(sys, v.PersonID)
		return p, nil, err
	}
	p, err := s.Client.Person.Get(sys, personID)
	if ent.IsNotFound(err) || err == nil && p.DeletedAt != nil {
		return nil, nil, apperr.New(apperr.NotFound, "no such person")
	}
	if err != nil {
		return nil, nil, err
	}
	if err := authz.ActForPerson(v, p.CommunityID, p.Roles); err != nil {
		return nil, nil, apperr.New(apperr.NotFound, "no such person")
	}
	return p, &v.PersonID, nil
}

// Mine lists the viewer's consents, newest first.
func (s *Service) Mine(ctx context.Context) ([]*ent.Consent, error) {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return nil, coded(err)
	}
	return s.Client.Consent.Query().Where(consent.PersonID(v.PersonID)).
		Order(ent.Desc(consent.FieldGivenAt), ent.Desc(consent.FieldID)).Limit(maxConsents).All(viewer.System(ctx))
}

// maxConsents bounds a listing.
const maxConsents = 1000

// List is who consented to what in a community (staff of it): purpose nil
// for all, inForce to keep only (true) or leave out (false) those in force;
// newest first, at most maxConsents, with each person.
func (s *Service) List(ctx context.Context, communityID int, purpose *consent.Purpose, inForce *bool) ([]*ent.Consent, error) {
	if err := authz.Consents(viewer.FromContext(ctx), communityID); err != nil {
		return nil, coded(err)
	}
	q := s.Client.Consent.Query().Where(consent.CommunityID(communityID))
	if purpose != nil {
		q.Where(consent.PurposeEQ(*purpose))
	}
	if inForce != nil {
		if *inForce {
			q.Where(consent.WithdrawnAtIsNil())
		} else {
			q.Where(consent.WithdrawnAtNotNil())
		}
	}
	return q.WithPerson(func(pq *ent.PersonQuery) { pq.Select(person.FieldDisplayName) }).
		Order(ent.Desc(consent.FieldGivenAt), ent.Desc(consent.FieldID)).Limit(maxConsents).All(viewer.System(ctx))
}

// coded turns authz's errors into coded ones.
func coded(err error) error {
	switch {
	case errors.Is(err, authz.ErrUnauthenticated):
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case errors.Is(err, authz.ErrForbidden):
		return apperr.New(apperr.Forbidden, "you are not allowed to do this")
	}
	return err
}
