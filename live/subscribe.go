package live

import (
	"context"

	"linli/apperr"
	"linli/ent"
	"linli/viewer"
)

// ActivityCounts subscribes the viewer to an activity's counts: first the
// current snapshot, then every newer one. The activity must be visible to
// the viewer (their community's, or any for admins).
func (b *Broker) ActivityCounts(ctx context.Context, activityID int) (<-chan *ActivityCounts, error) {
	if _, err := b.authorizeCounts(ctx, activityID); err != nil {
		return nil, err
	}
	return b.subscribeCounts(ctx, activityID)
}

// authorizeCounts loads the activity as the viewer: privacy rules decide
// what they may see, and what they may not does not exist for them.
func (b *Broker) authorizeCounts(ctx context.Context, activityID int) (*ent.Activity, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	a, err := b.client.Activity.Get(ctx, activityID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "activity not found")
	}
	return a, err
}

// ActivityFeed subscribes the viewer to the activity changes of a community:
// their own, or any for platform admins. Each change reaches a subscriber
// only if they may read the activity (drafts: staff and the team's leaders).
func (b *Broker) ActivityFeed(ctx context.Context, communityID int) (<-chan *ActivityEvent, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if !v.IsAdmin() && v.CommunityID != communityID {
		return nil, apperr.New(apperr.Forbidden, "not a member of this community")
	}
	return b.subscribeFeed(ctx, communityID, v)
}

// MyRegistrationUpdates subscribes the viewer to changes of their own
// registrations.
func (b *Broker) MyRegistrationUpdates(ctx context.Context) (<-chan *RegistrationEvent, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.PersonID == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	return b.subscribeRegistrations(ctx, v.PersonID)
}
