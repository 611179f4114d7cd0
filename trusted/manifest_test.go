package trusted_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"linli/trusted"
)

// Both manifest shapes clients' build tools write are read; a manifest that
// could not work (a hash not of its document, nothing listed, another
// format) is refused at start.
func TestParseManifest(t *testing.T) {
	q := `query Me { me { displayName } }`
	h := trusted.Hash(q)
	apollo, _ := json.Marshal(map[string]any{
		"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{{"id": h, "name": "Me", "type": "query", "body": q}},
	})
	object, _ := json.Marshal(map[string]string{h: q})
	upper, _ := json.Marshal(map[string]string{strings.ToUpper(h): q})
	for name, data := range map[string][]byte{"apollo": apollo, "object": object, "upper-case hash": upper} {
		m, err := trusted.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d, ok := m.Document(context.Background(), h); !ok || d != q || len(m) != 1 {
			t.Errorf("%s: %v", name, m)
		}
	}

	wrong, _ := json.Marshal(map[string]string{trusted.Hash("other"): q})
	dup, _ := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{{"id": h, "body": q}, {"id": h, "body": q}}})
	for name, data := range map[string]string{
		"hash of another document": string(wrong),
		"listed twice":             string(dup),
		"empty object":             `{}`,
		"no operations":            `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": []}`,
		"other format":             `{"format": "something-else", "version": 1, "operations": []}`,
		"version 2":                `{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}`,
		"empty document":           `{"` + trusted.Hash("") + `": ""}`,
		"not JSON":                 `query Me { me { id } }`,
		"a list":                   `["` + q + `"]`,
	} {
		if _, err := trusted.Parse([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
