package graph_test

import (
	"strings"
	"testing"

	"linli/ent/slot"
	"linli/linlitest"
	"linli/viewer"
)

// typeRef is an introspected type, three levels deep (enough for [T!]!).
type typeRef struct {
	Kind, Name string
	OfType     *typeRef
}

func (t *typeRef) String() string {
	switch {
	case t == nil:
		return "?"
	case t.Kind == "NON_NULL":
		return t.OfType.String() + "!"
	case t.Kind == "LIST":
		return "[" + t.OfType.String() + "]"
	}
	return t.Name
}

// named is the type under NON_NULL and LIST wrappers.
func (t *typeRef) named() string {
	for t != nil && t.OfType != nil {
		t = t.OfType
	}
	if t == nil {
		return ""
	}
	return t.Name
}

const typeRefFields = `kind name ofType { kind name ofType { kind name ofType { kind name } } }`

type introspected struct {
	Schema struct {
		Types []struct {
			Kind, Name string
			Fields     []struct {
				Name string
				Type typeRef
				Args []struct {
					Name string
					Type typeRef
				}
			}
			InputFields []struct {
				Name string
				Type typeRef
			}
		}
	} `json:"__schema"`
}

// TestSchemaIDsAreOpaque: every field, argument and input field that names
// a row (id, fooID, fooIDs) is of type ID, so clients never see a raw Int
// they might do arithmetic on; and Activity.slots is [Slot!]! as API.md
// says.
func TestSchemaIDsAreOpaque(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		var s introspected
		e.Do(t, "", `{ __schema { types { kind name
			fields { name type { `+typeRefFields+` } args { name type { `+typeRefFields+` } } }
			inputFields { name type { `+typeRefFields+` } } } } }`, nil).Decode(t, &s)
		isID := func(name string) bool {
			return name == "id" || name == "ids" || strings.HasSuffix(name, "ID") || strings.HasSuffix(name, "IDs")
		}
		checked := 0
		check := func(where string, typ typeRef) {
			checked++
			if typ.named() != "ID" {
				t.Errorf("%s is %s, want an ID", where, typ.String())
			}
		}
		for _, ty := range s.Schema.Types {
			if strings.HasPrefix(ty.Name, "__") {
				continue
			}
			for _, f := range ty.Fields {
				if isID(f.Name) {
					check(ty.Name+"."+f.Name, f.Type)
				}
				for _, a := range f.Args {
					if isID(a.Name) {
						check(ty.Name+"."+f.Name+"("+a.Name+")", a.Type)
					}
				}
			}
			for _, f := range ty.InputFields {
				// Where-inputs' predicates (idGT, teamIDIn …) take IDs too;
				// IsNil/NotNil flags are Booleans.
				if isID(f.Name) || strings.Contains(f.Name, "ID") && !strings.HasSuffix(f.Name, "Nil") {
					check(ty.Name+"."+f.Name, f.Type)
				}
			}
			if ty.Name == "Activity" {
				for _, f := range ty.Fields {
					if f.Name == "slots" && f.Type.String() != "[Slot!]!" {
						t.Errorf("Activity.slots is %s, want [Slot!]!", f.Type.String())
					}
				}
			}
		}
		if checked < 50 {
			t.Fatalf("only %d ID fields found: the walk is broken", checked)
		}
	})
}

// TestActivityWithoutSlots: an activity without slots answers an empty list,
// never null, in a list and through node(id:).
func TestActivityWithoutSlots(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "筹备中"})
		if _, err := e.Client.Slot.Delete().Where(slot.ID(slots[0].ID)).Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		list := e.Do(t, coord, `{ activities(first: 5) { edges { node { id slots { id } } } } }`, nil)
		if len(list.Errors) > 0 || !strings.Contains(string(list.Data), `"slots":[]`) {
			t.Fatalf("activities: %s %+v", list.Data, list.Errors)
		}
		one := e.Do(t, coord, `query($id: ID!) { node(id: $id) { ... on Activity { slots { id } } } }`, map[string]any{"id": linlitest.ID(a.ID)})
		if len(one.Errors) > 0 || string(one.Data) != `{"node":{"slots":[]}}` {
			t.Fatalf("node: %s %+v", one.Data, one.Errors)
		}
	})
}
