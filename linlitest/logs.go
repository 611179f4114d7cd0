package linlitest

import (
	"log/slog"
	"strings"
	"sync"

	"linli/app"
)

// Logs collects what an app logs (text handler, info and above), safe for
// the goroutines slog handlers write from.
type Logs struct {
	mu sync.Mutex
	b  strings.Builder
}

// CaptureLogs returns a collector and the Option that sends an Env's logs
// to it.
func CaptureLogs() (*Logs, Option) {
	l := &Logs{}
	return l, func(c *app.Config) {
		c.Logger = slog.New(slog.NewTextHandler(l, nil))
	}
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines counts the lines logged at level ("ERROR", "WARN", …).
func (l *Logs) Lines(level string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		if strings.Contains(line, "level="+level) {
			n++
		}
	}
	return n
}
