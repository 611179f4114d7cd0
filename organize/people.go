package organize

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"linli/apperr"
	"linli/audit"
	"linli/ent"
	"linli/ent/teammembership"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// CreateTeam creates a team in the viewer's community.
func (s *Service) CreateTeam(ctx context.Context, in ent.CreateTeamInput) (*ent.Team, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkText("name", in.Name, 1, 100); err != nil {
		return nil, err
	}
	t, err := s.client.Team.Create().SetInput(in).SetCommunityID(v.CommunityID).Save(ctx)
	return t, conflictOn(err, "name", "a team with this name already exists")
}

// UpdateTeam changes a team.
func (s *Service) UpdateTeam(ctx context.Context, id int, in ent.UpdateTeamInput) (*ent.Team, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkText("name", *in.Name, 1, 100); err != nil {
			return nil, err
		}
	}
	t, err := s.client.Team.UpdateOneID(id).SetInput(in).Save(ctx)
	return t, conflictOn(err, "name", "a team with this name already exists")
}

// CreateVenue creates a venue in the viewer's community.
func (s *Service) CreateVenue(ctx context.Context, in ent.CreateVenueInput) (*ent.Venue, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkText("name", in.Name, 1, 100); err != nil {
		return nil, err
	}
	ven, err := s.client.Venue.Create().SetInput(in).SetCommunityID(v.CommunityID).Save(ctx)
	return ven, conflictOn(err, "name", "a venue with this name already exists")
}

// UpdateVenue changes a venue.
func (s *Service) UpdateVenue(ctx context.Context, id int, in ent.UpdateVenueInput) (*ent.Venue, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkText("name", *in.Name, 1, 100); err != nil {
			return nil, err
		}
	}
	ven, err := s.client.Venue.UpdateOneID(id).SetInput(in).Save(ctx)
	return ven, conflictOn(err, "name", "a venue with this name already exists")
}

func conflictOn(err error, field, msg string) error {
	if ent.IsConstraintError(err) {
		return &apperr.Error{Code: apperr.Conflict, Field: field, Message: msg, Err: err}
	}
	return err
}

// Audit-log actions of this file.
const (
	ActionRolesSet         = "person.roles_set"
	ActionTeamMemberSet    = "team.member_set"
	ActionTeamMemberRemove = "team.member_remove"
)

// SetTeamMember adds a person of the community to a team, or changes their role in it.
func (s *Service) SetTeamMember(ctx context.Context, teamID, personID int, role teammembership.Role) (*ent.TeamMembership, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	if teammembership.RoleValidator(role) != nil {
		return nil, apperr.Invalid("role", "unknown team role")
	}
	team, err := s.client.Team.Get(ctx, teamID)
	if err != nil {
		return nil, notFoundAs(err, "teamID", "no such team")
	}
	p, err := s.client.Person.Get(ctx, personID)
	if err != nil {
		return nil, notFoundAs(err, "personID", "no such person")
	}
	if p.CommunityID != team.CommunityID {
		return nil, apperr.Invalid("personID", "the person belongs to another community")
	}
	var m *ent.TeamMembership
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		existing, err := tx.TeamMembership.Query().
			Where(teammembership.TeamID(teamID), teammembership.PersonID(personID)).Only(ctx)
		detail := fmt.Sprintf("Team:%d (%s): %s", teamID, team.Name, role)
		switch {
		case ent.IsNotFound(err):
			m, err = tx.TeamMembership.Create().SetCommunityID(team.CommunityID).
				SetTeamID(teamID).SetPersonID(personID).SetRole(role).Save(ctx)
		case err == nil:
			detail = fmt.Sprintf("Team:%d (%s): %s → %s", teamID, team.Name, existing.Role, role)
			m, err = tx.TeamMembership.UpdateOne(existing).SetRole(role).Save(ctx)
		}
		if err != nil {
			return err
		}
		if changed := existing == nil || existing.Role != role; changed {
			if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: team.CommunityID, Action: ActionTeamMemberSet,
				Subject: fmt.Sprintf("Person:%d", personID), SubjectID: &personID, Detail: detail}); err != nil {
				return err
			}
		}
		if role == teammembership.RoleLEADER && !slices.Contains(p.Roles, string(viewer.TeamLeader)) {
			return tx.Person.UpdateOneID(personID).SetRoles(append(slices.Clone(p.Roles), string(viewer.TeamLeader))).Exec(ctx)
		}
		return nil
	})
	if err != nil {
		return nil, conflictOn(err, "personID", "the person was added concurrently; try again")
	}
	s.personChanged(p)
	return m.Unwrap(), nil
}

