package graph_test

import (
	"strconv"
	"testing"
)

// atoi reads an ID the API returned.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
