// Package auth holds accounts and sessions: argon2id password hashes, random
// bearer tokens stored only as SHA-256 hashes, expiry and revocation, and the
// rate limits on login and register.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/ent"
	"linli/ent/community"
	"linli/ent/person"
	"linli/ent/teammembership"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// Service signs people in and out and resolves tokens to viewers.
type Service struct {
	db       *store.DB
	tokenTTL time.Duration
	limits   *Limiter
	// codeLimits bounds requestPhoneCode: each is a message to someone's
	// phone, so fewer than logins.
	codeLimits *Limiter
	cache      *tokenCache
	verify     bool
	sender     CodeSender
	now        func() time.Time
	events     events.Publisher
	lifetimes  Lifetimes
	lockout    *Lockout
}

// Config tunes a Service.
type Config struct {
	// TokenTTL is the absolute lifetime of a resident's session; it wins
	// over Lifetimes.Resident when set (tests, load tools).
	TokenTTL time.Duration
	// Lifetimes are the sessions' absolute lifetimes and idle timeouts by
	// class (zero fields: the defaults).
	Lifetimes Lifetimes
	// Lockout locks sign-in after repeated failures (nil: never).
	Lockout *Lockout
	// Limits bounds login/register attempts; nil switches rate limiting off.
	Limits *Limiter
	// CodeLimits bounds requestPhoneCode; nil switches its limit off.
	CodeLimits *Limiter
	// TokenCacheTTL is how long Authenticate trusts a token it has already
	// checked without asking the database again (see tokenCache); 0 asks
	// every time.
	TokenCacheTTL time.Duration
	// RequirePhoneVerification makes register take a code sent to the phone
	// by RequestPhoneCode, through CodeSender (default: LogSender, which
	// sends nothing and logs without the code).
	RequirePhoneVerification bool
	CodeSender               CodeSender
	// Events is told, after commit, of every session a logout revoked
	// (an events.Session event), so that every replica forgets the
	// token and closes what rests on it; nil discards.
	Events events.Publisher
}

// NewService returns a Service over db.
func NewService(db *store.DB, c Config) *Service {
	if c.TokenTTL > 0 {
		c.Lifetimes.Resident = c.TokenTTL
	}
	c.Lifetimes = c.Lifetimes.withDefaults()
	c.TokenTTL = c.Lifetimes.Resident
	if c.CodeSender == nil {
		c.CodeSender = LogSender{}
	}
	if c.Events == nil {
		c.Events = events.Discard{}
	}
	return &Service{db: db, tokenTTL: c.TokenTTL, limits: c.Limits, codeLimits: c.CodeLimits, cache: newTokenCache(c.TokenCacheTTL, 100_000),
		verify: c.RequirePhoneVerification, sender: c.CodeSender, events: c.Events, lifetimes: c.Lifetimes, lockout: c.Lockout,
		now: func() time.Time { return time.Now().UTC() }}
}

// Session is a freshly issued token.
type Session struct {
	Token     string
	ExpiresAt time.Time
	Person    *ent.Person
	// Viewer is the signed-in viewer of the new session.
	Viewer *viewer.Viewer
}

var phonePattern = regexp.MustCompile(`^\+?[0-9]{6,15}$`)

// maxPhoneInput bounds what NormalizePhone looks at: a longer string (even
// with spaces and dashes) is no phone number.
const maxPhoneInput = 40

// NormalizePhone strips spaces and dashes, validates what is left and
// drops the country code of a mainland mobile number.
// Everything that keys on a phone (rate limits, lookups) takes its result.
func NormalizePhone(phone string) (string, error) {
	if len(phone) > maxPhoneInput {
		return "", apperr.Invalid("phone", "phone must be 6 to 15 digits")
	}
	p := strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(phone))
	if !phonePattern.MatchString(p) {
		return "", apperr.Invalid("phone", "phone must be 6 to 15 digits")
	}
	// A mainland mobile number is one account however it is written:
	// +86 13800000004, 0086 13800000004, 86 138-0000-0004 and 13800000004
	// are the same phone.
	if m := mainlandMobile.FindStringSubmatch(p); m != nil {
		return m[1], nil
	}
	return p, nil
}

// mainlandMobile matches a mainland China mobile number written with its
// country code (+86 or 0086).
var mainlandMobile = regexp.MustCompile(`^(?:\+86|0086|86)(1[0-9]{10})$`)

// MaxDisplayNameRunes bounds a person's name in characters (not bytes: a
// Chinese name is three bytes a character), on every path that sets one:
// register, walk-ins, paper sheets, imports.
const MaxDisplayNameRunes = 40

// ValidateDisplayName enforces the display-name rules.
func ValidateDisplayName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxDisplayNameRunes {
		return "", apperr.Invalid("displayName", "display name must be 1 to %d characters", MaxDisplayNameRunes)
	}
	return name, nil
}

