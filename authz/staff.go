package authz

import (
	"context"

	"linli/apperr"
	"linli/viewer"
)

// RequireStaff is the viewer of ctx when it is staff of its community (a
// coordinator or an admin): the check services make before work that only
// staff do (registering kiosks, undoing a scan, correcting a service
// record), so the caller gets a coded error instead of a privacy denial
// from the first write.
func RequireStaff(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !v.IsStaff() {
		return nil, apperr.New(apperr.Forbidden, "only coordinators may do this")
	}
	return v, nil
}

// RequireStaffOf is RequireStaff for work on community cid's data: staff
// of cid (or an admin), else FORBIDDEN with message.
func RequireStaffOf(ctx context.Context, cid int, message string) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !v.IsStaffOf(cid) {
		return apperr.New(apperr.Forbidden, "%s", message)
	}
	return nil
}
