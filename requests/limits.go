package requests

import (
	"context"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/request"
)

// Submissions a person makes for themselves (channel APP) are bounded, per
// person and per community: a burst, then a few an hour. Staff entering
// what came by phone, at the counter or on a visit (any other channel) are
// not: that is their job, and each such request is someone's.
//
// The bound counts the requests in the database inside the submission's
// transaction, which already takes a community's submissions in turn (the
// community row's lock on PostgreSQL, the one writer on SQLite): exact
// across replicas and restarts, with nothing kept in memory, where an
// in-memory limiter would allow as many per hour as there are replicas and
// forget on restart.
const (
	// PersonBurst requests per person in any 10 minutes, PersonPerHour in
	// any hour, PersonPerDay in any 24 hours.
	PersonBurst   = 5
	PersonPerHour = 8
	PersonPerDay  = 20
	// CommunityPerHour self-submitted requests per community in any hour
	// (a community of 2,300 receives a few hundred a year).
	CommunityPerHour = 100
)

// submissionWindows are the person's bounds, shortest first.
var submissionWindows = []struct {
	window time.Duration
	max    int
}{{10 * time.Minute, PersonBurst}, {time.Hour, PersonPerHour}, {24 * time.Hour, PersonPerDay}}

// checkSubmissionRate refuses a self-submission past the bounds with
// RATE_LIMITED; run inside the submission's transaction.
func checkSubmissionRate(ctx context.Context, tx *ent.Tx, communityID, personID int, channel request.Channel, now time.Time) error {
	if channel != request.ChannelAPP {
		return nil
	}
	for _, w := range submissionWindows {
		n, err := tx.Request.Query().Where(request.CreatedByID(personID), request.ChannelEQ(request.ChannelAPP),
			request.CreatedAtGT(now.Add(-w.window))).Count(ctx)
		if err != nil {
			return err
		}
		if n >= w.max {
			return apperr.New(apperr.RateLimited, "at most %d requests in %s: please wait, or call the community office", w.max, w.window)
		}
	}
	n, err := tx.Request.Query().Where(request.CommunityID(communityID), request.ChannelEQ(request.ChannelAPP),
		request.CreatedAtGT(now.Add(-time.Hour))).Count(ctx)
	if err != nil {
		return err
	}
	if n >= CommunityPerHour {
		return apperr.New(apperr.RateLimited, "the community receives many requests just now: please try again later, or call the community office")
	}
	return nil
}
