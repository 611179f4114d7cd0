package authz

// Who may act on seats. The ledger reads and writes its few guarded rows as
// the system, so the decisions Ent privacy would make are made here, once,
// from the rows it locked.

import (
	"linli/apperr"
	"linli/ent"
	"linli/viewer"
)

// ActivityVisibleTo is ActivityVisible for one activity already read: staff
// see every activity of their community, others those ever published, team
// leaders also their teams' ones.
func ActivityVisibleTo(v *viewer.Viewer, a *ent.Activity) bool {
	if v.IsAdmin() || v.IsStaffOf(a.CommunityID) {
		return true
	}
	return v != nil && v.CommunityID == a.CommunityID && (a.PublishedAt != nil || v.Leads(a.TeamID))
}

// SignUp decides whether v may sign up for a slot of a: a person (not a
// kiosk) of its community who may see the activity. A slot the viewer may
// not see is NOT_FOUND, so a refusal tells nothing about it.
func SignUp(v *viewer.Viewer, a *ent.Activity) error {
	if err := SignUpCaller(v); err != nil {
		return err
	}
	switch {
	case v.CommunityID != a.CommunityID && v.IsAdmin():
		return apperr.New(apperr.Forbidden, "people sign up only in their own community")
	case v.CommunityID != a.CommunityID || !ActivityVisibleTo(v, a):
		return apperr.New(apperr.NotFound, "no such slot")
	}
	return nil
}

// SignUpCaller refuses a viewer who can never sign up, before anything is
// read.
func SignUpCaller(v *viewer.Viewer) error {
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "sign in to sign up")
	case v.PersonID == 0 || v.IsKiosk():
		return apperr.New(apperr.Forbidden, "only a person can sign up")
	}
	return nil
}

// CancelRegistration lets the person who signed up (not through a kiosk)
// and staff of its community cancel a registration.
func CancelRegistration(v *viewer.Viewer, r *ent.Registration) error {
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "sign in to cancel")
	}
	if !OwnsRegistration(v, r) && !v.IsStaffOf(r.CommunityID) {
		return apperr.New(apperr.Forbidden, "only the person or staff may cancel this registration")
	}
	return nil
}

// OwnsRegistration reports whether v is the person of r, acting as
// themselves (a kiosk never is).
func OwnsRegistration(v *viewer.Viewer, r *ent.Registration) bool {
	return v != nil && !v.IsKiosk() && r.PersonID == v.PersonID
}

// DecideRegistration lets staff of the registration's community approve or
// reject it.
func DecideRegistration(v *viewer.Viewer, r *ent.Registration) error {
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if !v.IsStaffOf(r.CommunityID) {
		return apperr.New(apperr.Forbidden, "only staff of the community may do this")
	}
	return nil
}

// SetCapacity lets staff of the activity's community and the leaders of
// its team change a slot's capacity.
func SetCapacity(v *viewer.Viewer, a *ent.Activity) error {
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if !v.IsStaffOf(a.CommunityID) && !v.CanOrganize(a.CommunityID, a.TeamID) {
		return apperr.New(apperr.Forbidden, "only staff of the community and the leaders of the activity's team may change capacity")
	}
	return nil
}

// ListRegistrations lets staff of the activity's community list its
// registrations.
func ListRegistrations(v *viewer.Viewer, a *ent.Activity) error {
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if !v.IsStaffOf(a.CommunityID) {
		return apperr.New(apperr.Forbidden, "only staff of the community may list its registrations")
	}
	return nil
}

// SeesCheckInCode reports whether v may see and change r's check-in code:
// its owner, or staff of its community (never a kiosk).
func SeesCheckInCode(v *viewer.Viewer, r *ent.Registration) bool {
	return v != nil && !v.IsKiosk() && (r.PersonID == v.PersonID || v.IsStaffOf(r.CommunityID))
}

// AnswerOffer lets the person offered a seat (not through a kiosk) and
// staff of its community accept or decline the offer.
func AnswerOffer(v *viewer.Viewer, r *ent.Registration) error {
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if !OwnsRegistration(v, r) && !v.IsStaffOf(r.CommunityID) {
		return apperr.New(apperr.Forbidden, "only the person or staff may answer this offer")
	}
	return nil
}
