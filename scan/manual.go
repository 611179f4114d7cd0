package scan

import (
	"context"
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/ent/checkinscan"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/viewer"
)

// Manual is a check-in or check-out of someone without their phone: by
// registration, or by display name and the last four digits of their phone.
type Manual struct {
	ActivityID int
	Kind       checkinscan.Kind
	Nonce      string
	At         *time.Time
	// RegistrationID, or Name and PhoneTail.
	RegistrationID  int
	Name, PhoneTail string
}

// ManualCheckIn checks someone in or out by hand (kiosk or staff), with the
// same answers and the same nonce rule as a scan.
func (s *Service) ManualCheckIn(ctx context.Context, in Manual) (*Result, error) {
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	scan := Scan{Kind: in.Kind, Method: checkinscan.MethodMANUAL, Nonce: in.Nonce, At: in.At, ActivityID: in.ActivityID,
		unknown: "找不到报名记录"}
	if scan.Kind == "" {
		scan.Kind = In
	}
	if err := checkScan(scan, "input."); err != nil {
		return nil, err
	}
	in.Name, in.PhoneTail = strings.TrimSpace(in.Name), strings.TrimSpace(in.PhoneTail)
	if in.RegistrationID == 0 {
		if in.Name == "" || len(in.Name) > 200 {
			return nil, apperr.Invalid("input.name", "give registrationID, or name and phoneTail")
		}
		if len(in.PhoneTail) != 4 || strings.Trim(in.PhoneTail, "0123456789") != "" {
			return nil, apperr.Invalid("input.phoneTail", "phoneTail must be the last 4 digits of the phone number")
		}
	}
	scan.subject = fmt.Sprintf("manual:%d:%d:%q:%q", in.ActivityID, in.RegistrationID, in.Name, in.PhoneTail)
	if r, err := s.stored(ctx, who, scan); r != nil || err != nil {
		return r, err
	}
	var t *target
	if in.RegistrationID != 0 {
		t, err = s.loadTarget(ctx, registration.ID(in.RegistrationID))
	} else {
		t, err = s.findByName(ctx, who, in.ActivityID, in.Name, in.PhoneTail)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	at, err := scanTime(in.At, now, "input.at")
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, who, scan, t, at, now)
}

// findByName finds the one registration of an activity whose person has
// this display name and phone tail; several (one person in two slots) are
// a CONFLICT the tablet resolves with the code or staff. Only the
// scanner's community is searched (all for platform admins): another
// community's activity has nobody, not a CONFLICT.
func (s *Service) findByName(ctx context.Context, who scanner, activityID int, name, tail string) (*target, error) {
	q := s.client.Registration.Query().Where(
		registration.ActivityID(activityID),
		registration.StatusNEQ(registration.StatusCANCELLED),
		registration.HasPersonWith(person.DisplayName(name), person.PhoneHasSuffix(tail)),
	)
	if !who.admin {
		q = q.Where(registration.CommunityID(who.communityID))
	}
	ids, err := q.Limit(2).IDs(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	switch len(ids) {
	case 0:
		return nil, nil
	case 1:
		return s.loadTarget(ctx, registration.ID(ids[0]))
	}
	return nil, apperr.New(apperr.Conflict, "several registrations match; scan the code or ask staff")
}
