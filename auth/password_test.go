package auth

import (
	"fmt"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("unexpected encoding %q", h)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "correct horsE") || CheckPassword(NoPassword, "") {
		t.Error("CheckPassword accepts or rejects wrongly")
	}
	for _, bad := range []string{"", "$argon2id$", h[:len(h)-3] + "!!!", strings.Replace(h, "argon2id", "argon2i", 1)} {
		if CheckPassword(bad, "correct horse") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(60, 2) // 1/s per phone, 4/s per address, burst 2 per phone and 8 per address
	ok := 0
	for i := 0; i < 5; i++ {
		if l.Allow("login", "13800000000", "10.0.0.1") == nil {
			ok++
		}
	}
	if ok != 2 {
		t.Errorf("per-phone burst: %d allowed, want 2", ok)
	}
	// Other phones from the same address share the address bucket (8), which
	// the five attempts above (refused or not) already drew from.
	ok = 0
	for i := 0; i < 20; i++ {
		if l.Allow("login", NextTestPhone(i), "10.0.0.1") == nil {
			ok++
		}
	}
	if ok != 3 {
		t.Errorf("per-address burst: %d allowed, want 3", ok)
	}
	var nilLimiter *Limiter
	if nilLimiter.Allow("login", "x", "y") != nil {
		t.Error("nil limiter refused")
	}
}

func NextTestPhone(i int) string { return fmt.Sprintf("137%08d", i) }