// Registration is what register is given.
type Registration struct {
	CommunityID int
	Phone       string
	Password    string
	DisplayName string
	// VerificationCode is the code RequestPhoneCode sent to the phone, when
	// the deployment requires phone verification.
	VerificationCode string
	ClientAddr       string
}

// Register creates a resident account in a community and signs it in. A
// phone that already has an account (in any community) gets one answer,
// which names no community: CONFLICT "cannot register this phone". With
// phone verification on, that answer is never reached without the code,
// which such a phone is never sent.
func (s *Service) Register(ctx context.Context, r Registration) (*Session, error) {
	phone, err := NormalizePhone(r.Phone)
	if err != nil {
		return nil, err
	}
	if err := s.limits.Allow("register", phone, r.ClientAddr); err != nil {
		return nil, err
	}
	if err := ValidatePassword(r.Password, phone); err != nil {
		return nil, err
	}
	displayName, err := ValidateDisplayName(r.DisplayName)
	if err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	if ok, err := s.db.Client.Community.Query().Where(community.ID(r.CommunityID)).Exist(sys); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.Invalid("communityID", "no such community")
	}
	if s.verify {
		if err := s.useCode(ctx, phone, r.VerificationCode); err != nil {
			return nil, err
		}
	}
	hash, err := HashPassword(r.Password)
	if err != nil {
		return nil, err
	}
	p, err := s.db.Client.Person.Create().
		SetCommunityID(r.CommunityID).
		SetDisplayName(displayName).
		SetPhone(phone).
		SetPasswordHash(hash).
		SetRoles([]string{string(viewer.Resident)}).
		Save(sys)
	if ent.IsConstraintError(err) {
		return nil, &apperr.Error{Code: apperr.Conflict, Field: "phone", Message: "cannot register this phone; sign in or reset the password", Err: err}
	}
	if err != nil {
		return nil, err
	}
	return s.issue(sys, p)
}

// Login checks a phone and password and issues a token.
func (s *Service) Login(ctx context.Context, phone, password, clientAddr string) (*Session, error) {
	norm, err := NormalizePhone(phone)
	if err != nil {
		return nil, err
	}
	if err := s.limits.Allow("login", norm, clientAddr); err != nil {
		return nil, err
	}
	// A locked (phone, address) pair, or a phone locked everywhere, is
	// refused before any password is checked: the lock stops guessing.
	if err := s.lockout.Check(norm, clientAddr); err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	// Only accounts with a password sign in; the phone is unique among them.
	p, err := s.db.Client.Person.Query().Where(person.Phone(norm), person.PasswordHashNEQ("")).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	// An unknown phone and an account without a password cost the same
	// argon2id derivation as a wrong password (CheckPassword sees to the
	// latter), so the answer's timing tells them apart from nothing.
	hash := NoPassword
	if p != nil {
		hash = p.PasswordHash
	}
	match, err := checkPassword(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if !match || p == nil {
		// Counted for unknown phones too, so a lock tells nobody whether
		// the phone has an account.
		s.lockout.Failed(norm, clientAddr)
		return nil, apperr.New(apperr.Unauthenticated, "wrong phone number or password")
	}
	s.lockout.Succeeded(norm, clientAddr)
	return s.issue(sys, p)
}

// RateLimitBuckets is the number of rate-limit buckets held (0 without
// rate limiting): bounded by DefaultMaxBuckets whatever clients send.
func (s *Service) RateLimitBuckets() int { return s.limits.Buckets() }

// IssueToken signs a person in without a password (demo data, tests, load tools).
func (s *Service) IssueToken(ctx context.Context, personID int) (*Session, error) {
	sys := viewer.System(ctx)
	p, err := s.db.Client.Person.Get(sys, personID)
	if err != nil {
		return nil, err
	}
	return s.issue(sys, p)
}

func (s *Service) issue(ctx context.Context, p *ent.Person) (*Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	life, idle := s.lifetimes.of(StaffClass(rolesOf(p.Roles)))
	exp := now.Add(life).Truncate(time.Second)
	ses, err := s.db.Client.Session.Create().
		SetTokenHash(HashToken(token)).
		SetPersonID(p.ID).
		SetCommunityID(p.CommunityID).
		SetExpiresAt(exp).
		SetIdleExpiresAt(now.Add(idle)).
		SetCreatedAt(now).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	v := viewerOf(ses, p)
	if err := s.fillLeadTeams(ctx, v); err != nil {
		return nil, err
	}
	return &Session{Token: token, ExpiresAt: exp, Person: p, Viewer: v}, nil
}

// HashToken is how tokens are stored: SHA-256 (tokens carry 256 random bits,
// so a slow hash adds nothing).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ErrInvalidToken is returned for unknown, expired or revoked tokens.
var ErrInvalidToken = errors.New("invalid or expired token")

// Authenticate resolves a bearer token to its viewer.
func (s *Service) Authenticate(ctx context.Context, token string) (*viewer.Viewer, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrInvalidToken
	}
	hash := sha256.Sum256([]byte(token))
	now := s.now()
	if v := s.cache.get(hash, now); v != nil {
		return v, nil
	}
	v := &viewer.Viewer{}
	var roles []byte
	var created time.Time
	var idleUntil sql.NullTime
	ok, err := store.QueryRow(ctx, s.db.Client, s.db.Rebind(SessionByToken), []any{hash[:], now, now},
		&v.SessionID, &v.ExpiresAt, &v.PersonID, &v.CommunityID, &roles, &created, &idleUntil)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidToken
	}
	var names []string
	if err := json.Unmarshal(roles, &names); err != nil {
		return nil, fmt.Errorf("auth: roles of person %d: %w", v.PersonID, err)
	}
	v.Roles = rolesOf(names)
	// The class's absolute lifetime (roles may have changed since sign-in).
	if v.ExpiresAt = s.sessionEnd(created, v.ExpiresAt, v.Roles); !now.Before(v.ExpiresAt) {
		return nil, ErrInvalidToken
	}
	var idle *time.Time
	if idleUntil.Valid {
		idle = &idleUntil.Time
	}
	// A use moves the idle expiry (at most a write a minute); a cached
	// viewer lives no longer than it (tokenCache.put), so an idle session
	// ends within touchEvery of its timeout on every replica.
	idleEnd, err := s.touch(ctx, v.SessionID, idle, v.Roles, now)
	if err != nil {
		return nil, err
	}
	if !idleEnd.IsZero() && idleEnd.Before(v.ExpiresAt) {
		v.ExpiresAt = idleEnd
	}
	if err := s.fillLeadTeams(viewer.System(ctx), v); err != nil {
		return nil, err
	}
	s.cache.put(hash, v, now)
	return v, nil
}

