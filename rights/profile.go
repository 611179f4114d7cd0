package rights

import (
	"context"
	"fmt"
	"strings"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/store"
	"linli/viewer"
)

// ActionProfileUpdate is the audit action of a correction.
const ActionProfileUpdate = "person.profile_update"

// Profile is what a person may correct about themselves.
type Profile struct {
	ID          int
	DisplayName string
	Phone       string
	BirthYear   *int
	Minor       bool
}

// ProfileInput holds the corrections; nil fields are kept. BirthYear 0
// clears it.
type ProfileInput struct {
	DisplayName, Phone *string
	VerificationCode   string
	BirthYear          *int
}

// MyProfile is the viewer's profile.
func (s *Service) MyProfile(ctx context.Context) (*Profile, error) {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return nil, coded(err)
	}
	p, err := s.Client.Person.Get(viewer.System(ctx), v.PersonID)
	if err != nil {
		return nil, err
	}
	return s.profile(p), nil
}

func (s *Service) profile(p *ent.Person) *Profile {
	return &Profile{ID: p.ID, DisplayName: p.DisplayName, Phone: p.Phone, BirthYear: p.BirthYear, Minor: Minor(p.BirthYear, s.now())}
}

// UpdateMyProfile corrects the viewer's name, phone (with the code
// requestPhoneCode sent to the new phone, when the deployment verifies
// phones) and birth year. Audited (which fields, not their values).
func (s *Service) UpdateMyProfile(ctx context.Context, in ProfileInput) (*Profile, error) {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return nil, coded(err)
	}
	sys := viewer.System(ctx)
	p, err := s.Client.Person.Get(sys, v.PersonID)
	if err != nil {
		return nil, err
	}
	var sets []func(*ent.PersonUpdateOne)
	var changed []string
	if in.DisplayName != nil {
		name, err := auth.ValidateDisplayName(*in.DisplayName)
		if err != nil {
			return nil, err
		}
		if name != p.DisplayName {
			sets = append(sets, func(u *ent.PersonUpdateOne) { u.SetDisplayName(name) })
			changed = append(changed, "displayName")
		}
	}
	if in.Phone != nil {
		phone, err := auth.NormalizePhone(*in.Phone)
		if err != nil {
			return nil, err
		}
		if phone != p.Phone {
			if err := s.Auth.VerifyNewPhone(ctx, phone, in.VerificationCode); err != nil {
				return nil, err
			}
			sets = append(sets, func(u *ent.PersonUpdateOne) { u.SetPhone(phone) })
			changed = append(changed, "phone")
		}
	}
	if in.BirthYear != nil {
		year := *in.BirthYear
		this := s.now().In(cst.Zone).Year()
		switch {
		case year == 0:
			if p.BirthYear != nil {
				sets = append(sets, func(u *ent.PersonUpdateOne) { u.ClearBirthYear() })
				changed = append(changed, "birthYear")
			}
		case year < 1900 || year > this:
			return nil, apperr.Invalid("birthYear", "birthYear must be between 1900 and %d (0 clears it)", this)
		case p.BirthYear == nil || *p.BirthYear != year:
			sets = append(sets, func(u *ent.PersonUpdateOne) { u.SetBirthYear(year) })
			changed = append(changed, "birthYear")
		}
	}
	if len(changed) == 0 {
		return s.profile(p), nil
	}
	err = store.InTx(sys, s.Client, store.TxOptions{Lock: s.DB.Writers()}, func(tx *ent.Tx) error {
		u := tx.Person.UpdateOneID(p.ID)
		for _, set := range sets {
			set(u)
		}
		if err := u.Exec(sys); err != nil {
			if ent.IsConstraintError(err) {
				return &apperr.Error{Code: apperr.Conflict, Field: "phone", Message: "this phone cannot be used", Err: err}
			}
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: p.CommunityID, Action: ActionProfileUpdate,
			Subject: fmt.Sprintf("Person:%d", p.ID), SubjectID: &p.ID, Detail: strings.Join(changed, ",")})
	})
	if err != nil {
		return nil, err
	}
	p, err = s.Client.Person.Get(sys, p.ID)
	if err != nil {
		return nil, err
	}
	return s.profile(p), nil
}
