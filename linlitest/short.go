package linlitest

import "testing"

// The -short inner loop (go test -short ./..., or scripts/test -short):
// the table tests of the pure rules, and each package's tests through the
// API on SQLite alone; the slow end-to-end tests (node and Chromium
// clients, sign-up storms, killed servers, goroutine-leak cycles) are
// skipped. The full suite, without -short, runs everything on both
// databases; a change is done when it passes.

// Slow skips t in the -short loop: an end-to-end, storm or crash test
// that the full suite runs.
func Slow(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow end-to-end test: runs without -short")
	}
}

// shortSkip skips the PostgreSQL half of Run in the -short loop.
func shortSkip(t testing.TB, backend string) {
	t.Helper()
	if testing.Short() && backend != "sqlite" {
		t.Skip("-short runs on SQLite only; the full suite runs PostgreSQL too")
	}
}
