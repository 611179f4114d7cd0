// Package mask hides personal data from those who may not see it in full:
// only the person and staff of their community see phone numbers (and other
// personal fields) unmasked; everyone else sees 138****1234.
package mask

import (
	"context"
	"strings"
	"unicode/utf8"

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

// Phone returns phone in full or masked, depending on the viewer.
func Phone(ctx context.Context, communityID, personID int, phone string) string {
	if CanSeePersonal(ctx, communityID, personID) {
		return phone
	}
	return PhoneMasked(phone)
}

// PhoneMasked keeps the first three and last four digits: 138****1234.
func PhoneMasked(phone string) string {
	n := len(phone)
	if n <= 7 {
		return strings.Repeat("*", n)
	}
	return phone[:3] + strings.Repeat("*", n-7) + phone[n-4:]
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
