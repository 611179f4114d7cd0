package requests

import (
	"context"

	"linli/ent"
	"linli/ent/notification"
	"linli/ent/request"
	"linli/notify"
)

// notifyTransition tells, in tx, the submitter of r that it reached
// status to, and the new assignee (or the team's leaders) of an
// assignment; actorID, who made the transition, is not told.
func notifyTransition(ctx context.Context, tx *ent.Tx, r *ent.Request, action Action, to request.Status, actorID int) error {
	evs := []notify.Event{{Kind: notification.KindREQUEST_UPDATED, CommunityID: r.CommunityID, RequestID: r.ID,
		Note: string(to), ActorID: actorID}}
	if action == Assign {
		evs = append(evs, notify.Event{Kind: notification.KindREQUEST_ASSIGNED, CommunityID: r.CommunityID,
			RequestID: r.ID, ActorID: actorID})
	}
	return notify.Emit(ctx, tx, evs...)
}
