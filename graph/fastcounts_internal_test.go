package graph

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"linli/graph/generated"
	"linli/live"
)

// The live types bound in gqlgen.yml and FastCounts' table of writers are
// checked against the schema the server runs, so neither is a second list
// that can drift: a field or an enum value added to schema/live.graphql
// fails here (and FastCounts.Validate refuses to start the server).
func TestLiveTypesMatchSchema(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	if err := checkCountsWriters(s); err != nil {
		t.Fatal(err)
	}
	if err := (&fastCounts{}).Validate(generated.NewExecutableSchema(generated.Config{})); err != nil {
		t.Fatal(err)
	}
	enum := func(name string) []string {
		var vs []string
		for _, v := range s.Types[name].EnumValues {
			vs = append(vs, v.Name)
		}
		return vs
	}
	var activity, registration []string
	for _, c := range live.ActivityChanges {
		activity = append(activity, string(c))
	}
	for _, c := range live.RegistrationChanges {
		registration = append(registration, string(c))
	}
	if got := enum("ActivityChange"); !slices.Equal(got, activity) {
		t.Fatalf("schema ActivityChange %v, live.ActivityChanges %v", got, activity)
	}
	if got := enum("RegistrationChange"); !slices.Equal(got, registration) {
		t.Fatalf("schema RegistrationChange %v, live.RegistrationChanges %v", got, registration)
	}
}

// The check can fail: a schema with a counts field the table does not
// write, or without one it does, is refused.
func TestCountsWritersRefuseAChangedSchema(t *testing.T) {
	src, err := os.ReadFile("../schema/live.graphql")
	if err != nil {
		t.Fatal(err)
	}
	base := `
type Activity { id: ID! }
type Registration { id: ID! }
type Query { x: Int }
` + string(src)
	for name, edit := range map[string]func(string) string{
		"added": func(s string) string {
			return strings.Replace(s, "checkedIn: Int! }", "checkedIn: Int!  noShows: Int! }", 1)
		},
		"removed": func(s string) string { return strings.Replace(s, "version: Int!", "", 1) },
	} {
		changed := edit(base)
		if changed == base {
			t.Fatalf("%s: the edit matched nothing; update this test with schema/live.graphql", name)
		}
		s, err := gqlparser.LoadSchema(&ast.Source{Name: "live.graphql", Input: changed})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := checkCountsWriters(s); err == nil {
			t.Fatalf("%s: a changed ActivityCounts/SlotCounts passed the check", name)
		}
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "live.graphql", Input: base})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCountsWriters(s); err != nil {
		t.Fatalf("the unchanged schema: %v", err)
	}
}
