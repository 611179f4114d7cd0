package demo

import (
	"reflect"
	"testing"
	"time"
)

func TestPlanIsDeterministic(t *testing.T) {
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	a, b := buildPlan(now), buildPlan(now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans for the same instant differ")
	}
	phones := map[string]bool{}
	for _, c := range a {
		for _, p := range c.people {
			if phones[p.phone] {
				t.Fatalf("phone %s used twice", p.phone)
			}
			phones[p.phone] = true
		}
	}
}
