package entlog

import (
	"context"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/readlog"
	"linli/viewer"
)

// HealthSignups is the Registration interceptor that notes every health
// sign-up (a registration on an activity of the HEALTH service type,
// ledger.HealthData) read by someone other than the person who signed up.
// Every path to a registration — lists, edges, node(id:), the check-in
// list, the live feeds — is a Registration query, so none skips it; reads
// the system makes for its own work are not noted (a path that reads as the
// system on a viewer's behalf notes its reads itself, as the sign-in sheet
// export does). Reads are noted through w (not the context's writer), so
// rows loaded outside a request (the live broker's feeds) are noted too.
func HealthSignups(w *readlog.Writer, client *ent.Client) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			value, err := next.Query(ctx, q)
			if err != nil {
				return value, err
			}
			regs, ok := value.([]*ent.Registration)
			v := viewer.FromContext(ctx)
			// Only organisers (staff, team leaders) and admins read others'
			// registrations (authz.Registrations); a resident's own list
			// costs no second query.
			if !ok || len(regs) == 0 || v == nil || v.IsSystem() || v.PersonID == 0 || !v.IsOrganizer() && !v.IsAdmin() {
				return value, nil
			}
			if err := noteHealth(ctx, w, client, v, regs); err != nil {
				return nil, err
			}
			return value, nil
		})
	})
}

// noteHealth notes which of regs are others' health sign-ups. A GraphQL
// list loads only the columns it selects (no activity_id unless asked), so
// one small query by primary key decides, on its own connection (an
// activity's service type is not what a transaction reading registrations
// changes), as the system (this interceptor skips the system's reads).
func noteHealth(ctx context.Context, w *readlog.Writer, client *ent.Client, v *viewer.Viewer, regs []*ent.Registration) error {
	ids := make([]int, len(regs))
	for i, r := range regs {
		ids[i] = r.ID
	}
	health, err := client.Registration.Query().Where(registration.IDIn(ids...), registration.PersonIDNEQ(v.PersonID),
		registration.HasActivityWith(activity.ServiceTypeEQ(activity.ServiceTypeHEALTH))).
		Select(registration.FieldID, registration.FieldCommunityID).All(viewer.System(ctx))
	if err != nil {
		return err
	}
	for _, r := range health {
		w.Note(ctx, r.CommunityID, readlog.HealthSignup, readlog.Registration, r.ID)
	}
	return nil
}

// NoteHealthSignups notes regs (read as the system) as read by the viewer
// of ctx: for paths that read registrations as the system on a viewer's
// behalf (the sign-in sheet export).
func NoteHealthSignups(ctx context.Context, w *readlog.Writer, client *ent.Client, regs []*ent.Registration) error {
	v := viewer.FromContext(ctx)
	if w == nil || len(regs) == 0 || v == nil || v.IsSystem() || v.PersonID == 0 {
		return nil
	}
	return noteHealth(ctx, w, client, v, regs)
}
