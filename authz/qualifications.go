package authz

// Who reads and writes qualifications and reliability figures. A person's
// qualifications and no-shows are personal data: the person themselves
// and staff of their community, nobody else (PIPL art. 6).

import (
	"entgo.io/ent"
	"entgo.io/ent/entql"

	"linli/apperr"
	"linli/ent/privacy"
	"linli/viewer"
)

// Qualifications are read by their holder and by staff of their
// community; staff write them (package qualify adds the audit).
func Qualifications() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			if v.IsStaff() {
				return nil
			}
			return entql.FieldEQ("person_id", v.PersonID)
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// ManageQualifications lets staff of community cid keep its qualification
// kinds and enter, renew and remove its people's qualifications, see the
// expiring ones and the no-show figures (at-risk lists).
func ManageQualifications(v *viewer.Viewer, cid int) error {
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "sign in first")
	case v.IsStaff() && v.CommunityID != cid && !v.IsAdmin():
		return apperr.New(apperr.NotFound, "no such community")
	case !v.IsStaffOf(cid):
		return apperr.New(apperr.Forbidden, "only staff of the community may do this")
	}
	return nil
}

// SignUpTeam lets a leader of team teamID (not a kiosk) sign its members
// up and remove them; staff of the community may too.
func SignUpTeam(v *viewer.Viewer, communityID, teamID int) error {
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "sign in first")
	case v.IsKiosk() || v.PersonID == 0:
		return apperr.New(apperr.Forbidden, "only a person can sign a team up")
	case v.CommunityID != communityID && !v.IsAdmin():
		return apperr.New(apperr.NotFound, "no such team")
	case !v.Leads(&teamID) && !v.IsStaffOf(communityID):
		return apperr.New(apperr.Forbidden, "only the team's leaders may sign its members up")
	}
	return nil
}
