package app

import (
	"os"
	"runtime/debug"
)

// tuneRuntime sets the garbage collector the way a linli server runs: a
// GraphQL response allocates many small, short-lived objects (gqlgen builds a
// field context per field), and with Go's default GOGC=100 collection took a
// quarter of the CPU of a 50-activity page. GOGC=400 trades some heap for
// that CPU; a soft memory limit makes the collector work harder again before
// the heap gets large. GOGC and GOMEMLIMIT in the environment win.
func tuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
