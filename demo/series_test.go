package demo_test

import (
	"context"
	"testing"

	"linli/demo"
	"linli/linlitest"
	"linli/viewer"
)

// On first start a coordinator of 前进社区 finds the weekly culture-square
// show and the monthly clinic as series, with their occurrences ahead.
func TestDemoSeries(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		if err := e.App.LoadDemo(context.Background()); err != nil {
			t.Fatal(err)
		}
		var d loginData
		for _, a := range demo.Accounts {
			if a.Role == viewer.Coordinator && a.Community == demo.Qianjin {
				login(t, e, a.Phone, a.Password).Decode(t, &d)
			}
		}
		var got struct {
			SeriesList []struct {
				Rrule           string
				RecurringSignup bool
				Occurrences     []struct{ Status string }
			}
		}
		e.Do(t, d.Login.Token, `{ seriesList { rrule recurringSignup occurrences { status } } }`, nil).Decode(t, &got)
		if len(got.SeriesList) != 2 {
			t.Fatalf("%d series, want the weekly show and the monthly clinic", len(got.SeriesList))
		}
		rules := map[string]int{}
		for _, s := range got.SeriesList {
			rules[s.Rrule] = len(s.Occurrences)
		}
		// 8 weeks ahead: the show 8 or 9 times, the clinic twice or so.
		if rules["FREQ=WEEKLY"] < 7 || rules["FREQ=MONTHLY"] < 2 {
			t.Errorf("occurrences by rule %v, want ≥7 weekly shows and ≥2 monthly clinics", rules)
		}
	})
}
