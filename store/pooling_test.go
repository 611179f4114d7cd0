package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestIsSelect(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT "people"."id" FROM "people"`:                         true,
		"  \n\tselect 1":                                             true,
		`(SELECT 1) UNION (SELECT 2)`:                                true,
		`INSERT INTO "people" ("name") VALUES ($1) RETURNING "id"`:   false,
		`UPDATE "slots" SET "taken" = "taken" + 1 RETURNING "taken"`: false,
		`WITH x AS (DELETE FROM jobs RETURNING id) SELECT * FROM x`:  false,
		`SELEC`: false,
		``:      false,
	} {
		if got := isSelect(q); got != want {
			t.Errorf("isSelect(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestTextJSON(t *testing.T) {
	raw := json.RawMessage(`[60]`)
	bytes := []byte{1, 2}
	in := []any{1, raw, bytes, "s"}
	got := textJSON(in).([]any)
	if want := []any{1, `[60]`, bytes, "s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("textJSON = %#v, want %#v", got, want)
	}
	if _, ok := in[1].(json.RawMessage); !ok {
		t.Error("textJSON changed its argument")
	}
	plain := []any{1, "a"}
	if got := textJSON(plain).([]any); &got[0] != &plain[0] {
		t.Error("textJSON copied arguments without JSON")
	}
	if got := textJSON(nil); got != nil {
		t.Errorf("textJSON(nil) = %v", got)
	}
}

func TestPooledURL(t *testing.T) {
	got, err := pooledURL("postgres://linli@127.0.0.1:6432/linli?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://linli@127.0.0.1:6432/linli?binary_parameters=yes&sslmode=disable"; got != want {
		t.Errorf("pooledURL = %q, want %q", got, want)
	}
}
