package authz

import (
	"entgo.io/ent"
	"entgo.io/ent/entql"

	"linli/ent/privacy"
	"linli/viewer"
)

// People applies data minimisation (PIPL art. 6) to the directory: staff
// read their community's people; everyone else reads only the people an
// activity or a team needs to show them — themselves, the leaders of the
// community's teams (the person in charge), and the fellow members of teams
// they belong to (a leader thus sees the members of the teams they lead). A
// kiosk reads the people registered for activities at its venue. A
// request's submitter and assignee read each other (RequestCounterparts).
// node(id:) over sequential IDs, nested edges and lists all go through this
// rule, so nobody else is enumerable. Staff write people.
func People() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			switch {
			case v.IsStaff():
				return nil
			case v.IsKiosk():
				return entql.HasEdgeWith("registrations", entql.HasEdgeWith("activity", entql.FieldEQ("venue_id", v.VenueID)))
			}
			return entql.Or(
				entql.FieldEQ("id", v.PersonID),
				entql.HasEdgeWith("memberships", entql.Or(leaderMembership(), ofMyTeams(v))),
				RequestCounterparts(v),
			)
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// Memberships (who is in which team) follow People: staff read them all;
// everyone else reads their own, the leaders' (a team shows who leads it),
// and those of teams they belong to. Staff write them.
func Memberships() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			if v.IsStaff() {
				return nil
			}
			return entql.Or(entql.FieldEQ("person_id", v.PersonID), leaderMembership(), ofMyTeams(v))
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

func leaderMembership() entql.P { return entql.FieldEQ("role", "LEADER") }

// ofMyTeams matches memberships of teams v is a member of (none for a kiosk,
// whose PersonID is 0).
func ofMyTeams(v *viewer.Viewer) entql.P {
	return entql.HasEdgeWith("team", entql.HasEdgeWith("memberships", entql.FieldEQ("person_id", v.PersonID)))
}

// VolunteerProfiles (who registered to serve, with their skills) are part
// of the directory: a person reads their own, staff their community's.
// Staff write them (granting the VOLUNTEER role creates one).
func VolunteerProfiles() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{staffOr(func(v *viewer.Viewer) entql.P {
			if v.PersonID != 0 && !v.IsKiosk() {
				return entql.FieldEQ("person_id", v.PersonID)
			}
			return nil
		})},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}
