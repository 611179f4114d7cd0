package schema

import (
	"entgo.io/ent"

	"linli/authz"
)

type writeRule int

// staffWrites: coordinators of the row's community (and admins) may write.
const staffWrites writeRule = 0

func communityPolicy() ent.Policy       { return authz.Public() }
func scopedPolicy(writeRule) ent.Policy { return authz.Scoped() }
func systemOnlyPolicy() ent.Policy      { return authz.SystemOnly() }
func activityPolicy() ent.Policy        { return authz.Activities() }
func slotPolicy() ent.Policy            { return authz.Slots() }
func registrationPolicy() ent.Policy    { return authz.Registrations() }
