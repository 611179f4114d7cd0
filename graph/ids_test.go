package graph_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"linli/app"
	"linli/ent"
	"linli/gid"
	"linli/linlitest"
	"linli/viewer"
)

// TestIDsAreNotEnumerable (issue 9: a resident harvested the directory by
// counting through sequential IDs): the IDs of consecutive rows, as the API
// shows them, are neither their internal numbers nor related to one another,
// and without the key they decode to nothing.
func TestIDsAreNotEnumerable(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, staff := e.Person(t, c.ID, "社工", viewer.Coordinator)
		var people []*ent.Person
		for i := range 20 {
			p, _ := e.Person(t, c.ID, fmt.Sprintf("居民%d", i))
			people = append(people, p)
		}
		vars := map[string]any{"ids": linlitest.IDs(func() []int {
			var ids []int
			for _, p := range people {
				ids = append(ids, p.ID)
			}
			return ids
		}()...)}
		var out struct {
			Nodes []struct{ ID, DisplayName string }
		}
		e.Do(t, staff, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Person { displayName } } }`, vars).Decode(t, &out)
		if len(out.Nodes) != len(people) {
			t.Fatalf("%d nodes for %d IDs", len(out.Nodes), len(people))
		}
		stranger, err := gid.New([]byte("somebody else's key, 16+ bytes"))
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range out.Nodes {
			p := people[i]
			if n.DisplayName != p.DisplayName || n.ID != e.ID(p.ID) {
				t.Fatalf("node %d: %+v, want %s as %s", i, n, p.DisplayName, e.ID(p.ID))
			}
			if len(n.ID) != gid.EncodedLen || strings.Contains(n.ID, strconv.Itoa(p.ID)) {
				t.Fatalf("ID %q shows the internal ID %d", n.ID, p.ID)
			}
			if _, err := stranger.Decode(n.ID); err == nil {
				t.Fatalf("ID %q decodes without the key", n.ID)
			}
			if i > 0 {
				prev := out.Nodes[i-1].ID
				if prev[:4] == n.ID[:4] || prev[len(prev)-4:] == n.ID[len(n.ID)-4:] {
					t.Fatalf("consecutive rows' IDs %q and %q share a visible pattern", prev, n.ID)
				}
			}
		}
	})
}

// TestForgedIDsRefused: anything that is not an ID under the deployment's
// key, a raw internal number above all, is VALIDATION_FAILED on the
// argument, never another row or INTERNAL.
func TestForgedIDsRefused(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, token := e.Person(t, c.ID, "居民")
		good := e.ID(p.ID)
		var ok struct{ Node struct{ ID string } }
		e.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": good}).Decode(t, &ok)
		if ok.Node.ID != good {
			t.Fatalf("node(id:) answered %q for %q", ok.Node.ID, good)
		}
		other, err := gid.New([]byte("another deployment's ID key"))
		if err != nil {
			t.Fatal(err)
		}
		flip := func(i int) string {
			b := []byte(good)
			if b[i] = 'a'; good[i] == 'a' {
				b[i] = 'b'
			}
			return string(b)
		}
		bad := map[string]any{
			"raw number":            p.ID,
			"raw number as string":  strconv.Itoa(p.ID),
			"first character":       flip(0),
			"middle character":      flip(13),
			"last character":        flip(gid.EncodedLen - 1),
			"upper case":            strings.ToUpper(good),
			"another key":           other.Encode(p.ID),
			"too short":             good[:20],
			"empty":                 "",
			"a base64 Relay global": "UGVyc29uOjE=",
		}
		for name, v := range bad {
			t.Run(name, func(t *testing.T) {
				res := e.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": v})
				res.WantCode(t, "VALIDATION_FAILED")
				if res.Field() != "id" {
					t.Fatalf("field %q, want id", res.Field())
				}
				if strings.Contains(string(res.Data)+fmt.Sprint(res.Errors), strconv.Itoa(p.ID)) {
					t.Fatalf("the answer echoes the internal ID: %s %+v", res.Data, res.Errors)
				}
			})
		}
		// A well-formed ID of no row (here in no type's range) is not found,
		// and the answer does not name the internal number.
		unknown := 1<<40 + 7
		res := e.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": e.ID(unknown)})
		res.WantCode(t, "NOT_FOUND")
		if strings.Contains(fmt.Sprint(res.Errors), strconv.Itoa(unknown)) {
			t.Fatalf("NOT_FOUND echoes the internal ID: %+v", res.Errors)
		}
		// Literals in the query, lists and input fields alike.
		e.Do(t, token, fmt.Sprintf(`{ node(id: %d) { id } }`, p.ID), nil).WantCode(t, "VALIDATION_FAILED")
		res = e.Do(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []any{good, p.ID}})
		res.WantCode(t, "VALIDATION_FAILED")
		if res.Field() != "ids" {
			t.Fatalf("nodes: field %q, want ids", res.Field())
		}
		_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		res = e.Do(t, token, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`, map[string]any{"s": slots[0].ID})
		res.WantCode(t, "VALIDATION_FAILED")
		if res.Field() != "slotID" {
			t.Fatalf("signUp: field %q, want slotID", res.Field())
		}
	})
}

// TestIDsDifferBetweenKeys: two deployments with different keys give one row
// different IDs, and neither accepts the other's.
func TestIDsDifferBetweenKeys(t *testing.T) {
	other := func(c *app.Config) { c.IDKey = "a second deployment's key" }
	e1 := linlitest.New(t, "sqlite")
	e2 := linlitest.New(t, "sqlite", other)
	c1, c2 := e1.Community(t, "前进社区"), e2.Community(t, "前进社区")
	if c1.ID != c2.ID {
		t.Skipf("fresh databases numbered the first community %d and %d", c1.ID, c2.ID)
	}
	if e1.ID(c1.ID) == e2.ID(c2.ID) {
		t.Fatalf("both keys encode row %d as %q", c1.ID, e1.ID(c1.ID))
	}
	_, token := e2.Person(t, c2.ID, "居民")
	e2.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": e1.ID(c1.ID)}).WantCode(t, "VALIDATION_FAILED")
}
