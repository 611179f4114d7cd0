package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// clock is a settable time for limiter tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiterBoundsBuckets(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(10, 5, 1000, c.now)
	// 20,000 distinct phones from 5,000 addresses (four each, inside the
	// address burst), and junk keys of 100 KB: the table never passes its cap.
	junk := strings.Repeat("9", 100<<10)
	for i := range 20_000 {
		_ = l.Allow("login", fmt.Sprintf("1390000%04d", i), fmt.Sprintf("10.%d.%d.%d", i/4/65536, i/4/256%256, i/4%256))
		if i%1000 == 0 {
			_ = l.Allow("login", junk+fmt.Sprint(i), "")
		}
		if n := l.Buckets(); n > 1000 {
			t.Fatalf("after %d attempts %d buckets, cap 1000", i+1, n)
		}
	}
	for k := range l.buckets {
		if len(k) > len("register")+2+maxKeyValue {
			t.Fatalf("key of %d bytes kept", len(k))
		}
	}
	// Refilled buckets are forgotten.
	c.t = c.t.Add(2 * time.Minute)
	_ = l.Allow("login", "13800000001", "10.0.0.1")
	if n := l.Buckets(); n > 2 {
		t.Errorf("%d buckets kept after every bucket refilled", n)
	}
}

func TestLimiterAddressFirst(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(10, 5, 1000, c.now)
	const addr = "203.0.113.7"
	for i := range 20 { // the address burst (4 × 5)
		if err := l.Allow("login", fmt.Sprintf("1390000%04d", i), addr); err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
	}
	before := l.Buckets()
	for i := range 500 {
		if err := l.Allow("login", fmt.Sprintf("1370000%04d", i), addr); err == nil {
			t.Fatalf("attempt %d past the address burst allowed", i)
		}
	}
	if n := l.Buckets(); n != before {
		t.Errorf("refused attempts created %d buckets", n-before)
	}
	// IPv6 addresses of one /64 share a bucket.
	for i := range 20 {
		_ = l.Allow("login", "", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if err := l.Allow("login", "", "2001:db8:1:2:ffff::1"); err == nil {
		t.Error("a new address in the same /64 got a fresh bucket")
	}
}

// An attacker who floods the table with new phones cannot flush the bucket
// of a phone whose password they were guessing.
func TestLimiterEvictionKeepsDrainedBuckets(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	l := newLimiter(10, 5, 1000, c.now)
	const victim = "13800000004"
	for i := range 5 {
		if err := l.Allow("login", victim, fmt.Sprintf("198.51.100.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10_000 {
		_ = l.Allow("login", fmt.Sprintf("1390000%04d", i), fmt.Sprintf("10.%d.%d.%d", i/4/65536, i/4/256%256, i/4%256))
	}
	if err := l.Allow("login", victim, "192.0.2.1"); err == nil {
		t.Error("the flood reset the victim's bucket")
	}
}
