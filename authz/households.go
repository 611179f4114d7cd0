package authz

import (
	"entgo.io/ent"
	"entgo.io/ent/entql"

	"linli/ent/privacy"
	"linli/viewer"
)

// ReadsHouseholds reports whether v may read the households of their own
// community at all: staff, and the leaders of its teams, who record home
// visits and so must find the household they went to (any household of the
// community: a first visit has no history to narrow by). Leaders see a
// household's address and size, its head's name and phone masked
// (HouseholdPersonalVisible) and no care tags (CareTagsVisible). Volunteers,
// residents and kiosks read none: a household list is the neighbourhood's
// directory of who lives where.
func ReadsHouseholds(v *viewer.Viewer) bool { return v.IsStaff() || v.LeadsTeams() }

// CareTagsVisible reports whether v may see the care tags of households of
// community cid (空巢, 失独, 残疾, …: sensitive personal information, PIPL
// art. 28): its staff, and nobody else, on every path (the field, and the
// careTag filter, which matches nothing for anyone else).
func CareTagsVisible(v *viewer.Viewer, cid int) bool { return v.IsStaffOf(cid) }

// HouseholdPersonalVisible reports whether v may see the head of household's
// name and phone of community cid unmasked: its staff.
func HouseholdPersonalVisible(v *viewer.Viewer, cid int) bool { return v.IsStaffOf(cid) }

// Households are read by ReadsHouseholds (everyone else reads none, on every
// path: node(id:), lists and the edges of visits and requests) and written
// by staff of their community.
func Households() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{communityFilter(householdReaders)},
		Mutation: privacy.MutationPolicy{staffWrite()},
	}
}

// householdReaders narrows households to none for those who may not read them.
func householdReaders(v *viewer.Viewer) entql.P {
	if ReadsHouseholds(v) {
		return nil
	}
	return nothing()
}

// HomeVisits are read by staff of their community, and by team leaders for
// the visits of the teams they lead or that they recorded themselves (their
// notes are about people in difficulty: another team's visits are not theirs
// to read). Staff record visits, and team leaders record them for a team
// they lead (the home-visit service adds its checks).
func HomeVisits() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			switch {
			case v.IsStaff():
				return nil
			case v.LeadsTeams():
				return entql.Or(ledTeams(v, "team_id"), entql.FieldEQ("recorded_by_id", v.PersonID))
			}
			return nothing()
		})},
		Mutation: privacy.MutationPolicy{staffOrLeaderWrite(leaderActivityWrite)},
	}
}

// nothing matches no row (every row has an id).
func nothing() entql.P { return entql.FieldNil("id") }
