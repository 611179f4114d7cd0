package auth

import (
	"context"

	"linli/apperr"
	"linli/ent"
	"linli/viewer"
)

// Confirm checks that whoever holds p's session is p, before an
// irreversible step (deleting the account): p's password, or a code
// requestPhoneCode sent to p's phone. Attempts are rate limited like
// login, per phone and address; a wrong answer is UNAUTHENTICATED.
func (s *Service) Confirm(ctx context.Context, p *ent.Person, password, code, clientAddr string) error {
	if err := s.limits.Allow("confirm", p.Phone, clientAddr); err != nil {
		return err
	}
	switch {
	case password != "":
		if p.PasswordHash == "" {
			return apperr.New(apperr.Unauthenticated, "wrong password")
		}
		ok, err := checkPassword(ctx, p.PasswordHash, password)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Unauthenticated, "wrong password")
		}
		return nil
	case code != "":
		if err := s.useCode(ctx, p.Phone, code); err != nil {
			return apperr.New(apperr.Unauthenticated, "wrong or expired verification code")
		}
		return nil
	}
	return apperr.Invalid("password", "give your password or a verification code sent to your phone")
}

// UnlockLogin lifts the sign-in locks of phone (Lockout) with the code
// requestPhoneCode sent to it. A wrong, used or expired code is
// VALIDATION_FAILED (field verificationCode), whether or not the phone has
// an account or a lock.
func (s *Service) UnlockLogin(ctx context.Context, phone, code, clientAddr string) error {
	norm, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	if err := s.limits.Allow("unlock", norm, clientAddr); err != nil {
		return err
	}
	if err := s.useCode(viewer.System(ctx), norm, code); err != nil {
		return err
	}
	s.lockout.Unlock(norm)
	return nil
}

// VerifyNewPhone checks, when the deployment verifies phones, the code
// requestPhoneCode sent to a phone someone moves their account to.
func (s *Service) VerifyNewPhone(ctx context.Context, phone, code string) error {
	if !s.verify {
		return nil
	}
	return s.useCode(viewer.System(ctx), phone, code)
}

// Lockout is the service's sign-in lockout (nil: none).
func (s *Service) Lockout() *Lockout { return s.lockout }
