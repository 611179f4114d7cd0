package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLockoutRules(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	l := NewLockout(3, 2, 15*time.Minute, 10*time.Minute)
	l.now = func() time.Time { return now }
	locked := func(phone, addr string) bool { return l.Check(phone, addr) != nil }

	for range 2 {
		l.Failed("13800000004", "203.0.113.7")
	}
	if locked("13800000004", "203.0.113.7") {
		t.Fatal("locked after 2 failures, want 3")
	}
	l.Succeeded("13800000004", "203.0.113.7")
	l.Failed("13800000004", "203.0.113.7")
	l.Failed("13800000004", "203.0.113.7")
	if locked("13800000004", "203.0.113.7") {
		t.Fatal("a success should reset the pair's count")
	}
	l.Failed("13800000004", "203.0.113.7")
	if !locked("13800000004", "203.0.113.7") {
		t.Fatal("not locked after 3 failures")
	}
	if locked("13800000004", "198.51.100.1") || locked("13800000005", "203.0.113.7") {
		t.Fatal("a pair's lock reached another address or phone")
	}
	// IPv6 addresses count by their /64.
	l.Failed("13800000006", "2001:db8::1")
	l.Failed("13800000006", "2001:db8::2")
	l.Failed("13800000006", "2001:db8::3")
	if !locked("13800000006", "2001:db8::ffff") {
		t.Fatal("a /64 should be one source")
	}
	// The lock ends by itself.
	now = now.Add(11 * time.Minute)
	if locked("13800000004", "203.0.113.7") {
		t.Fatal("still locked after LockFor")
	}
	// Failures from two sources lock the phone everywhere; Unlock lifts it.
	l.Failed("13800000007", "192.0.2.1")
	l.Failed("13800000007", "192.0.2.2")
	if !locked("13800000007", "198.51.100.9") {
		t.Fatal("phone not locked after failures from 2 sources")
	}
	l.Unlock("13800000007")
	if locked("13800000007", "198.51.100.9") || locked("13800000007", "192.0.2.1") {
		t.Fatal("Unlock left a lock")
	}
	// A nil Lockout locks nothing.
	var none *Lockout
	none.Failed("1", "2")
	if none.Check("1", "2") != nil {
		t.Fatal("nil lockout locked")
	}
}

func TestLockoutIsBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	l := NewLockout(3, 1000, 15*time.Minute, 10*time.Minute)
	l.MaxEntries = 100
	l.now = func() time.Time { return now }
	for i := range 1000 {
		now = now.Add(time.Millisecond)
		l.Failed(fmt.Sprintf("139%08d", i), "203.0.113.7")
	}
	if n := l.Locks(); n > 2*l.MaxEntries {
		t.Fatalf("%d entries, bound %d", n, 2*l.MaxEntries)
	}
}
