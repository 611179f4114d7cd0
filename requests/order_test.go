package requests_test

import (
	"slices"
	"testing"

	"linli/linlitest"
)

// Ordering by due time pages through every request that has one (the
// accepted ones) once, in due order; by creation, newest first is the
// default.
func TestOrderAndPages(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		var all, due []string
		for _, st := range []string{"SUBMITTED", "ACCEPTED", "ASSIGNED", "SUBMITTED", "IN_PROGRESS"} {
			id := w.reach(t, st)
			all = append(all, id)
			if st != "SUBMITTED" {
				due = append(due, id)
			}
		}
		page := func(order map[string]any, after any) ([]string, any) {
			var out struct {
				Requests struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   any
					}
				}
			}
			e.Do(t, w.tokens[aStaff], `query($o: RequestOrder, $a: Cursor) { requests(first: 2, after: $a, orderBy: $o) {
				edges { node { id } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"o": order, "a": after}).Decode(t, &out)
			var ids []string
			for _, ed := range out.Requests.Edges {
				ids = append(ids, ed.Node.ID)
			}
			if !out.Requests.PageInfo.HasNextPage {
				return ids, nil
			}
			return ids, out.Requests.PageInfo.EndCursor
		}
		walk := func(order map[string]any) []string {
			var got []string
			var after any
			for range 10 {
				ids, next := page(order, after)
				got = append(got, ids...)
				if next == nil {
					return got
				}
				after = next
			}
			t.Fatal("pages never end")
			return nil
		}
		for _, dir := range []string{"ASC", "DESC"} {
			// All accepted alike, so due in the order they were accepted.
			got := walk(map[string]any{"field": "DUE_AT", "direction": dir})
			want := slices.Clone(due)
			if dir == "DESC" {
				slices.Reverse(want)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("DUE_AT %s pages: %v, want %v", dir, got, want)
			}
		}
		got := walk(nil)
		want := slices.Clone(all)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Fatalf("default order %v, want newest first %v", got, want)
		}
	})
}
