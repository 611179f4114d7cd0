package idem

import (
	"bytes"
	"strings"
	"testing"

	"linli/apperr"
	"linli/ent"
)

func TestDecide(t *testing.T) {
	h := Hash("signUp", 7, 1, false)
	cases := []struct {
		name   string
		stored *ent.IdempotencyKey
		scope  string
		hash   []byte
		want   Outcome
	}{
		{"no key remembered", nil, "signUp", h, New},
		{"same scope, same request", &ent.IdempotencyKey{Operation: "signUp", RequestHash: h}, "signUp", h, Replay},
		{"same scope, other request", &ent.IdempotencyKey{Operation: "signUp", RequestHash: h}, "signUp", Hash("signUp", 7, 2, false), Conflict},
		{"other scope, same parts", &ent.IdempotencyKey{Operation: "signUp", RequestHash: h}, "recordVisit", Hash("recordVisit", 7, 1, false), Conflict},
		{"other scope, identical hash bytes", &ent.IdempotencyKey{Operation: "signUp", RequestHash: h}, "recordVisit", h, Conflict},
	}
	for _, c := range cases {
		if got := Decide(c.stored, c.scope, c.hash); got != c.want {
			t.Errorf("%s: Decide = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHash(t *testing.T) {
	a, b := Hash("s", 1, "x"), Hash("s", 1, "x")
	if !bytes.Equal(a, b) {
		t.Fatal("Hash is not deterministic")
	}
	distinct := [][]byte{a, Hash("s", 1, "y"), Hash("t", 1, "x"), Hash("s", "1x"), Hash("s", 1, "x", ""), Hash("s")}
	for i := range distinct {
		for j := i + 1; j < len(distinct); j++ {
			if bytes.Equal(distinct[i], distinct[j]) {
				t.Errorf("Hash %d and %d collide", i, j)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Validate("idempotencyKey", strings.Repeat("k", MaxKeyBytes)); err != nil {
		t.Fatalf("a key of %d bytes: %v", MaxKeyBytes, err)
	}
	err := Validate("input.idempotencyKey", strings.Repeat("k", MaxKeyBytes+1))
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.ValidationFailed || e.Field != "input.idempotencyKey" {
		t.Fatalf("a long key: %v", err)
	}
	if e, _ := apperr.As(ConflictError("idempotencyKey")); e == nil || e.Code != apperr.Conflict {
		t.Fatal("ConflictError is not CONFLICT")
	}
}
