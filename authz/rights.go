package authz

import (
	"slices"

	"linli/viewer"
)

// The rules of residents' rights (package rights). A person acts on their
// own data; staff of a person's community act for them (a deletion on a
// written request, a guardian's or a household head's consent on paper).
// Anything else is answered as if the person did not exist (NOT_FOUND, by
// the caller), so the rules tell nobody who lives where.

// OwnData decides who may read, export, correct or delete their own data:
// a signed-in person (not a kiosk, not the anonymous).
func OwnData(v *viewer.Viewer) error {
	switch {
	case v == nil:
		return ErrUnauthenticated
	case v.IsKiosk() || v.PersonID == 0:
		return ErrForbidden
	}
	return nil
}

// ActForPerson decides who may delete a person, or record or withdraw a
// consent for them: coordinators of the person's community and platform
// admins; only an admin acts for an admin (a coordinator cannot remove the
// platform's operators).
func ActForPerson(v *viewer.Viewer, communityID int, roles []string) error {
	switch {
	case v == nil:
		return ErrUnauthenticated
	case v.IsKiosk():
		return ErrForbidden
	case !v.IsStaffOf(communityID):
		return ErrForbidden
	case slices.Contains(roles, string(viewer.Admin)) && !v.IsAdmin():
		return ErrForbidden
	}
	return nil
}

// Consents decides who may list a community's consents: its coordinators
// and platform admins.
func Consents(v *viewer.Viewer, communityID int) error { return Statistics(v, communityID) }
