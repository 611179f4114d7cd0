package store_test

import (
	"context"
	"testing"
	"time"

	"linli/ent/activity"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

// A database from before Activity.published_at gets it on open: PUBLISHED
// and COMPLETED activities, and CANCELLED ones somebody signed up for,
// count as published at their creation; drafts and CANCELLED activities
// without sign-ups (they may never have been published) stay unpublished,
// so residents no longer see them.
func TestPublishedAtBackfill(t *testing.T) {
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(viewer.System(context.Background()), 60*time.Second)
			defer cancel()
			url := linlitest.DatabaseURL(t, backend)
			db, err := store.Open(ctx, url, store.Options{MaxOpenConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			c := db.Client
			com := must(c.Community.Create().SetName("前进社区").Save(ctx))
			p := must(c.Person.Create().SetCommunityID(com.ID).SetDisplayName("居民").SetPhone("13900000001").
				SetPasswordHash("").SetRoles([]string{"RESIDENT"}).Save(ctx))
			start := time.Now().UTC().Add(time.Hour)
			mk := func(st activity.Status, signedUp bool) int {
				a := must(c.Activity.Create().SetCommunityID(com.ID).SetTitle(string(st)).SetCategory(activity.CategoryHALL).
					SetServiceType(activity.ServiceTypeCULTURE).SetStatus(st).SetStartsAt(start).SetEndsAt(start.Add(time.Hour)).Save(ctx))
				if signedUp {
					sl := must(c.Slot.Create().SetCommunityID(com.ID).SetActivityID(a.ID).SetName("座位").SetCapacity(5).Save(ctx))
					must(c.Registration.Create().SetCommunityID(com.ID).SetActivityID(a.ID).SetSlotID(sl.ID).SetPersonID(p.ID).
						SetStatus("CANCELLED").SetCheckInCode("code-" + string(st)).Save(ctx))
				}
				return a.ID
			}
			want := map[int]bool{
				mk(activity.StatusPUBLISHED, false): true,
				mk(activity.StatusCOMPLETED, false): true,
				mk(activity.StatusCANCELLED, true):  true,
				mk(activity.StatusCANCELLED, false): false,
				mk(activity.StatusDRAFT, false):     false,
			}
			// Back to the old schema: no column.
			if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE activities DROP COLUMN published_at`); err != nil {
				t.Fatal(err)
			}
			db.Close()

			for round := range 2 { // the second open finds nothing to do
				db, err = store.Open(ctx, url, store.Options{MaxOpenConns: 4})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range must(db.Client.Activity.Query().All(ctx)) {
					published := a.PublishedAt != nil
					if published != want[a.ID] {
						t.Errorf("round %d: %s activity %d published=%v, want %v", round, a.Title, a.ID, published, want[a.ID])
					}
					if published && !a.PublishedAt.Equal(a.CreatedAt) {
						t.Errorf("round %d: %s published_at %v, want its creation %v", round, a.Title, a.PublishedAt, a.CreatedAt)
					}
				}
				db.Close()
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
