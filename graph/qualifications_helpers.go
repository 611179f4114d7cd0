package graph

import (
	"linli/graph/model"
	"linli/ledger"
)

// teamPayload is a team sign-up's (or removal's) answer.
func teamPayload(ms []ledger.TeamMember) *model.TeamSignUpPayload {
	if ms == nil {
		return nil
	}
	out := &model.TeamSignUpPayload{Members: make([]*ledger.TeamMember, len(ms))}
	for i := range ms {
		out.Members[i] = &ms[i]
	}
	return out
}
