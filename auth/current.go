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
	// An open live connection is use: the idle expiry of each session
	// re-read here moves on, one statement per class (staff, the rest).
	var touch [2][]int
	for _, ses := range sessions {
		if p := ses.Edges.Person; p != nil {
			v := viewerOf(ses, p)
			if v.ExpiresAt = s.sessionEnd(ses.CreatedAt, v.ExpiresAt, v.Roles); !now.Before(v.ExpiresAt) {
				continue
			}
			if ses.IdleExpiresAt != nil {
				staff := StaffClass(v.Roles)
				_, idle := s.lifetimes.of(staff)
				idleEnd := now.UTC().Add(idle)
				if ses.IdleExpiresAt.Before(idleEnd.Add(-touchEvery)) || ses.IdleExpiresAt.After(idleEnd) {
					touch[b2i(staff)] = append(touch[b2i(staff)], ses.ID)
				} else {
					idleEnd = *ses.IdleExpiresAt
				}
				if idleEnd.Before(v.ExpiresAt) {
					v.ExpiresAt = idleEnd
				}
			}
			out[ses.ID] = v
			vs = append(vs, v)
		}
	}
	for class, ids := range touch {
		if len(ids) == 0 {
			continue
		}
		_, idle := s.lifetimes.of(class == 1)
		if err := s.db.Client.Session.Update().Where(session.IDIn(ids...), session.RevokedAtIsNil()).
			SetIdleExpiresAt(now.UTC().Add(idle)).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return out, s.fillLeadTeams(ctx, vs...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
