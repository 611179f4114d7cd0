package authz

import (
	"strings"

	"linli/viewer"
)

// boardFields are the root fields a board token may use: what the hall's
// screen shows (today's activities of its community, their counts and the
// masked names of who arrived). No mutation.
var boardFields = map[string]bool{
	"Query.venues":                true,
	"Query.activities":            true,
	"Query.checkInList":           true,
	"Subscription.activityCounts": true,
	"Subscription.activityFeed":   true,
}

// BoardMayUse reports whether v may use the root field object.field: every
// viewer but a board token's may (their own rules apply further down); a
// board's only the board's reads and introspection's __ fields.
func BoardMayUse(v *viewer.Viewer, object, field string) bool {
	if v == nil || !v.BoardOnly {
		return true
	}
	return strings.HasPrefix(field, "__") || boardFields[object+"."+field]
}
