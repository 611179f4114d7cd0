package auth

import (
	"context"
	"time"

	"linli/ent"
	"linli/ent/person"
	"linli/ent/session"
	"linli/ent/teammembership"
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
		Where(session.IDIn(sessionIDs...), session.RevokedAtIsNil(), session.ExpiresAtGT(now.UTC())).
		WithPerson(func(q *ent.PersonQuery) { q.Select(person.FieldCommunityID, person.FieldRoles) }).
		All(ctx)
	if err != nil {
		return nil, err
	}
	var leaders []int
	for _, ses := range sessions {
		p := ses.Edges.Person
		if p == nil {
			continue
		}
		v := &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID, SessionID: ses.ID, ExpiresAt: ses.ExpiresAt, Roles: rolesOf(p.Roles)}
		if v.Has(viewer.TeamLeader) {
			leaders = append(leaders, p.ID)
		}
		out[ses.ID] = v
	}
	if len(leaders) == 0 {
		return out, nil
	}
	var led []struct {
		PersonID int `json:"person_id"`
		TeamID   int `json:"team_id"`
	}
	err = s.db.Client.TeamMembership.Query().
		Where(teammembership.PersonIDIn(leaders...), teammembership.RoleEQ(teammembership.RoleLEADER)).
		Select(teammembership.FieldPersonID, teammembership.FieldTeamID).Scan(ctx, &led)
	if err != nil {
		return nil, err
	}
	teams := map[int][]int{}
	for _, m := range led {
		teams[m.PersonID] = append(teams[m.PersonID], m.TeamID)
	}
	for _, v := range out {
		if v.Has(viewer.TeamLeader) {
			v.LeadTeams = teams[v.PersonID]
		}
	}
	return out, nil
}
