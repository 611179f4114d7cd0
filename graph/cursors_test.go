package graph_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"entgo.io/contrib/entgql"

	"linli/linlitest"
	"linli/viewer"
)

// Page cursors are sealed like IDs: a cursor shows nothing of the row's
// internal number, a cursor made by hand (Ent's own encoding of {"i": n},
// which once started a page at any row) is VALIDATION_FAILED on the
// argument, and the cursors the server gives still page through a list.
func TestCursorsAreSealed(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		var ids []int
		for i := range 3 {
			a, _ := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: fmt.Sprintf("活动%d", i)})
			ids = append(ids, a.ID)
		}
		type page struct {
			Activities struct {
				Edges []struct {
					Cursor string
					Node   struct{ ID string }
				}
				PageInfo struct{ EndCursor string }
			}
		}
		q := `query($after: Cursor) { activities(first: 2, after: $after) { edges { cursor node { id } } pageInfo { endCursor } } }`
		var first page
		e.Do(t, coord, q, nil).Decode(t, &first)
		if len(first.Activities.Edges) != 2 {
			t.Fatalf("first page: %+v", first)
		}
		for _, ed := range first.Activities.Edges {
			// Ent's own encoding of a cursor is base64 of msgpack {"i": id}:
			// a sealed one does not decode as that.
			var plain entgql.Cursor[int]
			if plain.UnmarshalGQL(ed.Cursor) == nil && slices.Contains(ids, plain.ID) {
				t.Errorf("cursor %q decodes as Ent's own: %+v", ed.Cursor, plain)
			}
		}
		var second page
		e.Do(t, coord, q, map[string]any{"after": first.Activities.PageInfo.EndCursor}).Decode(t, &second)
		if len(second.Activities.Edges) != 1 || second.Activities.Edges[0].Node.ID == first.Activities.Edges[0].Node.ID {
			t.Fatalf("second page: %+v", second)
		}
		// Ent's encoding of a cursor at a row of the caller's choosing.
		var forged bytes.Buffer
		entgql.Cursor[int]{ID: ids[0]}.MarshalGQL(&forged)
		for _, cur := range []string{strings.Trim(forged.String(), `"`), tamper(first.Activities.PageInfo.EndCursor), "junk"} {
			res := e.Do(t, coord, q, map[string]any{"after": cur})
			if res.Code() != "VALIDATION_FAILED" || res.Field() != "after" {
				t.Errorf("cursor %q: %s on %q, want VALIDATION_FAILED on after", cur, res.Code(), res.Field())
			}
		}
	})
}

// tamper changes one character in the middle of a sealed cursor (never the
// last ones, whose low bits base64 may ignore, and never to itself).
func tamper(cur string) string {
	b := []byte(cur)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
