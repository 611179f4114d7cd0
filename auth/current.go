package auth

import (
	"context"
	"time"

	"linli/ent"
	"linli/ent/person"
	"linli/ent/session"
	"linli/viewer"
)

// CurrentViewers re-reads, for connections that outlive a request (sockets,
// SSE streams), the viewers of sessions as Authenticate would build them now,
// in two queries whatever their number: sessions revoked or expired at now
// are absent from the result. ctx must be the system's.
func (s *Service) CurrentViewers(ctx context.Context, sessionIDs []int, now time.Time) (map[int]*viewer.Viewer, error) {
	out := map[int]*viewer.Viewer{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	sessions, err := s.db.Client.Session.Query().
		Where(session.IDIn(sessionIDs...), session.RevokedAtIsNil(), session.ExpiresAtGT(now.UTC()),
			session.Or(session.IdleExpiresAtIsNil(), session.IdleExpiresAtGT(now.UTC()))).
		WithPerson(func(q *ent.PersonQuery) { q.Select(person.FieldCommunityID, person.FieldRoles) }).
		All(ctx)
	if err != nil {
		return nil, err
	}
	vs := make([]*viewer.Viewer, 0, len(sessions))
	for _, ses := range sessions {
		if p := ses.Edges.Person; p != nil {
			v := viewerOf(ses, p)
			if v.ExpiresAt = s.sessionEnd(ses.CreatedAt, v.ExpiresAt, v.Roles); !now.Before(v.ExpiresAt) {
				continue
			}
			if ses.IdleExpiresAt != nil && ses.IdleExpiresAt.Before(v.ExpiresAt) {
				v.ExpiresAt = *ses.IdleExpiresAt
			}
			out[ses.ID] = v
			vs = append(vs, v)
		}
	}
	return out, s.fillLeadTeams(ctx, vs...)
}
