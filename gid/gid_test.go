package gid_test

import (
	"strings"
	"testing"

	"linli/gid"
)

func codec(t testing.TB, key string) *gid.Codec {
	t.Helper()
	c, err := gid.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTripAndShape(t *testing.T) {
	c := codec(t, "a key of sixteen bytes or more")
	seen := map[string]bool{}
	for _, id := range []int{1, 2, 3, 1<<32 + 1, 1<<32 + 2, 17179869184 + 425, 1<<62 - 1} {
		s := c.Encode(id)
		if len(s) != gid.EncodedLen || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("Encode(%d) = %q: not 26 lower-case base32 characters", id, s)
		}
		if seen[s] {
			t.Fatalf("Encode(%d) = %q twice", id, s)
		}
		seen[s] = true
		if got, err := c.Decode(s); err != nil || got != id {
			t.Fatalf("Decode(Encode(%d)) = %d, %v", id, got, err)
		}
		if string(c.AppendEncoded([]byte("x"), id)) != "x"+s {
			t.Fatalf("AppendEncoded(%d) differs from Encode", id)
		}
	}
}

// Consecutive IDs share no prefix or suffix beyond chance: the encoding is a
// keyed permutation, not a counter in disguise.
func TestConsecutiveIDsShareNoPattern(t *testing.T) {
	c := codec(t, "a key of sixteen bytes or more")
	const n = 1000
	prev := c.Encode(17179869184 + 1)
	same := 0
	for id := 17179869184 + 2; id < 17179869184+n; id++ {
		s := c.Encode(id)
		for i := range s {
			if s[i] == prev[i] {
				same++
			}
		}
		prev = s
	}
	// 1/32 of the positions agree by chance: ~ 26·999/32 ≈ 811.
	if max := 26 * n / 32 * 3 / 2; same > max {
		t.Fatalf("consecutive IDs agree on %d character positions (chance: about %d)", same, 26*n/32)
	}
}

func TestDecodeRefusesAnythingElse(t *testing.T) {
	c := codec(t, "a key of sixteen bytes or more")
	other := codec(t, "another key of sixteen bytes")
	s := c.Encode(17179869184 + 7)
	bad := []string{"", "1", "17179869191", s[:25], s + "a", strings.ToUpper(s), other.Encode(17179869184 + 7)}
	// Every single-character change.
	for i := range s {
		for _, r := range "abcdefghijklmnopqrstuvwxyz234567" {
			if byte(r) != s[i] {
				bad = append(bad, s[:i]+string(r)+s[i+1:])
			}
		}
	}
	for _, b := range bad {
		if id, err := c.Decode(b); err == nil {
			t.Fatalf("Decode(%q) = %d, want an error (valid: %q)", b, id, s)
		}
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	if _, err := gid.New([]byte("short")); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

func BenchmarkEncode(b *testing.B) {
	c := codec(b, "a key of sixteen bytes or more")
	buf := make([]byte, 0, 32)
	for i := 0; b.Loop(); i++ {
		buf = c.AppendEncoded(buf[:0], 17179869184+i)
	}
}

func BenchmarkDecode(b *testing.B) {
	c := codec(b, "a key of sixteen bytes or more")
	s := c.Encode(17179869184 + 5)
	for b.Loop() {
		if _, err := c.Decode(s); err != nil {
			b.Fatal(err)
		}
	}
}
