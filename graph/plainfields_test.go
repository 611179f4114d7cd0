package graph_test

import (
	"bytes"
	"regexp"
	"testing"

	"linli/graph/generated"
	"linli/linlitest"
	"linli/viewer"
)

// The direct path for plain fields (graph/codegen/plain.go) answers exactly
// what gqlgen's own path does: the same bytes for pages that hold strings,
// numbers, booleans, IDs, enums, times, cursors and page info.
func TestPlainFieldsAnswerAsGqlgen(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "王芳", viewer.Coordinator)
		seedActivities(t, e, c.ID, 12)
		queries := []struct {
			q    string
			vars map[string]any
		}{
			{nestedActivitiesQuery, map[string]any{"n": 10}},
			{`{ activities(first: 5) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
				edges { cursor node { id title status category serviceType startsAt endsAt createdAt
					slots { id name kind capacity taken waitlisted available requiresApproval waitlistEnabled startsAt } } } } }`, nil},
		}
		for i, q := range queries {
			generated.SetPlainFields(true)
			direct := e.Do(t, staff, q.q, q.vars)
			generated.SetPlainFields(false)
			stock := e.Do(t, staff, q.q, q.vars)
			generated.SetPlainFields(true)
			if len(direct.Errors) > 0 || len(stock.Errors) > 0 {
				t.Fatalf("query %d: errors %v / %v", i, direct.Errors, stock.Errors)
			}
			// Cursors are sealed with a fresh nonce each time: compared by
			// place, and the direct path's end cursor must lead on.
			if !bytes.Equal(cursors.ReplaceAll(direct.Data, []byte(`"$1":"…"`)), cursors.ReplaceAll(stock.Data, []byte(`"$1":"…"`))) {
				t.Errorf("query %d: the direct path answered\n%.600s\ngqlgen's path\n%.600s", i, direct.Data, stock.Data)
			}
			if m := endCursor.FindSubmatch(direct.Data); m != nil {
				var next struct {
					Activities struct {
						Edges []struct{ Node struct{ Title string } }
					}
				}
				e.Do(t, staff, `query($c: Cursor) { activities(first: 5, after: $c) { edges { node { title } } } }`,
					map[string]any{"c": string(m[1])}).Decode(t, &next)
				if len(next.Activities.Edges) != 5 {
					t.Errorf("query %d: the page after the direct path's end cursor holds %d activities, want 5", i, len(next.Activities.Edges))
				}
			}
			if len(direct.Data) < 200 {
				t.Errorf("query %d: a short answer proves little: %s", i, direct.Data)
			}
		}
	})
}

var (
	cursors   = regexp.MustCompile(`"(cursor|startCursor|endCursor)":"[^"]*"`)
	endCursor = regexp.MustCompile(`"endCursor":"([^"]*)"`)
)
