// Package retention decides how long a community keeps personal data it no
// longer needs, and purges what is past it (PIPL art. 19: no longer than
// the purpose needs). The purge removes or anonymises only what no
// statistic counts (statistics/statistics.go reads registrations' check-in
// times, requests' status, outcome, kind, rating and times, visits and
// their households' sizes, service records, people and volunteer
// profiles — none of which it deletes or changes), so a community's
// figures for any period are the same before and after.
package retention

import (
	"context"
	"fmt"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/ent"
	"linli/ent/retentionpolicy"
	"linli/viewer"
)

// Audited actions.
const (
	ActionSet   = "retention.set"
	ActionPurge = "retention.purge"
)

// Policy is how many days each kind of data is kept.
type Policy struct {
	// ScanDays keeps check-in scan records (the door's log of every scan,
	// retry and refusal; statistics count the registration's check-in, not
	// its scans) after they were recorded.
	ScanDays int
	// RequestTextDays keeps a request's free text (title, description,
	// resolution, history notes) after the request was closed (confirmed,
	// or rejected) — its figures stay.
	RequestTextDays int
	// CareTagDays keeps a household's care tags after its last visit or
	// change (whichever is later): tags nobody acted on for that long are
	// no longer needed.
	CareTagDays int
	// NotificationDays keeps notifications after they were created.
	NotificationDays int
	// ReadLogDays keeps the sensitive-read log.
	ReadLogDays int
}

// Defaults: see README "Retention" for the reasons.
var Defaults = Policy{ScanDays: 365, RequestTextDays: 3 * 365, CareTagDays: 2 * 365, NotificationDays: 180, ReadLogDays: 365}

// Floors and ceiling a community may choose within: the scans of the
// current reporting year, a year of request text (the annual report and a
// reopened request's history), half a year of care tags (a visiting
// round), a month of notifications, and six months of the read log (the
// log must outlive the reads it accounts for).
var (
	Floors  = Policy{ScanDays: 31, RequestTextDays: 365, CareTagDays: 183, NotificationDays: 30, ReadLogDays: 183}
	MaxDays = 3660
)

// For returns community cid's policy: its choices over the defaults. It
// reads as the caller (staff of the community, admins).
func For(ctx context.Context, c *ent.Client, cid int) (Policy, error) {
	p := Defaults
	row, err := c.RetentionPolicy.Query().Where(retentionpolicy.CommunityID(cid)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return p, nil
	case err != nil:
		return p, err
	}
	return merge(p, row), nil
}

func merge(p Policy, row *ent.RetentionPolicy) Policy {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.ScanDays, row.ScanDays)
	set(&p.RequestTextDays, row.RequestTextDays)
	set(&p.CareTagDays, row.CareTagDays)
	set(&p.NotificationDays, row.NotificationDays)
	set(&p.ReadLogDays, row.ReadLogDays)
	return p
}

// Change is a community's new choices; nil leaves a field as it is, 0
// returns it to the default.
type Change struct {
	ScanDays, RequestTextDays, CareTagDays, NotificationDays, ReadLogDays *int
}

// Validate checks each chosen period against its floor and MaxDays.
func (ch Change) Validate() error {
	for _, f := range []struct {
		name  string
		v     *int
		floor int
	}{
		{"scanDays", ch.ScanDays, Floors.ScanDays},
		{"requestTextDays", ch.RequestTextDays, Floors.RequestTextDays},
		{"careTagDays", ch.CareTagDays, Floors.CareTagDays},
		{"notificationDays", ch.NotificationDays, Floors.NotificationDays},
		{"readLogDays", ch.ReadLogDays, Floors.ReadLogDays},
	} {
		if f.v != nil && *f.v != 0 && (*f.v < f.floor || *f.v > MaxDays) {
			return apperr.Invalid(f.name, "%s must be %d to %d days (0: the default)", f.name, f.floor, MaxDays)
		}
	}
	return nil
}

// Set records community cid's choices (platform admins: authz.RetentionPolicies)
// and returns the policy that now applies. The change is audited
// (retention.set) in its transaction.
func Set(ctx context.Context, c *ent.Client, cid int, ch Change) (Policy, error) {
	if !viewer.FromContext(ctx).IsAdmin() {
		return Policy{}, apperr.New(apperr.Forbidden, "only platform admins set retention")
	}
	if err := ch.Validate(); err != nil {
		return Policy{}, err
	}
	tx, err := c.Tx(ctx)
	if err != nil {
		return Policy{}, err
	}
	defer func() { _ = tx.Rollback() }()
	before, err := For(ctx, tx.Client(), cid)
	if err != nil {
		return Policy{}, err
	}
	id, err := tx.RetentionPolicy.Query().Where(retentionpolicy.CommunityID(cid)).OnlyID(ctx)
	if ent.IsNotFound(err) {
		id, err = tx.RetentionPolicy.Create().SetCommunityID(cid).OnConflictColumns(retentionpolicy.FieldCommunityID).Ignore().ID(ctx)
	}
	if err != nil {
		return Policy{}, err
	}
	u := tx.RetentionPolicy.UpdateOneID(id)
	apply := func(v *int, set func(int) *ent.RetentionPolicyUpdateOne, clear func() *ent.RetentionPolicyUpdateOne) {
		switch {
		case v == nil:
		case *v == 0:
			clear()
		default:
			set(*v)
		}
	}
	apply(ch.ScanDays, u.SetScanDays, u.ClearScanDays)
	apply(ch.RequestTextDays, u.SetRequestTextDays, u.ClearRequestTextDays)
	apply(ch.CareTagDays, u.SetCareTagDays, u.ClearCareTagDays)
	apply(ch.NotificationDays, u.SetNotificationDays, u.ClearNotificationDays)
	apply(ch.ReadLogDays, u.SetReadLogDays, u.ClearReadLogDays)
	row, err := u.Save(ctx)
	if err != nil {
		return Policy{}, err
	}
	after := merge(Defaults, row)
	if before != after {
		if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionSet,
			Subject: fmt.Sprintf("Community:%d", cid), SubjectID: &cid, Detail: before.String() + " → " + after.String()}); err != nil {
			return Policy{}, err
		}
	}
	return after, tx.Commit()
}

func (p Policy) String() string {
	return fmt.Sprintf("scans %dd, request text %dd, care tags %dd, notifications %dd, read log %dd",
		p.ScanDays, p.RequestTextDays, p.CareTagDays, p.NotificationDays, p.ReadLogDays)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// Read returns community cid's policy to its staff and platform admins.
func Read(ctx context.Context, c *ent.Client, cid int) (Policy, error) {
	switch v := viewer.FromContext(ctx); {
	case v == nil:
		return Policy{}, apperr.New(apperr.Unauthenticated, "authentication required")
	case !v.IsStaffOf(cid) && !v.IsAdmin():
		return Policy{}, apperr.New(apperr.Forbidden, "only the community's staff read its retention")
	}
	return For(ctx, c, cid)
}
