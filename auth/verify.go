package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"entgo.io/ent/dialect/sql"

	"linli/apperr"
	"linli/ent/community"
	"linli/ent/person"
	"linli/ent/phonecode"
	"linli/mask"
	"linli/reqlog"
	"linli/viewer"
)

// Phone verification is a step a deployment may require before register
// (Config.RequirePhoneVerification): requestPhoneCode sends a code to the
// phone, register takes it back. The answer to requestPhoneCode is the same
// whether or not the phone has an account; the message the phone receives
// differs (a code, or "you already have an account"), and only its owner
// reads it. So with verification on, register never tells anyone which
// phones have accounts: without a code that was sent, it stops at the code.
const (
	codeTTL         = 10 * time.Minute
	maxCodeAttempts = 5
	codeDigits      = 6
)

// PhoneMessage is what a CodeSender delivers to a phone.
type PhoneMessage struct {
	Phone string
	// CommunityID is the community the person means to join (0: not said),
	// for the text of the message.
	CommunityID int
	// Code is the verification code to enter in register; for a phone
	// that has an account (AlreadyRegistered), the code that lifts a
	// sign-in lock (unlockLogin) or confirms deleting the account.
	Code string
	// AlreadyRegistered: the phone has an account; the message tells its
	// owner to sign in (or reset the password) instead of registering,
	// and gives the code for unlockLogin and deleteMyAccount.
	AlreadyRegistered bool
	ExpiresAt         time.Time
}

// CodeSender delivers phone-verification messages: an SMS gateway in a
// deployment that requires verification.
type CodeSender interface {
	SendPhoneMessage(ctx context.Context, m PhoneMessage) error
}

// LogSender is the default CodeSender, for development and the demo: it
// writes each message to the request's log (or Logger) at info level with
// the phone masked. The
// code itself is logged only when ShowCode is set (outside production): a
// code in a log is a credential anyone who reads the log can use, so a
// production deployment that requires verification must plug in a real
// sender.
type LogSender struct {
	Logger   *slog.Logger
	ShowCode bool
}

// SendPhoneMessage logs m.
func (s LogSender) SendPhoneMessage(ctx context.Context, m PhoneMessage) error {
	log := s.Logger
	if log == nil {
		log = reqlog.From(ctx)
	}
	attrs := []any{"phone", mask.PhoneMasked(m.Phone), "already_registered", m.AlreadyRegistered, "community_id", m.CommunityID}
	if s.ShowCode && m.Code != "" {
		attrs = append(attrs, "code", m.Code)
	}
	log.InfoContext(ctx, "phone verification message (log sender: nothing was sent)", attrs...)
	return nil
}

// PhoneVerificationRequired reports whether register needs a code from
// RequestPhoneCode.
func (s *Service) PhoneVerificationRequired() bool { return s.verify }

// RequestPhoneCode sends a verification code to phone, or, when the phone
// already has an account, a message saying so. Its answer is the same
// either way; with verification off it sends nothing. Attempts are rate
// limited per phone and per address (Config.CodeLimits), more tightly than
// login: each is a message to someone's phone.
func (s *Service) RequestPhoneCode(ctx context.Context, phone string, communityID int, clientAddr string) error {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	if err := s.codeLimits.Allow("code", phone, clientAddr); err != nil {
		return err
	}
	sys := viewer.System(ctx)
	if communityID != 0 {
		if ok, err := s.db.Client.Community.Query().Where(community.ID(communityID)).Exist(sys); err != nil {
			return err
		} else if !ok {
			return apperr.Invalid("communityID", "no such community")
		}
	}
	taken, err := s.db.Client.Person.Query().Where(person.Phone(phone)).Exist(sys)
	if err != nil {
		return err
	}
	// Without phone verification, codes are only for accounts (unlockLogin,
	// deleteMyAccount): a phone without one is sent nothing.
	if !s.verify && !taken {
		return nil
	}
	// A phone with an account gets a code too, told only to its owner:
	// it lifts a sign-in lock or confirms a deletion, and register with it
	// stops at the phone's account (CONFLICT), which the owner knows of.
	code, err := newCode()
	if err != nil {
		return err
	}
	now := s.now()
	msg := PhoneMessage{Phone: phone, CommunityID: communityID, ExpiresAt: now.Add(codeTTL).Truncate(time.Second)}
	msg.AlreadyRegistered = taken
	msg.Code = code
	if _, err := s.db.Client.PhoneCode.Delete().Where(phonecode.ExpiresAtLT(now.Add(-codeTTL))).Exec(sys); err != nil {
		return err
	}
	err = s.db.Client.PhoneCode.Create().
		SetPhone(phone).SetCodeHash(codeHash(phone, code)).SetExpiresAt(msg.ExpiresAt).SetAttempts(0).SetCreatedAt(now).
		OnConflict(sql.ConflictColumns(phonecode.FieldPhone)).UpdateNewValues().
		Exec(sys)
	if err != nil {
		return err
	}
	if err := s.sender.SendPhoneMessage(ctx, msg); err != nil {
		return fmt.Errorf("auth: send phone message: %w", err)
	}
	return nil
}

// useCode consumes phone's verification code if code is it, unexpired and
// not past its attempts; a wrong code counts an attempt. One conditional
// DELETE decides, so two registers cannot both use one code.
func (s *Service) useCode(ctx context.Context, phone, code string) error {
	if code == "" {
		return apperr.Invalid("verificationCode", "a verification code is required: ask for one with requestPhoneCode")
	}
	sys := viewer.System(ctx)
	if len(code) <= 16 {
		n, err := s.db.Client.PhoneCode.Delete().Where(
			phonecode.Phone(phone), phonecode.CodeHash(codeHash(phone, code)),
			phonecode.ExpiresAtGT(s.now()), phonecode.AttemptsLT(maxCodeAttempts),
		).Exec(sys)
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
	}
	if err := s.db.Client.PhoneCode.Update().Where(phonecode.Phone(phone)).AddAttempts(1).Exec(sys); err != nil {
		return err
	}
	return apperr.Invalid("verificationCode", "wrong or expired verification code")
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64()), nil
}

// codeHash is how codes are stored. A six-digit code hashed without a secret
// can be recovered by whoever reads the table; what the hash prevents is a
// code showing up in backups, dumps and query logs, and the expiry (and the
// attempt limit for those who must guess online) bounds what is left.
func codeHash(phone, code string) []byte {
	h := sha256.Sum256([]byte("linli phone code\x00" + phone + "\x00" + code))
	return h[:]
}
