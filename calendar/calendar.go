// Package calendar serves secret iCalendar feeds (GET /calendar/<token>.ics):
// a person's own confirmed and waitlisted activities, and, for staff, the
// activities of a team or a venue. A feed's token is shown once, when it is
// made (Rotate, which revokes the feed's previous token); only its SHA-256
// is stored. RevokePerson revokes every feed a person holds: account
// deletion and disabling call it. The format is written by
// github.com/arran4/golang-ical, not by hand.
package calendar

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/calendarfeed"
	"linli/store"
	"linli/viewer"
)

// ActionRotate is the audit-log action of making (or remaking) a feed.
const ActionRotate = "calendar.rotate"

// Bounds of a feed: activities that started at most Past ago, at most
// MaxEvents of them (the earliest first).
const (
	Past      = 90 * 24 * time.Hour
	MaxEvents = 500
	// AlarmBefore is when the feed's reminder alarm rings, before the start.
	AlarmBefore = 2 * time.Hour
	// tokenPrefix starts every feed token, so a leaked one is recognisable.
	tokenPrefix = "cal_"
)

// Service makes and serves calendar feeds.
type Service struct {
	client *ent.Client
	// base is prepended to a feed's path in the URL Rotate answers
	// (-public-url); empty: the path alone.
	base   string
	encode func(int) string
	now    func() time.Time
}

// New returns the service; publicURL is the deployment's public base URL
// (may be empty), encode turns row ids into the API's IDs (event UIDs).
func New(client *ent.Client, publicURL string, encode func(int) string) *Service {
	return &Service{client: client, base: strings.TrimRight(publicURL, "/"), encode: encode,
		now: func() time.Time { return time.Now().UTC() }}
}

// Rotated is a feed's new secret URL, shown once.
type Rotated struct {
	Scope calendarfeed.Scope
	Path  string
	URL   string
}

// Rotate makes a new token for the viewer's own feed (teamID and venueID
// nil), or for a team's or a venue's feed (staff; a team's leaders for
// their team), and revokes the previous token of the same feed.
func (s *Service) Rotate(ctx context.Context, teamID, venueID *int) (*Rotated, error) {
	v := viewer.FromContext(ctx)
	if teamID != nil && venueID != nil {
		return nil, apperr.Invalid("venueID", "name a team or a venue, not both")
	}
	scope, cid := calendarfeed.ScopePERSON, 0
	if v != nil {
		cid = v.CommunityID
	}
	switch {
	case teamID != nil:
		t, err := s.client.Team.Get(ctx, *teamID)
		if err != nil {
			return nil, notFound(err, "no such team")
		}
		scope, cid = calendarfeed.ScopeTEAM, t.CommunityID
	case venueID != nil:
		vn, err := s.client.Venue.Get(ctx, *venueID)
		if err != nil {
			return nil, notFound(err, "no such venue")
		}
		scope, cid = calendarfeed.ScopeVENUE, vn.CommunityID
	}
	if err := authz.CalendarFeedOf(v, cid, teamID, venueID); err != nil {
		return nil, err
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	sys := viewer.System(ctx)
	var feed *ent.CalendarFeed
	err = store.InTx(ctx, s.client, store.TxOptions{}, func(tx *ent.Tx) error {
		old := tx.CalendarFeed.Update().Where(calendarfeed.PersonID(v.PersonID), calendarfeed.ScopeEQ(scope),
			calendarfeed.RevokedAtIsNil())
		switch {
		case teamID != nil:
			old.Where(calendarfeed.TeamID(*teamID))
		case venueID != nil:
			old.Where(calendarfeed.VenueID(*venueID))
		}
		if _, err := old.SetRevokedAt(s.now()).Save(sys); err != nil {
			return err
		}
		var err error
		if feed, err = tx.CalendarFeed.Create().SetCommunityID(cid).SetTokenHash(auth.HashToken(token)).
			SetScope(scope).SetPersonID(v.PersonID).SetNillableTeamID(teamID).SetNillableVenueID(venueID).
			SetCreatedAt(s.now()).Save(sys); err != nil {
			return err
		}
		subject := fmt.Sprintf("Person:%d", v.PersonID)
		switch {
		case teamID != nil:
			subject = fmt.Sprintf("Team:%d", *teamID)
		case venueID != nil:
			subject = fmt.Sprintf("Venue:%d", *venueID)
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionRotate,
			Subject: subject, SubjectID: &feed.ID, Detail: fmt.Sprintf("%s feed; earlier URLs revoked", scope)})
	})
	if err != nil {
		return nil, err
	}
	path := "/calendar/" + token + ".ics"
	return &Rotated{Scope: scope, Path: path, URL: s.base + path}, nil
}

// RevokePerson revokes every calendar feed person personID holds (their
// own and those they made for a team or venue), through c (a client or a
// transaction's, so that it commits with the account's deletion or
// disabling). Account deletion and disabling must call it; it is also
// safe to call twice.
func RevokePerson(ctx context.Context, c *ent.Client, personID int) error {
	_, err := c.CalendarFeed.Update().Where(calendarfeed.PersonID(personID), calendarfeed.RevokedAtIsNil()).
		SetRevokedAt(time.Now().UTC()).Save(viewer.System(ctx))
	return err
}

func newToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

func notFound(err error, msg string) error {
	if ent.IsNotFound(err) {
		return apperr.New(apperr.NotFound, "%s", msg)
	}
	return err
}

// FeedColumns name the columns of FeedRows.
var FeedColumns = []string{"scope", "createdAt", "revokedAt"}

// FeedRows lists a person's calendar feeds (never their tokens, which
// are kept only hashed), for their data download.
func FeedRows(ctx context.Context, c *ent.Client, personID, limit int) ([][]any, error) {
	fs, err := c.CalendarFeed.Query().Where(calendarfeed.PersonID(personID)).
		Order(ent.Desc(calendarfeed.FieldID)).Limit(limit).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	rows := make([][]any, len(fs))
	for i, f := range fs {
		rows[i] = []any{string(f.Scope), cst.Stamp(&f.CreatedAt), cst.Stamp(f.RevokedAt)}
	}
	return rows, nil
}
