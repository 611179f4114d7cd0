package httpapi_test

import (
	"testing"

	"linli/linlitest"
)

// atoi reads an ID the API returned.
func atoi(t *testing.T, s string) int {
	t.Helper()
	return linlitest.IntID(t, s)
}

func id(i int) string { return linlitest.ID(i) }
