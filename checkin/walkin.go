package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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

// errFull rolls back a walk-in whose seats were not free.
var errFull = errors.New("checkin: walk-in seats not free")

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
	scan := Scan{Kind: In, Method: checkinscan.MethodWALK_IN, Nonce: in.Nonce}
	if err := checkScan(scan, "input."); err != nil {
		return nil, err
	}
	if in.Seats == 0 {
		in.Seats = 1
	}
	phone, err := auth.NormalizePhone(in.Phone)
	if err != nil {
		return nil, apperr.Invalid("input.phone", "phone must be 6 to 15 digits")
	}
	scan.subject = fmt.Sprintf("walk-in:%d:%s:%d", in.SlotID, phone, in.Seats)
	if r, err := s.stored(ctx, who, scan); r != nil || err != nil {
		return r, err
	}
	// After the nonce: a retry gets its first answer, however fast.
	if !s.walkIns.allow(who, s.now()) {
		return nil, apperr.New(apperr.RateLimited, "too many walk-ins from this device; wait a minute")
	}
	sys := viewer.System(ctx)
	// Read as the scanner: the privacy rules decide which slots exist for
	// it (its community's, of activities it may see), so a draft's slot is
	// as unknown to a kiosk as another community's.
	sl, err := s.client.Slot.Query().Where(slot.ID(in.SlotID)).WithActivity().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such slot")
	}
	if err != nil {
		return nil, err
	}
	a := sl.Edges.Activity
	if a.Status == activity.StatusDRAFT {
		return nil, apperr.New(apperr.SignupNotOpen, "this activity is not published yet")
	}
	now := s.now()
	t := slotTarget(sl, a, in.Seats)
	scan.ActivityID = a.ID
	if o := decide(In, t, who, 0, now, now, false, s.rules); !o.write {
		return s.apply(ctx, who, scan, t, now, now)
	}
	if in.Seats < 1 || in.Seats > sl.MaxSeatsPerSignup {
		return nil, apperr.Invalid("input.seats", "seats must be between 1 and %d", sl.MaxSeatsPerSignup)
	}
	p, err := s.walkInPerson(ctx, sl.CommunityID, phone, in.DisplayName)
	if err != nil {
		return nil, err
	}
	if sl.Kind == slot.KindVOLUNTEER && !hasRole(p, viewer.Volunteer) {
		return nil, apperr.New(apperr.NotEligible, "this position is for registered volunteers of the community")
	}
	var consentAt = &now
	if a.ServiceType == activity.ServiceTypeHEALTH {
		if !in.ConsentSensitive {
			return nil, apperr.New(apperr.ConsentRequired, "this activity processes health information; it needs the person's explicit consent (consentSensitive: true)")
		}
	} else {
		consentAt = nil
	}
	existing, err := s.client.Registration.Query().Where(registration.SlotID(sl.ID), registration.PersonID(p.ID),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL,
			registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT)).First(sys)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if existing != nil {
		et, err := s.loadTarget(ctx, targetByID, existing.ID)
		if err != nil {
			return nil, err
		}
		return s.apply(ctx, who, scan, et, now, now)
	}
	t.personID = p.ID
	var res *Result
	err = s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		id, ok, err := s.signups.TakeWalkIn(ctx, tx, ledger.WalkIn{
			ActivityID: a.ID, SlotID: sl.ID, PersonID: p.ID, CommunityID: sl.CommunityID,
			Seats: in.Seats, ConsentAt: consentAt, Now: now,
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errFull
		}
		t.regID, t.status = id, "CONFIRMED"
		if n, err := s.exec(ctx, tx, checkInRegistration, now, now, id); err != nil || n != 1 {
			return nil, errors.Join(err, errStale)
		}
		if _, err := s.exec(ctx, tx, addCheckedIn, in.Seats, now, sl.ID); err != nil {
			return nil, err
		}
		if res, err = s.record(ctx, tx, who, scan, t, OK, "现场报名，"+message(In, OK, t, 0), now, now); err != nil {
			return nil, err
		}
		return changeEvents(t.communityID, t.activityID, id, p.ID, "CHECKED_IN"), nil
	})
	switch {
	case errors.Is(err, errFull):
		return nil, apperr.New(apperr.CapacityFull, "no free seats for walk-ins in this slot")
	case store.IsUniqueViolation(err):
		if r, err := s.stored(ctx, who, scan); r != nil || err != nil {
			return r, err
		}
		return nil, apperr.New(apperr.AlreadyRegistered, "this person was just registered for this slot")
	}
	return res, err
}

// slotTarget is a registration-to-be in a slot, for deciding a walk-in.
func slotTarget(sl *ent.Slot, a *ent.Activity, seats int) *target {
	t := &target{
		slotID: sl.ID, activityID: a.ID, communityID: sl.CommunityID, seats: seats, status: "CONFIRMED",
		slotKind: string(sl.Kind), activityStatus: string(a.Status), starts: a.StartsAt, ends: a.EndsAt,
		opensMinutes: a.CheckinOpensMinutes,
	}
	if sl.StartsAt != nil {
		t.slotStarts = sql.NullTime{Time: *sl.StartsAt, Valid: true}
	}
	if sl.EndsAt != nil {
		t.slotEnds = sql.NullTime{Time: *sl.EndsAt, Valid: true}
	}
	if a.VenueID != nil {
		t.venueID = sql.NullInt64{Int64: int64(*a.VenueID), Valid: true}
	}
	return t
}

// walkInPerson finds the community's person with this phone, or makes a
// resident account (without a password) when a name is given. Only the
// community is searched: whether the number has an account elsewhere
// changes nothing (a phone is unique per community, and across the
// platform only among accounts with a password).
func (s *Service) walkInPerson(ctx context.Context, communityID int, phone, name string) (*ent.Person, error) {
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

func hasRole(p *ent.Person, r viewer.Role) bool {
	for _, x := range p.Roles {
		if x == string(r) {
			return true
		}
	}
	return false
}
