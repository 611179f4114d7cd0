package kiosk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/authz"
	"linli/ent"
	entkiosk "linli/ent/kiosk"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// TokenPrefix starts every kiosk token, so the server can tell a
// device's token from a person's without looking in two tables.
const TokenPrefix = "kiosk_"

// BoardTokenPrefix starts a board token: a kiosk's token for a hall's
// screen, whose viewer is BoardOnly (read the board's data, nothing else).
const BoardTokenPrefix = "board_"

// IsToken reports whether token is a kiosk's (a tablet's or a board's).
func IsToken(token string) bool {
	return strings.HasPrefix(token, TokenPrefix) || strings.HasPrefix(token, BoardTokenPrefix)
}

// NewToken makes a kiosk token: the prefix and 32 random bytes. Only its
// hash (auth.HashToken) is stored.
func NewToken() (string, error) { return newToken(TokenPrefix) }

// NewBoardToken makes a board token (see BoardTokenPrefix).
func NewBoardToken() (string, error) { return newToken(BoardTokenPrefix) }

func newToken(prefix string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

// lastSeenEvery bounds how often a kiosk's last_seen_at is written.
const lastSeenEvery = time.Minute

// Audit-log actions of kiosks.
const (
	ActionRegister = "kiosk.register"
	ActionRevoke   = "kiosk.revoke"
)

// Registered is a new kiosk and its token, which is shown only once.
type Registered struct {
	Kiosk *ent.Kiosk
	Token string
}

// Register registers a kiosk for a venue (staff of its community).
func (s *Service) Register(ctx context.Context, venueID int, name string) (*Registered, error) {
	v, err := authz.RequireStaff(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
		return nil, apperr.Invalid("name", "name must be 1 to 100 characters")
	}
	venue, err := s.client.Venue.Get(ctx, venueID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such venue")
	}
	if err != nil {
		return nil, err
	}
	token, err := NewToken()
	if err != nil {
		return nil, err
	}
	var c *int
	if v.PersonID != 0 {
		c = &v.PersonID
	}
	var k *ent.Kiosk
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		if k, err = tx.Client().Kiosk.Create().SetCommunityID(venue.CommunityID).SetVenueID(venue.ID).
			SetName(name).SetTokenHash(auth.HashToken(token)).SetNillableCreatedByID(c).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: k.CommunityID, Action: ActionRegister,
			Subject: fmt.Sprintf("Kiosk:%d", k.ID), SubjectID: &k.ID, Detail: fmt.Sprintf("%s at Venue:%d (%s)", name, venue.ID, venue.Name)})
	})
	if err != nil {
		return nil, err
	}
	return &Registered{Kiosk: k.Unwrap(), Token: token}, nil
}

// List lists the community's kiosks, of one venue when venueID is set.
func (s *Service) List(ctx context.Context, venueID *int) ([]*ent.Kiosk, error) {
	if _, err := authz.RequireStaff(ctx); err != nil {
		return nil, err
	}
	q := s.client.Kiosk.Query().Order(ent.Asc(entkiosk.FieldID))
	if venueID != nil {
		q.Where(entkiosk.VenueID(*venueID))
	}
	return q.All(ctx)
}

// Revoke stops a kiosk's token from working; revoking twice keeps the
// first time.
func (s *Service) Revoke(ctx context.Context, id int) (*ent.Kiosk, error) {
	if _, err := authz.RequireStaff(ctx); err != nil {
		return nil, err
	}
	k, err := s.client.Kiosk.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such kiosk")
	}
	if err != nil || k.RevokedAt != nil {
		return k, err
	}
	now := s.now()
	s.cache.revoke(k.ID, now)
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		if k, err = tx.Kiosk.UpdateOne(k).SetRevokedAt(now).Save(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: k.CommunityID, Action: ActionRevoke,
			Subject: fmt.Sprintf("Kiosk:%d", k.ID), SubjectID: &k.ID, Detail: k.Name})
	})
	if err != nil {
		return nil, err
	}
	k = k.Unwrap()
	// Other replicas drop the kiosk from their caches, and every replica
	// closes its live connections, at once.
	s.publish(events.Event{Kind: events.Kiosk, KioskID: k.ID, CommunityID: k.CommunityID})
	return k, nil
}

// Revoked forgets a kiosk revoked on another replica.
func (s *Service) Revoked(kioskID int) { s.cache.revoke(kioskID, s.now()) }

// Authenticate resolves a kiosk token to its viewer: a device bound to
// a venue and a community, with no person and no roles. Unknown and revoked
// tokens are auth.ErrInvalidToken.
func (s *Service) Authenticate(ctx context.Context, token string) (*viewer.Viewer, error) {
	if !IsToken(token) || len(token) > 100 {
		return nil, auth.ErrInvalidToken
	}
	hash := sha256.Sum256([]byte(token))
	now := s.now()
	if v := s.cache.get(hash, now); v != nil {
		return v, nil
	}
	sys := viewer.System(ctx)
	k, err := s.client.Kiosk.Query().
		Where(entkiosk.TokenHash(hash[:]), entkiosk.RevokedAtIsNil()).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, auth.ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if k.LastSeenAt == nil || now.Sub(*k.LastSeenAt) >= lastSeenEvery {
		// Conditional, so a burst of requests writes it once.
		err := s.client.Kiosk.Update().Where(entkiosk.ID(k.ID),
			entkiosk.Or(entkiosk.LastSeenAtIsNil(), entkiosk.LastSeenAtLT(now.Add(-lastSeenEvery)))).
			SetLastSeenAt(now).Exec(sys)
		if err != nil {
			return nil, err
		}
	}
	v := &viewer.Viewer{KioskID: k.ID, VenueID: k.VenueID, CommunityID: k.CommunityID,
		BoardOnly: strings.HasPrefix(token, BoardTokenPrefix)}
	s.cache.put(hash, v, now)
	return v, nil
}
