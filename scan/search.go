package scan

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/mask"
	"linli/viewer"
)

// Match is one registration a name search at the door found.
type Match struct {
	Registration *ent.Registration
	// MaskedName is the name as the kiosk shows it (mask.Name).
	MaskedName string
	// PhoneTail is the last 4 digits of the phone ("" without one).
	PhoneTail string
}

// MaxMatches bounds a search's answer; maxSearchRows the registrations of
// one activity a search reads.
const (
	MaxMatches    = 20
	maxSearchRows = 5000
)

// Search finds the registrations of an activity a person at the door may
// be: query is a surname or name prefix (王, 王小), a phone's last digits
// (3 or 4: 1234), both (王1234, 王 1234), or pinyin initials (wxy for
// 吴小雨, case aside). Cancelled registrations are left out; at most
// MaxMatches, those still coming first. For a kiosk at the activity's
// venue and staff of its community; names come back masked as the kiosk
// shows them.
func (s *Service) Search(ctx context.Context, activityID int, query string) ([]Match, error) {
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	q, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	a, err := s.activityFor(ctx, who, activityID)
	if err != nil {
		return nil, err
	}
	if q.empty() {
		return []Match{}, nil
	}
	// As linli itself once the activity was: phones are matched here and
	// never returned; names come back masked.
	regs, err := s.client.Registration.Query().
		Where(registration.ActivityID(a.ID), registration.StatusNEQ(registration.StatusCANCELLED)).
		WithPerson().Order(ent.Asc(registration.FieldID)).Limit(maxSearchRows).All(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	out := []Match{}
	for _, r := range regs {
		p := r.Edges.Person
		if p == nil || !q.matches(p.DisplayName, p.Phone) {
			continue
		}
		out = append(out, Match{Registration: r, MaskedName: mask.Name(p.DisplayName), PhoneTail: phoneTail(p.Phone)})
	}
	slices.SortStableFunc(out, func(x, y Match) int { return searchRank(x) - searchRank(y) })
	if len(out) > MaxMatches {
		out = out[:MaxMatches]
	}
	return out, nil
}

// searchRank orders matches: still to check in, then checked in, then the rest.
func searchRank(m Match) int {
	switch m.Registration.Status {
	case registration.StatusCONFIRMED:
		return 0
	case registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT:
		return 1
	}
	return 2
}

// searchQuery is a parsed search: a name prefix (han), pinyin initials
// (latin letters, lower case) and phone digits, each possibly empty.
type searchQuery struct{ name, initials, digits string }

func (q searchQuery) empty() bool { return q.name == "" && q.initials == "" && q.digits == "" }

func parseQuery(query string) (searchQuery, error) {
	query = strings.TrimSpace(query)
	if len([]rune(query)) > 30 {
		return searchQuery{}, apperr.Invalid("query", "query must be at most 30 characters")
	}
	var q searchQuery
	var name, initials, digits strings.Builder
	for _, r := range query {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			initials.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r), r == '*', r == '-':
		default:
			name.WriteRune(r)
		}
	}
	q.name, q.initials, q.digits = name.String(), initials.String(), digits.String()
	if q.digits != "" && (len(q.digits) < 3 || len(q.digits) > 4) {
		return searchQuery{}, apperr.Invalid("query", "give the last 3 or 4 digits of the phone number")
	}
	return q, nil
}

// matches reports whether a person with this name and phone fits q: every
// part given must fit.
func (q searchQuery) matches(name, phone string) bool {
	if q.digits != "" && !strings.HasSuffix(phone, q.digits) {
		return false
	}
	if q.name != "" && !strings.HasPrefix(name, q.name) {
		return false
	}
	if q.initials != "" && !strings.HasPrefix(Initials(name), q.initials) {
		return false
	}
	return true
}

var initialsArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.FirstLetter
	a.Heteronym = false
	// Latin letters in a name stand for themselves.
	a.Fallback = func(r rune, _ pinyin.Args) []string {
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			return []string{string(unicode.ToLower(r))}
		}
		return nil
	}
	return a
}()

// Initials is the pinyin initials of a name, lower case: 吴小雨 → wxy.
func Initials(name string) string {
	var b strings.Builder
	for _, p := range pinyin.Pinyin(name, initialsArgs) {
		if len(p) > 0 {
			b.WriteString(strings.ToLower(p[0]))
		}
	}
	return b.String()
}

// phoneTail is the last 4 digits of phone, "" when it has fewer.
func phoneTail(phone string) string {
	if len(phone) < 4 {
		return ""
	}
	return phone[len(phone)-4:]
}

// activityFor reads an activity as the scanner (privacy decides which
// activities exist for it); a kiosk uses only its own venue's.
func (s *Service) activityFor(ctx context.Context, who scanner, activityID int) (*ent.Activity, error) {
	a, err := s.client.Activity.Query().Where(activity.ID(activityID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if err != nil {
		return nil, err
	}
	if who.kioskID != 0 && (a.VenueID == nil || *a.VenueID != who.venueID) {
		return nil, apperr.New(apperr.Forbidden, "this activity is not at this kiosk's venue")
	}
	return a, nil
}
