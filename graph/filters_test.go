package graph_test

import (
	"slices"
	"strings"
	"testing"

	"linli/graph/generated"
)

// openToCommunity are the types every member of a community may read in
// full (their read rule is "the viewer's community" and nothing narrower).
// A generated where-input may traverse an edge only into one of these: an
// edge filter is an SQL subquery that no privacy rule sees, so a filter
// into a narrowed type (activities with their drafts, slots, people,
// registrations, …) would let a viewer probe rows they may not read. A new
// type is narrowed until it is listed here; a new edge into a narrowed type
// needs entgql.SkipWhereInput (schema.skipNarrowedEdge).
var openToCommunity = []string{"Community", "Team", "Venue"}

func TestEdgeFiltersRespectPrivacy(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	checked := 0
	for name, def := range s.Types {
		if !strings.HasSuffix(name, "WhereInput") {
			continue
		}
		for _, f := range def.Fields {
			if !strings.HasPrefix(f.Name, "has") || !strings.HasSuffix(f.Name, "With") {
				continue
			}
			checked++
			target := strings.TrimSuffix(f.Type.Name(), "WhereInput")
			if !slices.Contains(openToCommunity, target) {
				t.Errorf("%s.%s filters through %s, whose read rule is narrower than the community: skip its where-input on the edge", name, f.Name, target)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no has…With filters found: the test no longer sees the generated schema")
	}
}
