package scan

import (
	"context"
	"fmt"
	"time"

	"linli/apperr"
	"linli/auth"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/events"
	"linli/ledger"
	"linli/store"
	"linli/viewer"
)

// WalkIn is someone who turned up at the door without a registration.
type WalkIn struct {
	SlotID int
	// Phone finds the person in the community; DisplayName names a new one.
	Phone, DisplayName string
	Seats              int
	// ConsentSensitive is the explicit consent a health activity needs.
	ConsentSensitive bool
	Nonce            string
}

// WalkIn registers someone at the door and checks them in at once (kiosk or
// staff), while the slot has free seats and nobody waits for them. The phone
// is looked up in the slot's community only: a person without an account
// there gets a resident account there without a password, whether or not
// the number has an account in another community, and the answers say
// nothing about other communities. Someone already registered for the slot
// is simply checked in. Walk-ins are rate-limited per kiosk and per staff
// member (RATE_LIMITED).
func (s *Service) WalkIn(ctx context.Context, in WalkIn) (*Result, error) {
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	scan, phone, err := walkInScan(&in)
	if err != nil {
		return nil, err
	}
	if r, err := s.stored(ctx, who, scan); r != nil || err != nil {
		return r, err
	}
	// After the nonce: a retry gets its first answer, however fast.
	if !s.walkIns.allow(who, s.now()) {
		return nil, apperr.New(apperr.RateLimited, "too many walk-ins from this device; wait a minute")
	}
	sl, err := s.walkInSlot(ctx, in.SlotID)
	if err != nil {
		return nil, err
	}
	a, now := sl.Edges.Activity, s.now()
	t := slotTarget(sl, a, in.Seats)
	scan.ActivityID = a.ID
	if o := decide(In, t, who, 0, now, now, false, s.rules); !o.write {
		return s.apply(ctx, who, scan, t, now, now)
	}
	p, consentAt, err := s.walkInPerson(ctx, in, sl, phone, now)
	if err != nil {
		return nil, err
	}
	existing, err := s.client.Registration.Query().Where(registration.SlotID(sl.ID), registration.PersonID(p.ID),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL,
			registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT)).
		FirstID(viewer.System(ctx))
	switch {
	case err == nil:
		et, err := s.loadTarget(ctx, registration.ID(existing))
		if err != nil {
			return nil, err
		}
		return s.apply(ctx, who, scan, et, now, now)
	case !ent.IsNotFound(err):
		return nil, err
	}
	t.personID = p.ID
	return s.takeWalkIn(ctx, who, scan, t, consentAt, now)
}

// walkInScan validates a walk-in's input and returns the scan it is, and
// the phone number normalized.
func walkInScan(in *WalkIn) (Scan, string, error) {
	scan := Scan{Kind: In, Method: checkinscan.MethodWALK_IN, Nonce: in.Nonce}
	if err := checkScan(scan, "input."); err != nil {
		return scan, "", err
	}
	if in.Seats == 0 {
		in.Seats = 1
	}
	phone, err := auth.NormalizePhone(in.Phone)
	if err != nil {
		return scan, "", apperr.Invalid("input.phone", "phone must be 6 to 15 digits")
	}
	scan.subject = fmt.Sprintf("walk-in:%d:%s:%d", in.SlotID, phone, in.Seats)
	return scan, phone, nil
}

// walkInSlot reads the slot with its activity as the scanner: the privacy
// rules decide which slots exist for it (its community's, of activities it
// may see), so a draft's slot is as unknown to a kiosk as another
// community's.
func (s *Service) walkInSlot(ctx context.Context, slotID int) (*ent.Slot, error) {
	sl, err := s.client.Slot.Query().Where(slot.ID(slotID)).WithActivity().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such slot")
	}
	if err != nil {
		return nil, err
	}
	// A draft takes nobody, for the ledger's reason; the door ignores the
	// sign-up window otherwise (the check-in window decides, in decide).
	if a := sl.Edges.Activity; a.Status == activity.StatusDRAFT {
		return nil, ledger.WindowError(a, s.now())
	}
	return sl, nil
}

