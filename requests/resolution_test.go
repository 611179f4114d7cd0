package requests_test

import (
	"testing"

	"linli/linlitest"
)

// A request's resolution repeats what was done at a resident's home: it is
// withheld with the description (null to the assigned team's leader), on
// node(id:) and in lists, while the RESOLVE event's note is withheld too.
// (A list that selects neither the request's community nor its people
// reads it without the columns the rule looks at and withholds it from
// everyone, as it does the description: the rule fails closed.)
func TestResolutionWithheldWithDescription(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		id := w.reach(t, "RESOLVED")
		q := `query($id: ID!) { node(id: $id) { ... on Request { resolution descriptionWithheld } }
		  requests(first: 5) { edges { node { id resolution community { id } submitter { id } assignee { id } team { id } } } } }`
		for _, tc := range []struct {
			actor    string
			withheld bool
		}{{aLeader, true}, {aStaff, false}, {aSubmitter, false}, {aAssignee, false}} {
			var out struct {
				Node struct {
					Resolution          *string
					DescriptionWithheld bool
				}
				Requests struct {
					Edges []struct {
						Node struct {
							ID         string
							Resolution *string
						}
					}
				}
			}
			e.Do(t, w.tokens[tc.actor], q, map[string]any{"id": id}).Decode(t, &out)
			if out.Node.DescriptionWithheld != tc.withheld || (out.Node.Resolution == nil) != tc.withheld {
				t.Errorf("%s: resolution %v, description withheld %v", tc.actor, out.Node.Resolution, out.Node.DescriptionWithheld)
			}
			for _, ed := range out.Requests.Edges {
				if ed.Node.ID == id && (ed.Node.Resolution == nil) != tc.withheld {
					t.Errorf("%s: listed resolution %v", tc.actor, ed.Node.Resolution)
				}
			}
		}
	})
}
