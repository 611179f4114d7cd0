package organize

import (
	"context"

	"linli/ent"
	"linli/notify"
	"linli/viewer"
)

// moved reports whether an update changed what its holders must know:
// the activity's time or place.
func moved(before, after *ent.Activity) bool {
	return !before.StartsAt.Equal(after.StartsAt) || !before.EndsAt.Equal(after.EndsAt) ||
		!samePtr(before.VenueID, after.VenueID)
}

func samePtr(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// movedFrom describes the activity's time and place before a change (for
// the ACTIVITY_CHANGED text).
func movedFrom(ctx context.Context, tx *ent.Tx, before *ent.Activity) string {
	b := *before
	b.Edges.Venue = nil
	if before.VenueID != nil {
		if v, err := tx.Venue.Get(viewer.System(ctx), *before.VenueID); err == nil {
			b.Edges.Venue = v
		}
	}
	return notify.When(&b) + "，" + notify.Where(&b)
}
