package graph_test

import (
	"log"
	"testing"

	"linli/linlitest"
)

// atoi reads an ID the API returned.
func atoi(t *testing.T, s string) int {
	t.Helper()
	return linlitest.IntID(t, s)
}

// firstMessage is the first error's message, or "".
func firstMessage(r *linlitest.Result) string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

// captureLogs sends the app's logs, and what the standard library's log
// package prints (gqlgen logs through it), to one collector.
func captureLogs(t *testing.T) (*linlitest.Logs, linlitest.Option) {
	logs, logTo := linlitest.CaptureLogs()
	prev := log.Writer()
	log.SetOutput(logs)
	t.Cleanup(func() { log.SetOutput(prev) })
	return logs, logTo
}