// takeWalkIn registers and checks in t's person through the ledger, and
// records the scan, in one transaction.
func (s *Service) takeWalkIn(ctx context.Context, who scanner, scan Scan, t *target, consentAt *time.Time, now time.Time) (*Result, error) {
	var res *Result
	err := s.inTx(ctx, func(ctx context.Context, tx *ent.Tx) ([]events.Event, error) {
		r, err := s.ledger.TakeWalkIn(ctx, tx, ledger.WalkIn{
			ActivityID: t.activityID, SlotID: t.slotID, PersonID: t.personID, Seats: t.seats, ConsentAt: consentAt, At: now,
		})
		if err != nil {
			return nil, err
		}
		t.regID = r.ID
		if res, err = s.record(ctx, tx.Client(), who, scan, t, OK, "现场报名，"+message(In, OK, t, 0), now, now); err != nil {
			return nil, err
		}
		return changeEvents(t.communityID, t.activityID, r.ID, t.personID, string(registration.StatusCHECKED_IN)), nil
	})
	if store.IsUniqueViolation(err) {
		if r, err := s.stored(ctx, who, scan); r != nil || err != nil {
			return r, err
		}
		return nil, apperr.New(apperr.AlreadyRegistered, "this person was just registered for this slot")
	}
	return res, err
}

// slotTarget is a registration-to-be in a slot, for deciding a walk-in.
func slotTarget(sl *ent.Slot, a *ent.Activity, seats int) *target {
	return &target{
		slotID: sl.ID, activityID: a.ID, communityID: sl.CommunityID, seats: seats, status: registration.StatusCONFIRMED,
		slot: sl, activity: a,
	}
}

// walkInPerson is the person a walk-in registers, once they may take the
// slot by the ledger's rules (Eligible: a volunteer position is for the
// community's volunteers, the seats fit a sign-up, a health activity has
// the person's explicit consent), and when they consented (nil for other
// activities).
func (s *Service) walkInPerson(ctx context.Context, in WalkIn, sl *ent.Slot, phone string, now time.Time) (*ent.Person, *time.Time, error) {
	p, err := s.findOrAddPerson(ctx, sl.CommunityID, phone, in.DisplayName)
	if err != nil {
		return nil, nil, err
	}
	// The ledger's rules, applied to the person walked in (not the scanner).
	as := &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID}
	for _, r := range p.Roles {
		as.Roles = append(as.Roles, viewer.Role(r))
	}
	st, err := ledger.LoadStanding(ctx, s.client, p.ID, sl, now)
	if err != nil {
		return nil, nil, err
	}
	if err := ledger.Eligible(as, sl.Edges.Activity, sl, in.Seats, in.ConsentSensitive, st); err != nil {
		if e, ok := apperr.As(err); ok && e.Field != "" {
			e.Field = "input." + e.Field
		}
		return nil, nil, err
	}
	if !ledger.HealthData(sl.Edges.Activity) {
		return p, nil, nil
	}
	return p, &now, nil
}

// findOrAddPerson finds the community's person with this phone, or makes a
// resident account (without a password) when a name is given. Only the
// community is searched: whether the number has an account elsewhere
// changes nothing (a phone is unique per community, and across the
// platform only among accounts with a password).
func (s *Service) findOrAddPerson(ctx context.Context, communityID int, phone, name string) (*ent.Person, error) {
	sys := viewer.System(ctx)
	p, err := s.client.Person.Query().Where(person.Phone(phone), person.CommunityID(communityID)).Only(sys)
	switch {
	case err == nil:
		return p, nil
	case !ent.IsNotFound(err):
		return nil, err
	}
	if name == "" {
		return nil, apperr.Invalid("input.displayName", "nobody in the community has this phone number; give a displayName to register them")
	}
	if name, err = auth.ValidateDisplayName(name); err != nil {
		return nil, apperr.Invalid("input.displayName", "display name must be 1 to 50 characters")
	}
	p, err = s.client.Person.Create().SetCommunityID(communityID).SetDisplayName(name).SetPhone(phone).
		SetPasswordHash("").SetRoles([]string{string(viewer.Resident)}).Save(sys)
	if ent.IsConstraintError(err) {
		// Registered at the same moment by another request.
		return s.client.Person.Query().Where(person.Phone(phone), person.CommunityID(communityID)).Only(sys)
	}
	return p, err
}