// RemoveTeamMember takes a person out of a team.
func (s *Service) RemoveTeamMember(ctx context.Context, teamID, personID int) (bool, error) {
	if _, err := requireStaff(ctx); err != nil {
		return false, err
	}
	team, err := s.client.Team.Get(ctx, teamID)
	if err != nil {
		return false, err
	}
	var n int
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		var err error
		n, err = tx.TeamMembership.Delete().
			Where(teammembership.TeamID(teamID), teammembership.PersonID(personID)).Exec(ctx)
		if err != nil || n == 0 {
			return err
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: team.CommunityID, Action: ActionTeamMemberRemove,
			Subject: fmt.Sprintf("Person:%d", personID), SubjectID: &personID, Detail: fmt.Sprintf("Team:%d (%s)", teamID, team.Name)})
	})
	if err != nil {
		return false, err
	}
	if n > 0 {
		// A leader who leaves a team stops running its activities at once.
		s.personChanged(&ent.Person{ID: personID, CommunityID: team.CommunityID})
	}
	return n > 0, nil
}

// SetRoles sets a person's roles. RESIDENT is always kept; ADMIN may only be
// granted or taken away by an admin; VOLUNTEER creates the volunteer profile.
func (s *Service) SetRoles(ctx context.Context, personID int, roles []viewer.Role) (*ent.Person, error) {
	v, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.client.Person.Get(ctx, personID)
	if err != nil {
		return nil, err
	}
	want := []string{string(viewer.Resident)}
	for _, r := range roles {
		if !r.Valid() {
			return nil, apperr.Invalid("roles", "unknown role %q", r)
		}
		if r != viewer.Resident && !slices.Contains(want, string(r)) {
			want = append(want, string(r))
		}
	}
	hadAdmin := slices.Contains(p.Roles, string(viewer.Admin))
	if hadAdmin != slices.Contains(want, string(viewer.Admin)) && !v.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "only platform admins grant or remove ADMIN")
	}
	err = store.Tx(ctx, s.client, func(tx *ent.Tx) error {
		if err := tx.Person.UpdateOneID(personID).SetRoles(want).Exec(ctx); err != nil {
			return err
		}
		if changed := !slices.Equal(p.Roles, want); changed {
			if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: p.CommunityID, Action: ActionRolesSet,
				Subject: fmt.Sprintf("Person:%d", personID), SubjectID: &personID,
				Detail: strings.Join(p.Roles, ",") + " → " + strings.Join(want, ",")}); err != nil {
				return err
			}
		}
		if !slices.Contains(want, string(viewer.Volunteer)) {
			return nil
		}
		has, err := tx.Person.QueryVolunteerProfile(p).Exist(ctx)
		if err != nil || has {
			return err
		}
		return tx.VolunteerProfile.Create().SetCommunityID(p.CommunityID).SetPersonID(p.ID).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	s.personChanged(p)
	return s.client.Person.Get(ctx, personID)
}

// personChanged announces, after commit, that what p may do changed: every
// replica then forgets p's cached tokens and closes p's live connections,
// so no socket or stream keeps acting with the old roles or teams.
func (s *Service) personChanged(p *ent.Person) {
	s.events.Publish(events.Event{Kind: events.Person, PersonID: p.ID, CommunityID: p.CommunityID})
}

func notFoundAs(err error, field, msg string) error {
	if ent.IsNotFound(err) {
		return apperr.Invalid(field, "%s", msg)
	}
	return err
}
