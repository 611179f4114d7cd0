package scan

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/checkinscan"
	"linli/ent/registration"
	"linli/viewer"
)

// Self check-in: a kiosk (or a printed poster refreshed by a kiosk) shows a
// venue QR that rotates every SelfCodeWindow; a signed-in person scans it
// with their own phone and is checked in through the very same path as a
// door scan (Scan: the batch, decide, the window, the nonce rule, the
// ledger and the live counts), as themselves.
//
// A code is one AES block (the activity and the time window, opaque: no
// internal ID shows) and a truncated HMAC-SHA256 of it, both under keys
// derived from the server's secret (Options.SelfCheckInKey, kept in the
// secrets table): nothing is written per rotation, and every replica
// computes the same code. A code is taken during its window and
// SelfCodeGrace after it (the scan in flight); later it is CODE_EXPIRED,
// so a screenshot of an old QR stops working within 40 s.

// SelfCodeWindow is how long one self check-in code is shown.
const SelfCodeWindow = 30 * time.Second

// SelfCodeGrace is how long after its window a code is still taken: a
// phone that scanned it just before it rotated is still answered.
const SelfCodeGrace = 10 * time.Second

// SelfCheckInPath is the page a self check-in QR opens (served with the
// web pages); the code follows as ?c=.
const SelfCheckInPath = "/checkin/self"

// SelfCode is a self check-in code as a kiosk shows it.
type SelfCode struct {
	Code, URL string
	ExpiresAt time.Time
	// RotatesInSeconds is how many seconds from now the next code is due
	// (ExpiresAt − now, rounded up).
	RotatesInSeconds int
}

// selfCodes makes and reads self check-in codes.
type selfCodes struct {
	block cipher.Block
	mac   []byte
}

func newSelfCodes(secret []byte) *selfCodes {
	if len(secret) == 0 {
		return nil
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("linli self check-in " + label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("cipher")[:16])
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	return &selfCodes{block: block, mac: derive("mac")}
}

const selfMACLen = 8

// window is the number of the code window holding t.
func selfWindow(t time.Time) int64 { return t.Unix() / int64(SelfCodeWindow/time.Second) }

func (c *selfCodes) make(activityID int, window int64) string {
	var plain, sealed [16]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(activityID))
	binary.BigEndian.PutUint64(plain[8:], uint64(window))
	c.block.Encrypt(sealed[:], plain[:])
	m := hmac.New(sha256.New, c.mac)
	m.Write(sealed[:])
	return base64.RawURLEncoding.EncodeToString(append(sealed[:], m.Sum(nil)[:selfMACLen]...))
}

