// Package mask hides personal data from those who may not see it in full:
// only the person and staff of their community see phone numbers (and other
// personal fields) unmasked; everyone else sees 138****1234.
package mask

import (
	"context"
	"strings"
	"unicode/utf8"

	"linli/readlog"
	"linli/viewer"
)

// CanSeePersonal reports whether the viewer of ctx may see the personal data
// of person personID in community communityID.
func CanSeePersonal(ctx context.Context, communityID, personID int) bool {
	v := viewer.FromContext(ctx)
	if v == nil {
		return false
	}
	if v.IsKiosk() {
		return false
	}
	return (v.PersonID != 0 && v.PersonID == personID) || v.IsStaffOf(communityID)
}

// Phone returns phone in full or masked, depending on the viewer. This is
// where a person's phone is unmasked on every path (GraphQL, exports), so a
// full phone read by anyone but its owner is noted here in the
// sensitive-read log (readlog).
func Phone(ctx context.Context, communityID, personID int, phone string) string {
	if CanSeePersonal(ctx, communityID, personID) {
		if phone != "" {
			readlog.Note(ctx, communityID, readlog.Phone, readlog.Person, personID)
		}
		return phone
	}
	return PhoneMasked(phone)
}

// PhoneMasked shows as little of a phone number as still lets its owner
// recognise it: a mobile number of 11 or more characters keeps its first
// three and last four (138****1234); a shorter one (a landline, an extension)
// keeps at most a third of its characters, split between its ends
// (12345678 → 1******8), because three plus four of eight would leave one
// digit to guess.
func PhoneMasked(phone string) string {
	n := len(phone)
	head, tail := 3, 4
	if n < 11 {
		visible := n / 3
		head, tail = visible/2, visible-visible/2
	}
	return phone[:head] + strings.Repeat("*", n-head-tail) + phone[n-tail:]
}

// Name masks a display name for kiosks: the first character, then *.
func Name(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "*"
	}
	rest := utf8.RuneCountInString(name[size:])
	if rest == 0 {
		return name
	}
	return string(r) + strings.Repeat("*", min(rest, 2))
}

// Roles returns a person's roles to those who may see their personal data
// and none to anyone else: which residents hold which role is part of the
// community's directory, which only its staff read (PIPL art. 6). What a
// team shows (who leads it) comes from its memberships, not from roles.
func Roles(ctx context.Context, communityID, personID int, roles []string) []string {
	if CanSeePersonal(ctx, communityID, personID) {
		return roles
	}
	return nil
}
