package entlog

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/sensitiveread"
	"linli/viewer"
)

// Filter narrows a listing of the sensitive-read log.
type Filter struct {
	Kinds     []sensitiveread.Kind
	ActorID   *int
	SubjectID *int
	From, To  *time.Time
}

// List pages through the sensitive-read log, newest first: platform admins
// only (authz.ReadsSensitiveReads), of one community or (nil) all.
func List(ctx context.Context, c *ent.Client, communityID *int, f Filter, after *entgql.Cursor[int], first *int, before *entgql.Cursor[int], last *int) (*ent.SensitiveReadConnection, error) {
	switch v := viewer.FromContext(ctx); {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case !authz.ReadsSensitiveReads(v):
		return nil, apperr.New(apperr.Forbidden, "only platform admins read the sensitive-read log")
	}
	q := c.SensitiveRead.Query()
	if communityID != nil {
		q.Where(sensitiveread.CommunityID(*communityID))
	}
	if len(f.Kinds) > 0 {
		q.Where(sensitiveread.KindIn(f.Kinds...))
	}
	if f.ActorID != nil {
		q.Where(sensitiveread.ActorID(*f.ActorID))
	}
	if f.SubjectID != nil {
		q.Where(sensitiveread.SubjectID(*f.SubjectID))
	}
	if f.From != nil {
		q.Where(sensitiveread.AtGTE(*f.From))
	}
	if f.To != nil {
		q.Where(sensitiveread.AtLT(*f.To))
	}
	return q.Paginate(ctx, after, first, before, last, ent.WithSensitiveReadOrder(&ent.SensitiveReadOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.SensitiveReadOrderFieldAt,
	}))
}
