package authz

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	"linli/apperr"
	"linli/ent/privacy"
	"linli/viewer"
)

// StaffRead is the rule of community rows only staff may see at all
// (webhooks, their deliveries, the delivery log of notification channels):
// staff of the row's community read them (admins: all), nobody else learns
// that a row exists; staff of the community write them.
func StaffRead() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{narrowedFilter(func(v *viewer.Viewer) (entql.P, error) {
			if !v.IsStaff() {
				return nil, ErrForbidden
			}
			return nil, nil
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// RequireStaffOfCommunity is the community staff act on: cid when given
// (staff of it, or an admin; staff of another community are refused as
// NOT_FOUND, so other communities' settings do not leak), else the viewer's
// own. Webhooks and the channel delivery log are asked for this way.
func RequireStaffOfCommunity(ctx context.Context, cid *int) (int, error) {
	v, err := RequireStaff(ctx)
	if err != nil {
		return 0, err
	}
	if cid == nil {
		if v.CommunityID == 0 {
			return 0, apperr.Invalid("communityID", "name the community")
		}
		return v.CommunityID, nil
	}
	if !v.IsStaffOf(*cid) {
		return 0, apperr.New(apperr.NotFound, "no such community")
	}
	return *cid, nil
}

// CalendarFeedOf decides who may hold a calendar feed: everyone signed in
// (not a kiosk) their own; staff of the community a feed of one of its
// teams or venues, and a team's leaders a feed of their team.
func CalendarFeedOf(v *viewer.Viewer, communityID int, teamID, venueID *int) error {
	switch {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk() || v.PersonID == 0:
		return apperr.New(apperr.Forbidden, "only people have calendar feeds")
	case teamID == nil && venueID == nil:
		return nil
	case v.IsStaffOf(communityID):
		return nil
	case teamID != nil && v.CommunityID == communityID && v.Leads(teamID):
		return nil
	}
	return apperr.New(apperr.Forbidden, "only staff (or the team's leaders) hold a team's or venue's feed")
}
