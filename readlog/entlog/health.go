package entlog

import (
	"context"

	"linli/ent"
	"linli/ent/activity"
	"linli/readlog"
	"linli/viewer"
)

// HealthSignups is the Registration interceptor that notes every health
// sign-up (a registration on an activity of the HEALTH service type,
// ledger.HealthData) read by someone other than the person who signed up.
// Every path to a registration — lists, edges, node(id:), exports, the
// check-in list — is a Registration query, so none skips it; reads the
// system makes for its own work are not noted. Reads are noted through w
// (not the context's writer), so rows loaded outside a request (the live
// broker's feeds) are noted too.
func HealthSignups(w *readlog.Writer, client *ent.Client) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			value, err := next.Query(ctx, q)
			if err != nil {
				return value, err
			}
			regs, ok := value.([]*ent.Registration)
			v := viewer.FromContext(ctx)
			if !ok || len(regs) == 0 || v == nil || v.IsSystem() || v.PersonID == 0 {
				return value, nil
			}
			activities := map[int]struct{}{}
			for _, r := range regs {
				if r.PersonID != v.PersonID {
					activities[r.ActivityID] = struct{}{}
				}
			}
			if len(activities) == 0 {
				return value, nil
			}
			ids := make([]int, 0, len(activities))
			for id := range activities {
				ids = append(ids, id)
			}
			// One small query for the list, by primary key (on its own
			// connection: an activity's service type is not what a
			// transaction reading registrations changes).
			health, err := client.Activity.Query().
				Where(activity.IDIn(ids...), activity.ServiceTypeEQ(activity.ServiceTypeHEALTH)).IDs(viewer.System(ctx))
			if err != nil {
				return nil, err
			}
			if len(health) == 0 {
				return value, nil
			}
			isHealth := make(map[int]bool, len(health))
			for _, id := range health {
				isHealth[id] = true
			}
			for _, r := range regs {
				if r.PersonID != v.PersonID && isHealth[r.ActivityID] {
					w.Note(ctx, r.CommunityID, readlog.HealthSignup, readlog.Registration, r.ID)
				}
			}
			return value, nil
		})
	})
}
