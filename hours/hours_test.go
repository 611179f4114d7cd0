package hours_test

import (
	"testing"

	"linli/hours"
)

func TestStarLevel(t *testing.T) {
	for _, c := range []struct {
		hours float64
		want  int
	}{{0, 0}, {99.9, 0}, {100, 1}, {299, 1}, {300, 2}, {600, 3}, {999, 3}, {1000, 4}, {1500, 5}, {9000, 5}} {
		if got := hours.StarLevel(c.hours, nil); got != c.want {
			t.Errorf("StarLevel(%v) = %d, want %d", c.hours, got, c.want)
		}
	}
	if got := hours.StarLevel(250, []int{50, 200, 400}); got != 2 {
		t.Errorf("custom thresholds: %d", got)
	}
}
