package series_test

import (
	"testing"
	"time"

	"linli/cst"
	"linli/linlitest"
	"linli/viewer"
)

// An activity saved as a template gives drafts like it at another time;
// a copy takes its slots and none of its sign-ups.
func TestTemplatesAndCopy(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		_, res := e.Person(t, c.ID, "居民")
		start := time.Date(2027, 5, 4, 9, 0, 0, 0, cst.Zone)
		src := draft(t, e, coord, start, []map[string]any{{"name": "坐诊医生", "kind": "VOLUNTEER", "capacity": 3},
			{"name": "义诊名额", "capacity": 40}})
		e.Do(t, coord, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": src}).Decode(t, &struct{}{})
		var reg struct {
			Activity struct{ Slots []struct{ ID string } } `json:"node"`
		}
		e.Do(t, coord, `query($id: ID!) { node(id: $id) { ... on Activity { slots { id } } } }`, map[string]any{"id": src}).Decode(t, &reg)
		e.Do(t, res, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`, map[string]any{"s": reg.Activity.Slots[1].ID}).Decode(t, &struct{}{})

		save := `mutation($a: ID!, $n: String!) { saveActivityTemplate(activityID: $a, name: $n) { id name startMinute durationMinutes slots { name kind capacity } } }`
		e.Do(t, res, save, map[string]any{"a": src, "n": "义诊"}).WantCode(t, "FORBIDDEN")
		e.Do(t, coord, save, map[string]any{"a": src, "n": ""}).WantCode(t, "VALIDATION_FAILED")
		var saved struct {
			SaveActivityTemplate struct {
				ID              string
				StartMinute     int
				DurationMinutes int
				Slots           []struct {
					Name, Kind string
					Capacity   int
				}
			}
		}
		e.Do(t, coord, save, map[string]any{"a": src, "n": "义诊"}).Decode(t, &saved)
		tp := saved.SaveActivityTemplate
		if tp.StartMinute != 9*60 || tp.DurationMinutes != 120 || len(tp.Slots) != 2 || tp.Slots[0].Kind != "VOLUNTEER" || tp.Slots[1].Capacity != 40 {
			t.Fatalf("template %+v", tp)
		}
		check := func(what, id string, at time.Time) {
			t.Helper()
			var got struct {
				Node struct {
					Status   string
					StartsAt time.Time
					EndsAt   time.Time
					Slots    []struct {
						Name     string
						Capacity int
						Taken    int
					}
				}
			}
			e.Do(t, coord, `query($id: ID!) { node(id: $id) { ... on Activity { status startsAt endsAt slots { name capacity taken } } } }`,
				map[string]any{"id": id}).Decode(t, &got)
			a := got.Node
			if a.Status != "DRAFT" || !a.StartsAt.Equal(at) || a.EndsAt.Sub(a.StartsAt) != 2*time.Hour || len(a.Slots) != 2 ||
				a.Slots[1].Name != "义诊名额" || a.Slots[1].Capacity != 40 || a.Slots[1].Taken != 0 {
				t.Errorf("%s: %+v", what, a)
			}
		}
		next := start.AddDate(0, 1, 0)
		var fromT struct{ CreateActivityFromTemplate struct{ ID string } }
		e.Do(t, coord, `mutation($t: ID!, $at: Time!) { createActivityFromTemplate(templateID: $t, startsAt: $at) { id } }`,
			map[string]any{"t": tp.ID, "at": next.UTC()}).Decode(t, &fromT)
		check("from template", fromT.CreateActivityFromTemplate.ID, next)
		var cp struct{ CopyActivity struct{ ID string } }
		later := start.AddDate(0, 0, 7)
		e.Do(t, coord, `mutation($a: ID!, $at: Time!) { copyActivity(activityID: $a, startsAt: $at) { id } }`,
			map[string]any{"a": src, "at": later.UTC()}).Decode(t, &cp)
		check("copy", cp.CopyActivity.ID, later)
		var list struct{ ActivityTemplates []struct{ Name string } }
		e.Do(t, coord, `{ activityTemplates { name } }`, nil).Decode(t, &list)
		if len(list.ActivityTemplates) != 1 || list.ActivityTemplates[0].Name != "义诊" {
			t.Errorf("templates %+v", list.ActivityTemplates)
		}
		// Another community's staff see no template and cannot copy.
		c2 := e.Community(t, "红旗社区")
		_, other := e.Person(t, c2.ID, "社工", viewer.Coordinator)
		e.Do(t, other, `{ activityTemplates { name } }`, nil).Decode(t, &list)
		if len(list.ActivityTemplates) != 0 {
			t.Errorf("another community sees %+v", list.ActivityTemplates)
		}
		e.Do(t, other, `mutation($a: ID!, $at: Time!) { copyActivity(activityID: $a, startsAt: $at) { id } }`,
			map[string]any{"a": src, "at": later.UTC()}).WantCode(t, "NOT_FOUND")
	})
}
