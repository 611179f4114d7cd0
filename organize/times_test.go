package organize_test

import (
	"encoding/json"
	"testing"
	"time"

	"linli/linlitest"
	"linli/viewer"
)

// Times outside any sane range (year 0001 was published once and broke
// every resident's activities list), an activity that ends when or before
// it starts, and a sign-up window that closes before it opens are refused
// with VALIDATION_FAILED naming the field, on create and on change, for the
// activity and for its slots.
func TestTimesAreValidated(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
		ancient := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		input := func(change func(map[string]any)) map[string]any {
			in := map[string]any{"title": "健康讲座", "category": "HALL", "serviceType": "HEALTH",
				"startsAt": start, "endsAt": start.Add(2 * time.Hour)}
			change(in)
			return in
		}
		create := `mutation($in: CreateActivityInput!, $slots: [SlotInput!]!) { createActivity(input: $in, slots: $slots) { id } }`
		seat := []map[string]any{{"name": "座位", "capacity": 10}}
		for _, tc := range []struct {
			name, field string
			in          map[string]any
			slots       []map[string]any
		}{
			{"year 0001", "startsAt", input(func(m map[string]any) { m["startsAt"] = ancient; m["endsAt"] = ancient.Add(time.Hour) }), seat},
			{"year 2200", "startsAt", input(func(m map[string]any) { m["startsAt"] = far; m["endsAt"] = far.Add(time.Hour) }), seat},
			{"ends at its start", "endsAt", input(func(m map[string]any) { m["endsAt"] = start }), seat},
			{"ends before its start", "endsAt", input(func(m map[string]any) { m["endsAt"] = start.Add(-time.Hour) }), seat},
			{"sign-up opens in year 0001", "signupOpensAt", input(func(m map[string]any) { m["signupOpensAt"] = ancient }), seat},
			{"sign-up closes when it opens", "signupClosesAt", input(func(m map[string]any) {
				m["signupOpensAt"] = start.Add(-48 * time.Hour)
				m["signupClosesAt"] = start.Add(-48 * time.Hour)
			}), seat},
			{"sign-up closes before it opens", "signupClosesAt", input(func(m map[string]any) {
				m["signupOpensAt"] = start.Add(-24 * time.Hour)
				m["signupClosesAt"] = start.Add(-48 * time.Hour)
			}), seat},
			{"sign-up opens at the end", "signupOpensAt", input(func(m map[string]any) { m["signupOpensAt"] = start.Add(2 * time.Hour) }), seat},
			{"slot in year 0001", "slots[0].startsAt", input(func(map[string]any) {}),
				[]map[string]any{{"name": "座位", "capacity": 10, "startsAt": ancient}}},
			{"slot ending at its start", "slots[0].endsAt", input(func(map[string]any) {}),
				[]map[string]any{{"name": "座位", "capacity": 10, "startsAt": start, "endsAt": start}}},
		} {
			res := e.Do(t, coord, create, map[string]any{"in": tc.in, "slots": tc.slots})
			if res.Code() != "VALIDATION_FAILED" || res.Field() != tc.field {
				t.Errorf("%s: code %q field %q, want VALIDATION_FAILED on %s (%s)", tc.name, res.Code(), res.Field(), tc.field, res.Data)
			}
		}

		// A sane activity is created; changing it is held to the same rules.
		var created struct{ CreateActivity struct{ ID string } }
		e.Do(t, coord, create, map[string]any{"in": input(func(map[string]any) {}), "slots": seat}).Decode(t, &created)
		aid := created.CreateActivity.ID
		update := `mutation($id: ID!, $in: UpdateActivityInput!, $slots: [SlotInput!]) { updateActivity(id: $id, input: $in, slots: $slots) { id } }`
		for _, tc := range []struct {
			name, field string
			in          map[string]any
			slots       []map[string]any
		}{
			{"ends in year 2200", "endsAt", map[string]any{"endsAt": far}, nil},
			{"starts in year 0001", "startsAt", map[string]any{"startsAt": ancient}, nil},
			{"ends at its start", "endsAt", map[string]any{"endsAt": start}, nil},
			{"sign-up closes in year 0001", "signupClosesAt", map[string]any{"signupClosesAt": ancient}, nil},
			{"a new slot in year 2200", "slots[0].endsAt", map[string]any{}, []map[string]any{{"name": "志愿者", "kind": "VOLUNTEER", "capacity": 2, "endsAt": far}}},
		} {
			res := e.Do(t, coord, update, map[string]any{"id": aid, "in": tc.in, "slots": tc.slots})
			if res.Code() != "VALIDATION_FAILED" || res.Field() != tc.field {
				t.Errorf("update %s: code %q field %q, want VALIDATION_FAILED on %s (%s)", tc.name, res.Code(), res.Field(), tc.field, res.Data)
			}
		}

		// Nothing refused was stored: the resident's list (after publishing
		// the one good activity) holds exactly it, with sane times.
		e.Do(t, coord, `mutation($id: ID!) { publishActivity(id: $id) { id } }`, map[string]any{"id": aid}).Decode(t, &struct{}{})
		_, resident := e.Person(t, c.ID, "居民")
		res := e.Do(t, resident, `{ activities(first: 50) { totalCount edges { node { id startsAt endsAt slots { startsAt endsAt } } } } }`, nil)
		var list struct {
			Activities struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						ID               string
						StartsAt, EndsAt time.Time
					}
				}
			}
		}
		if err := json.Unmarshal(res.Data, &list); err != nil || len(res.Errors) > 0 {
			t.Fatalf("resident's list: %s %+v", res.Data, res.Errors)
		}
		if list.Activities.TotalCount != 1 || list.Activities.Edges[0].Node.ID != aid || !list.Activities.Edges[0].Node.StartsAt.Equal(start) {
			t.Errorf("resident's list: %s", res.Data)
		}
	})
}
