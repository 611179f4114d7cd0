package authz

import (
	"linli/viewer"
)

// Statistics decides who may read the figures of communities: staff of
// each of them, and platform admins for any. Nobody signed in is
// ErrUnauthenticated; anyone else ErrForbidden.
func Statistics(v *viewer.Viewer, communityIDs ...int) error {
	switch {
	case v == nil:
		return ErrUnauthenticated
	case v.IsAdmin():
		return nil
	case len(communityIDs) == 0:
		return ErrForbidden
	}
	for _, id := range communityIDs {
		if !v.IsStaffOf(id) {
			return ErrForbidden
		}
	}
	return nil
}

// AllStatistics decides who may read the figures of every community at
// once (a city's view): platform admins.
func AllStatistics(v *viewer.Viewer) error {
	switch {
	case v == nil:
		return ErrUnauthenticated
	case v.IsAdmin():
		return nil
	}
	return ErrForbidden
}

// Exports decides who may export a community's sheets and ledgers: the
// same people as its statistics.
func Exports(v *viewer.Viewer, communityID int) error { return Statistics(v, communityID) }

// ExportSignInSheet decides who may export an activity's sign-in sheet:
// staff of its community and admins (phones in full), and the leaders of
// its team (phones masked, by package mask).
func ExportSignInSheet(v *viewer.Viewer, communityID int, teamID *int) error {
	switch {
	case v == nil:
		return ErrUnauthenticated
	case v.IsKiosk():
		return ErrForbidden
	case v.CanOrganize(communityID, teamID):
		return nil
	}
	return ErrForbidden
}
