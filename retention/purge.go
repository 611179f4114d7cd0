package retention

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"linli/audit"
	"linli/ent"
	"linli/ent/checkinscan"
	"linli/ent/community"
	"linli/ent/homevisit"
	"linli/ent/household"
	"linli/ent/notification"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/ent/sensitiveread"
	"linli/viewer"
)

// Cleared is what a request's title becomes once its free text is past
// retention (a title may not be empty); its number still names it.
const Cleared = "（已按保存期限清除）"

// Report counts what one purge did.
type Report struct {
	Communities int
	// Scans deleted, requests whose free text was cleared (with their
	// history notes), households whose care tags were cleared, sensitive
	// reads and notifications deleted.
	Scans, Requests, RequestNotes, CareTags, Reads, Notifications int
}

func (r Report) add(o Report) Report {
	r.Communities += o.Communities
	r.Scans += o.Scans
	r.Requests += o.Requests
	r.RequestNotes += o.RequestNotes
	r.CareTags += o.CareTags
	r.Reads += o.Reads
	r.Notifications += o.Notifications
	return r
}

func (r Report) empty() bool { return r.add(Report{}) == Report{Communities: r.Communities} }

func (r Report) String() string {
	return fmt.Sprintf("scans %d, requests %d (notes %d), care tags %d, sensitive reads %d, notifications %d",
		r.Scans, r.Requests, r.RequestNotes, r.CareTags, r.Reads, r.Notifications)
}

// Purge removes or anonymises, in every community, what is past its
// retention at now, as the system. It is idempotent (a second run at the
// same now finds nothing) and each community's purge is audited
// (retention.purge, with the counts) when it did anything.
func Purge(ctx context.Context, client *ent.Client, now time.Time) (Report, error) {
	ctx = viewer.System(ctx)
	ids, err := client.Community.Query().Order(ent.Asc(community.FieldID)).IDs(ctx)
	if err != nil {
		return Report{}, err
	}
	var total Report
	for _, cid := range ids {
		rep, err := purgeCommunity(ctx, client, cid, now)
		if err != nil {
			return total, fmt.Errorf("retention purge of community %d: %w", cid, err)
		}
		total = total.add(rep)
	}
	return total, nil
}

func purgeCommunity(ctx context.Context, client *ent.Client, cid int, now time.Time) (Report, error) {
	p, err := For(ctx, client, cid)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Communities: 1}
	tx, err := client.Tx(ctx)
	if err != nil {
		return rep, err
	}
	defer func() { _ = tx.Rollback() }()

	// Check-in scans: the registration keeps its check-in and check-out
	// times, which is what statistics and hours read.
	if rep.Scans, err = tx.CheckInScan.Delete().Where(checkinscan.CommunityID(cid),
		checkinscan.RecordedAtLT(now.Add(-days(p.ScanDays)))).Exec(ctx); err != nil {
		return rep, err
	}

	// Requests closed (or rejected) before the cutoff: free text cleared,
	// every figure (kind, status, outcome, rating, times) kept.
	cut := now.Add(-days(p.RequestTextDays))
	reqIDs, err := tx.Request.Query().Where(request.CommunityID(cid), request.StatusIn(request.StatusCLOSED, request.StatusREJECTED),
		request.Or(request.ClosedAtLT(cut), request.And(request.ClosedAtIsNil(), request.UpdatedAtLT(cut))),
		request.Or(request.TitleNEQ(Cleared), request.DescriptionNEQ(""), request.And(request.ResolutionNotNil(), request.ResolutionNEQ("")))).IDs(ctx)
	if err != nil {
		return rep, err
	}
	for chunk := range chunks(reqIDs, 500) {
		n, err := tx.Request.Update().Where(request.IDIn(chunk...)).SetTitle(Cleared).SetDescription("").
			ClearResolution().Save(ctx)
		if err != nil {
			return rep, err
		}
		rep.Requests += n
		// History notes are immutable to the API; only the purge clears them.
		m, err := tx.RequestEvent.Update().Where(requestevent.RequestIDIn(chunk...), requestevent.NoteNEQ("")).
			Modify(func(u *sql.UpdateBuilder) { u.Set(requestevent.FieldNote, "") }).Save(ctx)
		if err != nil {
			return rep, err
		}
		rep.RequestNotes += m
	}

	// Care tags of households neither visited nor changed since the cutoff.
	cut = now.Add(-days(p.CareTagDays))
	hs, err := tx.Household.Query().Where(household.CommunityID(cid), household.UpdatedAtLT(cut),
		household.Not(household.HasVisitsWith(homevisit.VisitedAtGTE(cut)))).
		Select(household.FieldID, household.FieldCareTags).All(ctx)
	if err != nil {
		return rep, err
	}
	var tagged []int
	for _, h := range hs {
		if len(h.CareTags) > 0 {
			tagged = append(tagged, h.ID)
		}
	}
	for chunk := range chunks(tagged, 500) {
		n, err := tx.Household.Update().Where(household.IDIn(chunk...)).ClearCareTags().Save(ctx)
		if err != nil {
			return rep, err
		}
		rep.CareTags += n
	}

	// The sensitive-read log.
	if rep.Reads, err = tx.SensitiveRead.Delete().Where(sensitiveread.CommunityID(cid),
		sensitiveread.AtLT(now.Add(-days(p.ReadLogDays)))).Exec(ctx); err != nil {
		return rep, err
	}

	// Notifications.
	if rep.Notifications, err = tx.Notification.Delete().Where(notification.CommunityID(cid),
		notification.CreatedAtLT(now.Add(-days(p.NotificationDays)))).Exec(ctx); err != nil {
		return rep, err
	}

	if !rep.empty() {
		if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionPurge,
			Subject: fmt.Sprintf("Community:%d", cid), SubjectID: &cid,
			Detail: fmt.Sprintf("at %s (%s): %s", now.UTC().Format(time.RFC3339), p, rep)}); err != nil {
			return rep, err
		}
	}
	return rep, tx.Commit()
}

func chunks(ids []int, n int) func(yield func([]int) bool) {
	return func(yield func([]int) bool) {
		for len(ids) > 0 {
			k := min(n, len(ids))
			if !yield(ids[:k]) {
				return
			}
			ids = ids[k:]
		}
	}
}