// read returns the activity and window of a code linli made; ok is false
// for anything else (forged, garbled, another deployment's).
func (c *selfCodes) read(code string) (activityID int, window int64, ok bool) {
	if len(code) > 64 {
		return 0, 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(code)
	if err != nil || len(raw) != 16+selfMACLen {
		return 0, 0, false
	}
	m := hmac.New(sha256.New, c.mac)
	m.Write(raw[:16])
	if !hmac.Equal(m.Sum(nil)[:selfMACLen], raw[16:]) {
		return 0, 0, false
	}
	var plain [16]byte
	c.block.Decrypt(plain[:], raw[:16])
	id := binary.BigEndian.Uint64(plain[:8])
	if id == 0 || id > 1<<62 {
		return 0, 0, false
	}
	return int(id), int64(binary.BigEndian.Uint64(plain[8:])), true
}

// fresh reports whether a code of window is still taken at now: its own
// window, or the one before within SelfCodeGrace of its end.
func selfFresh(window int64, now time.Time) bool {
	cur := selfWindow(now)
	switch window {
	case cur:
		return true
	case cur - 1:
		end := time.Unix((window+1)*int64(SelfCodeWindow/time.Second), 0)
		return now.Before(end.Add(SelfCodeGrace))
	}
	return false
}

// MakeSelfCode is the self check-in code of activityID for the window
// holding at, under secret: what SelfCheckInCode shows then (a test makes
// an old code with it).
func MakeSelfCode(secret []byte, activityID int, at time.Time) string {
	return newSelfCodes(secret).make(activityID, selfWindow(at))
}

// SelfCheckInCode is the code a kiosk at the activity's venue (or staff of
// its community) shows now for self check-in.
func (s *Service) SelfCheckInCode(ctx context.Context, activityID int) (*SelfCode, error) {
	if s.self == nil {
		return nil, fmt.Errorf("scan: self check-in has no key")
	}
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.activityFor(ctx, who, activityID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	w := selfWindow(now)
	code := s.self.make(a.ID, w)
	expires := time.Unix((w+1)*int64(SelfCodeWindow/time.Second), 0).UTC()
	secs := int((expires.Sub(now) + time.Second - 1) / time.Second)
	return &SelfCode{Code: code, URL: SelfCheckInPath + "?c=" + code, ExpiresAt: expires, RotatesInSeconds: max(secs, 1)}, nil
}

// SelfCheckIn checks the signed-in person in with a venue code they
// scanned: their registration for the code's activity goes through Scan's
// path exactly as if its QR had been scanned at the door, recorded with
// method SELF and the person as the actor. A code linli did not make is
// UNKNOWN_CODE, one past its window and grace CODE_EXPIRED (both answered,
// not stored); a retried nonce gets the first answer even after the code
// rotated. Self check-ins are limited per person (SelfCheckInsPerMinute).
func (s *Service) SelfCheckIn(ctx context.Context, code, nonce string) (*Result, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.PersonID == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to check yourself in")
	}
	if s.self == nil {
		return nil, fmt.Errorf("scan: self check-in has no key")
	}
	if len(code) > 100 {
		return nil, apperr.Invalid("code", "code must be at most 100 bytes")
	}
	who := scanner{actorID: v.PersonID, communityID: v.CommunityID}
	now := s.now()
	if !s.selfLimit.allow(who, now) {
		return nil, apperr.New(apperr.RateLimited, "too many self check-ins; wait a minute")
	}
	activityID, window, ok := s.self.read(code)
	in := Scan{Kind: In, Method: checkinscan.MethodSELF, Nonce: nonce, ActivityID: activityID,
		subject: fmt.Sprintf("self:%d", activityID)}
	if err := checkScan(in, ""); err != nil {
		return nil, err
	}
	if !ok {
		return &Result{Status: UnknownCode, Message: "无效的签到二维码，请扫描现场屏幕上的二维码", Nonce: nonce, Kind: In, At: now}, nil
	}
	if r, err := s.stored(ctx, who, in); r != nil || err != nil {
		return r, err
	}
	if !selfFresh(window, now) {
		return &Result{Status: CodeExpired, Message: message(In, CodeExpired, nil, 0), Nonce: nonce, Kind: In, At: now}, nil
	}
	// The person's own registration for the activity (as linli itself:
	// decide answers another community's as unknown); one that is coming
	// first, then the latest.
	regs, err := s.client.Registration.Query().
		Where(registration.ActivityID(activityID), registration.PersonID(v.PersonID)).
		Order(ent.Desc(registration.FieldID)).Limit(10).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	var mine *ent.Registration
	for _, r := range regs {
		if mine == nil || r.Status != registration.StatusCANCELLED && mine.Status == registration.StatusCANCELLED {
			mine = r
		}
	}
	if mine == nil {
		// Not stored: the code may be another community's activity.
		return &Result{Status: UnknownCode, Message: "您没有报名本活动，请先报名或找工作人员", Nonce: nonce, Kind: In, At: now}, nil
	}
	in.Code = mine.CheckInCode
	res, t, done, err := s.submit(ctx, who, in)
	if done {
		return res, err
	}
	return s.apply(ctx, who, in, t, now, now)
}