// SessionByToken is the whole token check in one statement: the session
// with this token hash, not revoked, not expired at the given time, and its
// person's community and roles (JSON). Benchmarks send the same statement.
// The session's start and idle expiry come last (the class's lifetime and
// idle timeout are applied in Go, since roles may have changed).
const SessionByToken = `SELECT s.id, s.expires_at, p.id, p.community_id, p.roles, s.created_at, s.idle_expires_at
FROM sessions s JOIN persons p ON p.id = s.person_id
WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND (s.idle_expires_at IS NULL OR s.idle_expires_at > ?)`

// viewerOf builds the viewer of a session. For a team leader it reads the
// teams they lead (one more query, for team leaders only); ctx must be the
// system's.
// viewerOf is the viewer of a person's session, but for the teams they
// lead (fillLeadTeams).
func viewerOf(ses *ent.Session, p *ent.Person) *viewer.Viewer {
	return &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID, SessionID: ses.ID, ExpiresAt: ses.ExpiresAt, Roles: rolesOf(p.Roles)}
}

func rolesOf(names []string) []viewer.Role {
	roles := make([]viewer.Role, len(names))
	for i, n := range names {
		roles[i] = viewer.Role(n)
	}
	return roles
}

// fillLeadTeams fills in the teams the team leaders among vs lead, in one
// query whatever their number (none when no one leads); ctx must be the
// system's.
func (s *Service) fillLeadTeams(ctx context.Context, vs ...*viewer.Viewer) error {
	var leaders []int
	for _, v := range vs {
		if v.Has(viewer.TeamLeader) {
			leaders = append(leaders, v.PersonID)
		}
	}
	if len(leaders) == 0 {
		return nil
	}
	var led []struct {
		PersonID int `json:"person_id"`
		TeamID   int `json:"team_id"`
	}
	err := s.db.Client.TeamMembership.Query().
		Where(teammembership.PersonIDIn(leaders...), teammembership.RoleEQ(teammembership.RoleLEADER)).
		Select(teammembership.FieldPersonID, teammembership.FieldTeamID).Scan(ctx, &led)
	if err != nil {
		return err
	}
	teams := map[int][]int{}
	for _, m := range led {
		teams[m.PersonID] = append(teams[m.PersonID], m.TeamID)
	}
	for _, v := range vs {
		if v.Has(viewer.TeamLeader) {
			v.LeadTeams = teams[v.PersonID]
		}
	}
	return nil
}

// Logout revokes the session of the viewer in ctx.
func (s *Service) Logout(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil || v.SessionID == 0 {
		return apperr.New(apperr.Unauthenticated, "not signed in")
	}
	now := s.now()
	if err := s.db.Client.Session.UpdateOneID(v.SessionID).SetRevokedAt(now).Exec(viewer.System(ctx)); err != nil {
		return err
	}
	s.cache.loggedOutSession(v.SessionID, now)
	s.events.Publish(events.Event{Kind: events.Session, SessionID: v.SessionID})
	return nil
}

// SessionEnded drops a session ended elsewhere (another replica's logout)
// from the token cache.
func (s *Service) SessionEnded(sessionID int) { s.cache.loggedOutSession(sessionID, s.now()) }
