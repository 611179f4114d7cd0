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
	return Require(ctx, (*viewer.Viewer).IsStaff, "only coordinators may do this")
}

// Require is the signed-in viewer of ctx when may admits them: nobody
// signed in is UNAUTHENTICATED, someone may does not admit FORBIDDEN with
// refusal. Services check this before work only some may do, so the caller
// gets a coded error rather than a privacy denial from the first write.
func Require(ctx context.Context, may func(*viewer.Viewer) bool, refusal string) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !may(v) {
		return nil, apperr.New(apperr.Forbidden, "%s", refusal)
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
