// Package pairing pairs a tablet with a kiosk: staff create a short-lived,
// single-use code for a registered kiosk, and the tablet (the /kiosk page)
// trades it for the kiosk's token. Codes are kept as SHA-256 hashes only.
// Trading a code gives the kiosk a new token, so the token registerKiosk
// showed, or a tablet paired before, stops working.
package pairing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/ent"
	"linli/ent/kiosk"
	"linli/ent/kioskpairingcode"
	"linli/events"
	kiosks "linli/kiosk"
	"linli/reqlog"
	"linli/store"
	"linli/viewer"
)

// DefaultTTL is how long a pairing code works.
const DefaultTTL = 10 * time.Minute

// alphabet is what codes are made of: no 0/O, 1/I/L, so that a code read
// off a screen is typed right.
const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// codeLen is the length of a code without its dash: 31^8 ≈ 8.5·10^11
// codes, against a rate-limited guesser and a ten-minute window.
const codeLen = 8

// Service creates and redeems pairing codes.
type Service struct {
	Client *ent.Client
	Events events.Publisher
	// Limits bounds pairKiosk attempts per client address; nil: unlimited.
	Limits *auth.Limiter
	TTL    time.Duration
}

// Code is a new pairing code, shown once.
type Code struct {
	Kiosk     *ent.Kiosk
	Code      string
	ExpiresAt time.Time
}

// Paired is the kiosk a code was traded for and its new token.
type Paired struct {
	Kiosk *ent.Kiosk
	Token string
}

func (s *Service) now() time.Time { return time.Now().UTC() }

// Audit-log actions of pairing.
const (
	ActionCode = "kiosk.pairing_code"
	ActionPair = "kiosk.pair"
)

// Create makes a pairing code for a kiosk of the staff member's community.
func (s *Service) Create(ctx context.Context, kioskID int) (*Code, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !v.IsStaff() {
		return nil, apperr.New(apperr.Forbidden, "only coordinators may pair kiosks")
	}
	// Read as the viewer: the kiosk policy keeps other communities' out.
	k, err := s.Client.Kiosk.Get(ctx, kioskID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such kiosk")
	}
	if err != nil {
		return nil, err
	}
	if k.RevokedAt != nil {
		return nil, apperr.New(apperr.Conflict, "the kiosk is revoked; register a new one")
	}
	code, err := newCode()
	if err != nil {
		return nil, err
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	now := s.now()
	var createdBy *int
	if v.PersonID != 0 {
		createdBy = &v.PersonID
	}
	sys := viewer.System(ctx)
	var row *ent.KioskPairingCode
	err = store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		var err error
		if row, err = tx.Client().KioskPairingCode.Create().SetKioskID(k.ID).SetCodeHash(hash(code)).
			SetExpiresAt(now.Add(ttl)).SetCreatedAt(now).SetNillableCreatedByID(createdBy).Save(sys); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: k.CommunityID, Action: ActionCode,
			Subject: fmt.Sprintf("Kiosk:%d", k.ID), SubjectID: &k.ID, Detail: "pairing code valid until " + row.ExpiresAt.Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	// Codes a day past their expiry are of no use, not even to an audit.
	if _, err := s.Client.KioskPairingCode.Delete().Where(kioskpairingcode.ExpiresAtLT(now.Add(-24 * time.Hour))).Exec(sys); err != nil {
		return nil, err
	}
	return &Code{Kiosk: k, Code: code, ExpiresAt: row.ExpiresAt}, nil
}

// Pair trades a code for its kiosk's new token. The code is consumed by a
// conditional update, so of two tablets sending it at once exactly one gets
// the token; a code that is unknown, used, expired, or whose kiosk was
// revoked since, is NOT_FOUND (all alike, so a guesser learns nothing).
func (s *Service) Pair(ctx context.Context, code string) (*Paired, error) {
	return s.pair(ctx, code, kiosks.NewToken)
}

// PairBoard is Pair for a hall's screen: the kiosk's new token is a board
// token (kiosks.NewBoardToken), whose viewer may only read what the board
// shows (authz.BoardMayUse), so a TV left on in a hall holds nothing that
// checks people in or manages anything.
func (s *Service) PairBoard(ctx context.Context, code string) (*Paired, error) {
	return s.pair(ctx, code, kiosks.NewBoardToken)
}

func (s *Service) pair(ctx context.Context, code string, newToken func() (string, error)) (*Paired, error) {
	if err := s.Limits.Allow("pairKiosk", "", reqlog.ClientAddr(ctx)); err != nil {
		return nil, err
	}
	norm, ok := Normalize(code)
	if !ok {
		return nil, apperr.Invalid("code", "a pairing code is 8 letters and digits, e.g. 7KQM-2XPD")
	}
	sys := viewer.System(ctx)
	now := s.now()
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	tx, err := s.Client.Tx(sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	pc, err := tx.KioskPairingCode.Query().Where(kioskpairingcode.CodeHash(hash(norm))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, unknownCode()
	}
	if err != nil {
		return nil, err
	}
	n, err := tx.KioskPairingCode.Update().
		Where(kioskpairingcode.ID(pc.ID), kioskpairingcode.UsedAtIsNil(), kioskpairingcode.ExpiresAtGT(now)).
		SetUsedAt(now).Save(sys)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, unknownCode()
	}
	n, err = tx.Kiosk.Update().Where(kiosk.ID(pc.KioskID), kiosk.RevokedAtIsNil()).
		SetTokenHash(auth.HashToken(token)).Save(sys)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, unknownCode()
	}
	k, err := tx.Kiosk.Get(sys, pc.KioskID)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: k.CommunityID, Action: ActionPair,
		Subject: fmt.Sprintf("Kiosk:%d", k.ID), SubjectID: &k.ID, Detail: "paired a tablet; the old token stops working"}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// The old token's cached entries and live connections end everywhere,
	// as on a revocation (the kiosk itself stays).
	if s.Events != nil {
		s.Events.Publish(events.Event{Kind: events.Kiosk, KioskID: k.ID, CommunityID: k.CommunityID})
	}
	return &Paired{Kiosk: k, Token: token}, nil
}

func unknownCode() error {
	return apperr.New(apperr.NotFound, "this pairing code is unknown, used or expired; ask for a new one")
}

// Normalize reads a code as typed or scanned: case, spaces and dashes do
// not matter.
func Normalize(code string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == '-' || r == ' ':
			continue
		case strings.ContainsRune(alphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
		if b.Len() > codeLen {
			return "", false
		}
	}
	if b.Len() != codeLen {
		return "", false
	}
	return b.String(), true
}

// newCode is codeLen random letters of alphabet, shown as XXXX-XXXX.
func newCode() (string, error) {
	raw := make([]byte, codeLen)
	out := make([]byte, 0, codeLen)
	for len(out) < codeLen {
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		for _, c := range raw {
			// Reject the top of the byte range so every letter is as likely.
			if int(c) < 256/len(alphabet)*len(alphabet) && len(out) < codeLen {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out[:4]) + "-" + string(out[4:]), nil
}

func hash(code string) []byte {
	norm, _ := Normalize(code)
	sum := sha256.Sum256([]byte("linli-pairing:" + norm))
	return sum[:]
}
