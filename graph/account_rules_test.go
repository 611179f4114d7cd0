package graph_test

import (
	"testing"

	"linli/linlitest"
)

// A short phone (a landline) is masked as much as a mobile number: others
// see at most a third of it, not 123*5678.
func TestShortPhoneMasked(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		if err := e.Client.Person.UpdateOneID(w.resAPerson.ID).SetPhone("12345678").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		q := `query($id: ID!) { node(id: $id) { ... on Person { phone } } }`
		for token, want := range map[string]string{w.volA: "1******8", w.resA: "12345678", w.coordA: "12345678"} {
			var got struct{ Node struct{ Phone string } }
			e.Do(t, token, q, map[string]any{"id": id(w.resAPerson.ID)}).Decode(t, &got)
			if got.Node.Phone != want {
				t.Errorf("phone %q, want %q", got.Node.Phone, want)
			}
		}
	})
}
