package scan

import (
	"context"
	"slices"
	"time"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/checkinscan"
	"linli/viewer"
)

// feedHorizon is how long after its recorded_at a scan may still commit and
// be delivered by a feed; scans commit within milliseconds of it.
const feedHorizon = time.Minute

// feedRecheck re-reads a feed now and then even without a wake-up.
const feedRecheck = 10 * time.Second

// Feed delivers an activity's effective scans (check-ins, check-outs and
// undos, status OK) to staff of its community: from now on, or those
// recorded since since first. Once the viewer
// is authorized it calls follow for a channel that delivers whenever the
// activity may have changed (its live counts, which move with every
// effective scan on any replica) and reads the new scans from
// check_in_scans then, so it never holds a state the database does not.
// The channel closes when ctx ends.
func Feed[T any](ctx context.Context, s *Service, activityID int, since *time.Time, follow func() (<-chan T, error)) (<-chan *ent.CheckInScan, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	// As the viewer: privacy decides which activities exist for it (its
	// community's, that it may see) and which scans it reads.
	a, err := s.client.Activity.Get(ctx, activityID)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such activity")
	}
	if err != nil {
		return nil, err
	}
	if err := authz.RequireStaffOf(ctx, a.CommunityID, "only staff follow check-ins"); err != nil {
		return nil, err
	}
	f := &feed{s: s, activityID: activityID, seen: map[int]time.Time{}}
	start := s.now()
	if since != nil && since.Before(start) {
		start = since.UTC()
	}
	low, err := s.client.CheckInScan.Query().Where(checkinscan.ActivityID(activityID), checkinscan.RecordedAtLT(start)).
		Order(ent.Desc(checkinscan.FieldID)).FirstID(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	f.low = low
	wake, err := follow()
	if err != nil {
		return nil, err
	}
	out := make(chan *ent.CheckInScan, 32)
	go run(ctx, f, wake, out)
	return out, nil
}

// feed is one subscriber's position in an activity's scans. Scans can
// commit out of id order, so it keeps the ids it delivered above low and
// moves low only past scans older than feedHorizon.
type feed struct {
	s          *Service
	activityID int
	low        int
	seen       map[int]time.Time
}

// run delivers the new scans on out whenever wake says the activity may
// have changed (and every feedRecheck), until ctx ends or wake closes.
func run[T any](ctx context.Context, f *feed, wake <-chan T, out chan<- *ent.CheckInScan) {
	defer close(out)
	tick := time.NewTicker(feedRecheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				return
			}
		case <-tick.C:
		}
		scans, err := f.next(ctx)
		if err != nil {
			continue // the next wake-up or tick reads again
		}
		for _, sc := range scans {
			select {
			case out <- sc:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (f *feed) next(ctx context.Context) ([]*ent.CheckInScan, error) {
	scans, err := f.s.client.CheckInScan.Query().
		Where(checkinscan.ActivityID(f.activityID), checkinscan.StatusEQ(OK), checkinscan.IDGT(f.low)).
		Order(ent.Asc(checkinscan.FieldID)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	fresh := scans[:0]
	for _, sc := range scans {
		if _, ok := f.seen[sc.ID]; !ok {
			f.seen[sc.ID] = sc.RecordedAt
			fresh = append(fresh, sc)
		}
	}
	ids := make([]int, 0, len(f.seen))
	for id := range f.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	old := time.Now().Add(-feedHorizon)
	for _, id := range ids {
		if f.seen[id].After(old) {
			break
		}
		f.low = id
		delete(f.seen, id)
	}
	return fresh, nil
}
