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

// Slot.available is computed from capacity and taken (ent/slot_available.go);
// field collection selects those two columns when only available is asked
// for (ent/entc.go derivedFields), so it answers capacity minus taken, not
// a figure from unloaded zeros.
func TestDerivedFieldLoadsItsColumns(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 40}}})
		var resident string
		for _, name := range []string{"李娜", "张伟", "刘洋"} {
			_, resident = e.Person(t, c.ID, name, viewer.Resident)
			e.Do(t, resident, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`,
				map[string]any{"s": e.ID(slots[0].ID)}).Decode(t, &struct{}{})
		}
		type page struct {
			Activities struct {
				Edges []struct {
					Node struct {
						Slots []struct{ Available, Capacity, Taken int }
					}
				}
			}
		}
		var only, full page
		e.Do(t, resident, `{ activities(first: 5) { edges { node { slots { available } } } } }`, nil).Decode(t, &only)
		e.Do(t, resident, `{ activities(first: 5) { edges { node { slots { capacity taken } } } } }`, nil).Decode(t, &full)
		if len(only.Activities.Edges) != 1 || len(full.Activities.Edges) != 1 {
			t.Fatalf("pages: %+v / %+v", only, full)
		}
		got := only.Activities.Edges[0].Node.Slots[0].Available
		s := full.Activities.Edges[0].Node.Slots[0]
		if s.Taken != 3 || got != s.Capacity-s.Taken {
			t.Fatalf("available %d alone; capacity %d, taken %d", got, s.Capacity, s.Taken)
		}
	})
}
