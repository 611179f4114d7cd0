package authz

import (
	"context"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	lent "linli/ent"
	"linli/ent/activity"
	"linli/ent/hook"
	"linli/viewer"
)

// ActivityVisible is the one predicate that says which activities of the
// viewer's community a non-staff viewer may see: those ever published
// (published_at set, whatever their status now), and, for team leaders,
// every activity of the teams they lead. A nil result means no narrowing
// (staff). Rows whose meaning reveals an activity (slots, a kiosk's
// registrations) follow it through HasEdgeWith("activity", …).
func ActivityVisible(v *viewer.Viewer) entql.P {
	if v.IsStaff() {
		return nil
	}
	published := entql.FieldNotNil(activity.FieldPublishedAt)
	if v.LeadsTeams() {
		return entql.Or(published, ledTeams(v, activity.FieldTeamID))
	}
	return published
}

// ofVisibleActivity narrows rows with an "activity" edge to those whose
// activity v may see; nil when v sees every activity of the community.
func ofVisibleActivity(v *viewer.Viewer) entql.P {
	if p := ActivityVisible(v); p != nil {
		return entql.HasEdgeWith("activity", p)
	}
	return nil
}

// MarkPublished stamps published_at on every write that publishes an
// activity, so the read rule (ActivityVisible) cannot miss a path: an
// activity created PUBLISHED or COMPLETED (demo data, fixtures, benchmarks),
// moved to PUBLISHED (only drafts are published), or moved to COMPLETED one
// row at a time without a stamp. An activity created or moved straight to
// CANCELLED gets none: what nobody saw published stays hidden, and so does
// a draft completed by a bulk update (it fails closed). published_at is
// never cleared.
func MarkPublished() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.ActivityFunc(func(ctx context.Context, m *lent.ActivityMutation) (ent.Value, error) {
			st, set := m.Status()
			_, stamped := m.PublishedAt()
			if !set || stamped {
				return next.Mutate(ctx, m)
			}
			stamp := false
			switch {
			case st == activity.StatusPUBLISHED:
				stamp = true
			case st != activity.StatusCOMPLETED:
			case m.Op().Is(ent.OpCreate):
				stamp = true
			case m.Op().Is(ent.OpUpdateOne):
				old, err := m.OldPublishedAt(ctx)
				if err != nil {
					return nil, err
				}
				stamp = old == nil
			}
			if stamp {
				m.SetPublishedAt(time.Now().UTC())
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)
}
