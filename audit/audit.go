// Package audit writes and reads the audit log: who did what to which row,
// when and from which client address. Entries are append-only (the
// AuditEntry hook authz.AppendOnly refuses every update and deletion).
package audit

import (
	"context"
	"errors"
	"time"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/ent"
	"linli/ent/auditentry"
	"linli/reqlog"
	"linli/viewer"
)

// Entry is what an action records.
type Entry struct {
	CommunityID int
	// Action is dotted: area.verb (export.sign_in_sheet, checkin.undo, …).
	Action string
	// Subject names the row or set acted on (Activity:12, requests 2026-01-01..2027-01-01).
	Subject   string
	SubjectID *int
	Detail    string
	// ActorID names who acted when ctx no longer carries them (an action
	// run as the system on their behalf); by default the viewer.
	ActorID *int
}

// Record writes e with the viewer as actor and the request's client
// address, through c: a transaction's client (the entry commits or rolls
// back with the action), or a plain client, for which Record runs a
// transaction of its own. The entry is appended to its community's hash
// chain (chain.go).
func Record(ctx context.Context, c *ent.Client, e Entry) error {
	// Written as the system: whoever may do the action may leave its trace.
	sys := viewer.System(ctx)
	tx, err := c.Tx(sys)
	switch {
	case errors.Is(err, ent.ErrTxStarted):
		return record(ctx, sys, c, e)
	case err != nil:
		return err
	}
	if err := record(ctx, sys, tx.Client(), e); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func record(ctx, sys context.Context, c *ent.Client, e Entry) error {
	seq, prev, err := head(sys, c, e.CommunityID)
	if err != nil {
		return err
	}
	entry := &ent.AuditEntry{CommunityID: e.CommunityID, Action: e.Action, Subject: truncate(e.Subject, 300),
		SubjectID: e.SubjectID, Detail: truncate(e.Detail, 2000), ClientAddress: truncate(reqlog.ClientAddr(ctx), 100),
		// Microseconds: what PostgreSQL keeps, so the hash reads back alike.
		At: time.Now().UTC().Truncate(time.Microsecond), Seq: seq + 1}
	switch v := viewer.FromContext(ctx); {
	case e.ActorID != nil && *e.ActorID != 0:
		entry.ActorID = e.ActorID
	case v != nil && v.PersonID != 0:
		id := v.PersonID
		entry.ActorID = &id
	}
	entry.Hash = Hash(prev, entry)
	return c.AuditEntry.Create().SetCommunityID(entry.CommunityID).SetAction(entry.Action).
		SetSubject(entry.Subject).SetNillableSubjectID(entry.SubjectID).SetDetail(entry.Detail).
		SetClientAddress(entry.ClientAddress).SetAt(entry.At).SetNillableActorID(entry.ActorID).
		SetSeq(entry.Seq).SetHash(entry.Hash).Exec(sys)
}

// Filter narrows a listing.
type Filter struct {
	Actions   []string
	ActorID   *int
	SubjectID *int
	From, To  *time.Time
}

// List pages through a community's log, newest first: staff of their own
// community (communityID nil or theirs), platform admins of any (nil: all).
func List(ctx context.Context, c *ent.Client, communityID *int, f Filter, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int) (*ent.AuditEntryConnection, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case communityID == nil && !v.IsAdmin():
		if !v.IsStaff() {
			return nil, apperr.New(apperr.Forbidden, "only staff read the audit log")
		}
		communityID = &v.CommunityID
	case communityID != nil && !v.IsStaffOf(*communityID):
		return nil, apperr.New(apperr.Forbidden, "only staff of the community read its audit log")
	}
	q := c.AuditEntry.Query()
	if communityID != nil {
		q.Where(auditentry.CommunityID(*communityID))
	}
	if len(f.Actions) > 0 {
		q.Where(auditentry.ActionIn(f.Actions...))
	}
	if f.ActorID != nil {
		q.Where(auditentry.ActorID(*f.ActorID))
	}
	if f.SubjectID != nil {
		q.Where(auditentry.SubjectID(*f.SubjectID))
	}
	if f.From != nil {
		q.Where(auditentry.AtGTE(*f.From))
	}
	if f.To != nil {
		q.Where(auditentry.AtLT(*f.To))
	}
	// The viewer's context: the privacy rule keeps staff to their community.
	return q.Paginate(ctx, after, first, before, last, ent.WithAuditEntryOrder(&ent.AuditEntryOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.AuditEntryOrderFieldAt,
	}))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
