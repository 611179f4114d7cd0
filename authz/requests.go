package authz

import (
	"entgo.io/ent"
	"entgo.io/ent/entql"

	"linli/ent/privacy"
	"linli/viewer"
)

// A request (诉求) is read by those it concerns and nobody else: its
// submitter, the staff of its community, the leader of the team it is
// assigned to, and its assignee. A kiosk reads none. The rule holds on
// every path (lists, node(id:), nested edges, filters, subscriptions),
// since they all read through Ent. Writes go through the requests service
// only, which checks who may make each transition (requests.Transitions)
// and then writes as the system.
func Requests() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{communityFilter(RequestVisible)},
		Mutation: privacy.MutationPolicy{systemWrite()},
	}
}

// RequestEvents (a request's history) are read with their request.
func RequestEvents() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{communityFilter(func(v *viewer.Viewer) entql.P {
			if p := RequestVisible(v); p != nil {
				return entql.HasEdgeWith("request", p)
			}
			return nil
		})},
		Mutation: privacy.MutationPolicy{systemWrite()},
	}
}

// RequestVisible narrows the requests of the viewer's community to those the
// viewer may read; nil for staff (all of them).
func RequestVisible(v *viewer.Viewer) entql.P {
	switch {
	case v.IsStaff():
		return nil
	case v.IsKiosk() || v.PersonID == 0:
		return entql.FieldEQ("id", -1) // none
	}
	mine := entql.Or(entql.FieldEQ("submitter_id", v.PersonID), entql.FieldEQ("assignee_id", v.PersonID))
	if v.LeadsTeams() {
		return entql.Or(mine, ledTeams(v, "team_id"))
	}
	return mine
}

// RequestCounterparts matches the people a request puts v in touch with,
// for the directory (People): the volunteer assigned to a request v
// submitted (who is coming), and the submitter of a request assigned to v
// (whom to visit). Phones stay masked (mask.CanSeePersonal).
func RequestCounterparts(v *viewer.Viewer) entql.P {
	return entql.Or(
		entql.HasEdgeWith("assigned_requests", entql.FieldEQ("submitter_id", v.PersonID)),
		entql.HasEdgeWith("submitted_requests", entql.FieldEQ("assignee_id", v.PersonID)),
	)
}

// RequestRole is how a viewer stands to one request; the requests service's
// transition table says which roles may make each transition.
type RequestRole uint8

// The roles a viewer may hold towards a request (several at once).
const (
	// RequestSubmitter: the person the request is for.
	RequestSubmitter RequestRole = 1 << iota
	// RequestStaff: a coordinator of the request's community (or an admin).
	RequestStaff
	// RequestAssignee: the volunteer it is assigned to.
	RequestAssignee
	// RequestTeamLeader: a leader of the team it is assigned to.
	RequestTeamLeader
)

// RequestRoles are the roles v holds towards a request of community cid
// with the given submitter, team and assignee (nil: none). It is the Go
// form of RequestVisible: a viewer with no role may not read the request.
func RequestRoles(v *viewer.Viewer, cid int, submitter, team, assignee *int) RequestRole {
	var r RequestRole
	if v == nil || v.IsKiosk() {
		return 0
	}
	if v.IsStaffOf(cid) {
		r |= RequestStaff
	}
	if v.CommunityID != cid || v.PersonID == 0 {
		return r
	}
	if submitter != nil && *submitter == v.PersonID {
		r |= RequestSubmitter
	}
	if assignee != nil && *assignee == v.PersonID {
		r |= RequestAssignee
	}
	if v.Leads(team) {
		r |= RequestTeamLeader
	}
	return r
}

// SeesRequestDescription says who reads a request's description (and the
// notes of its history), which may hold health or family details: staff,
// the submitter and the assignee. The assigned team's leader, who
// dispatches it, sees the title and the rest but the description withheld.
func SeesRequestDescription(roles RequestRole) bool {
	return roles&(RequestStaff|RequestSubmitter|RequestAssignee) != 0
}

// SearchesRequestDescriptions says whether a text search of v looks into
// descriptions as well as titles and numbers: only for staff, who read
// every description of their community, so that a search cannot probe a
// description the viewer sees withheld.
func SearchesRequestDescriptions(v *viewer.Viewer) bool { return v.IsStaff() }
