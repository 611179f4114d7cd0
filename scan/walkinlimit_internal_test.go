package scan

import (
	"testing"
	"time"
)

// TestWalkInLimiterBounded: the limiter keeps at most maxWalkInBuckets
// scanners; idle ones (full buckets) make room, and when every kept one is
// busy a new scanner is refused rather than let in unlimited.
func TestWalkInLimiterBounded(t *testing.T) {
	l := newWalkInLimiter(6, 20)
	now := time.Now()
	for i := 1; i <= maxWalkInBuckets; i++ {
		if !l.allow(scanner{kioskID: i}, now) {
			t.Fatalf("kiosk %d refused its first walk-in", i)
		}
	}
	if len(l.m) != maxWalkInBuckets {
		t.Fatalf("%d buckets", len(l.m))
	}
	// All busy: a new kiosk is refused, and nothing grows.
	if l.allow(scanner{kioskID: maxWalkInBuckets + 1}, now) || len(l.m) != maxWalkInBuckets {
		t.Fatalf("a new kiosk was let in with %d busy buckets (now %d)", maxWalkInBuckets, len(l.m))
	}
	// Ten minutes on, every bucket is full again: they make room.
	later := now.Add(10 * time.Minute)
	if !l.allow(scanner{actorID: 1}, later) || len(l.m) != 1 {
		t.Fatalf("idle buckets kept: %d", len(l.m))
	}
	// A staff member and a kiosk with the same number are different scanners.
	for i := 0; i < 20; i++ {
		l.allow(scanner{kioskID: 1}, later)
	}
	if l.allow(scanner{kioskID: 1}, later) || !l.allow(scanner{actorID: 1}, later) {
		t.Fatal("kiosk 1 and person 1 share a bucket")
	}
}
