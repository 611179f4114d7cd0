package notify

import (
	"context"
	"fmt"
	"time"

	"linli/ent"
	"linli/ent/notification"
	"linli/ent/request"
	"linli/jobs"
	"linli/store"
	"linli/viewer"
)

// followUpBatch bounds one follow-up sweep.
const followUpBatch = 500

// FollowUpSource is the dedupe key of a request's follow-up: one per
// resolution (a reopened and again resolved request is asked again).
func FollowUpSource(requestID int, resolvedAt time.Time) string {
	return fmt.Sprintf("followup:%d:%d", requestID, resolvedAt.Unix())
}

// sweepFollowUps is the KindFollowUpSweep handler: submitters of requests
// resolved more than FollowUpAfter ago and still unconfirmed (RESOLVED)
// are asked how it went (回访), once per resolution.
func (s *Service) sweepFollowUps(ctx context.Context, c *jobs.Claimed) error {
	sys := viewer.System(ctx)
	now := time.Now().UTC()
	reqs, err := s.client.Request.Query().
		Where(request.StatusEQ(request.StatusRESOLVED), request.SubmitterIDNotNil(),
			request.ResolvedAtLTE(now.Add(-s.o.FollowUpAfter)),
			// a week's window: older ones were asked (or predate the feature)
			request.ResolvedAtGT(now.Add(-s.o.FollowUpAfter-7*24*time.Hour))).
		Order(ent.Asc(request.FieldResolvedAt)).Limit(followUpBatch).All(sys)
	if err != nil {
		return err
	}
	var people []int
	for _, r := range reqs {
		people = append(people, *r.SubmitterID)
	}
	prefs, quiet, err := s.prefsOf(sys, people)
	if err != nil {
		return err
	}
	var items []item
	for _, r := range reqs {
		p := *r.SubmitterID
		pr, ok := prefs[p]
		if !ok || pr.Muted(notification.KindREQUEST_FOLLOW_UP) {
			continue
		}
		title, body := text(notification.KindREQUEST_FOLLOW_UP, nil, r, "")
		items = append(items, item{community: r.CommunityID, person: p, kind: notification.KindREQUEST_FOLLOW_UP,
			title: title, body: body, request: nonZero(r.ID), source: FollowUpSource(r.ID, *r.ResolvedAt),
			prefs: pr, quiet: quiet[p]})
	}
	var made []*ent.Notification
	err = store.InTx(sys, s.client, store.TxOptions{Lock: s.db.Writers()}, func(tx *ent.Tx) error {
		var err error
		if made, err = s.write(sys, tx, items, now); err != nil {
			return err
		}
		return c.CompleteIn(sys, tx)
	})
	if err != nil {
		return err
	}
	s.announce(made)
	return nil
}
