package organize_test

import (
	"fmt"
	"testing"
	"time"

	"linli/ent/slot"
	"linli/linlitest"
	"linli/organize"
	"linli/viewer"
)

// An activity holds at most organize.MaxSlots slots however they are added:
// in one createActivity, in one updateActivity, or a few at a time over
// many updates (which once grew one activity to 9,113 slots and made every
// resident's browsing query too big to answer). The refused update changes
// nothing.
func TestSlotsAreBounded(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
		seats := func(n int) []map[string]any {
			out := make([]map[string]any, n)
			for i := range out {
				out[i] = map[string]any{"name": fmt.Sprintf("座位%d", i), "capacity": 10}
			}
			return out
		}
		in := map[string]any{"title": "文化广场演出", "category": "SQUARE", "serviceType": "CULTURE",
			"startsAt": start, "endsAt": start.Add(2 * time.Hour)}
		create := `mutation($in: CreateActivityInput!, $slots: [SlotInput!]!) { createActivity(input: $in, slots: $slots) { id } }`
		e.Do(t, coord, create, map[string]any{"in": in, "slots": seats(organize.MaxSlots + 1)}).WantCode(t, "VALIDATION_FAILED")

		var created struct{ CreateActivity struct{ ID string } }
		e.Do(t, coord, create, map[string]any{"in": in, "slots": seats(organize.MaxSlots - 3)}).Decode(t, &created)
		update := `mutation($id: ID!, $slots: [SlotInput!]) { updateActivity(id: $id, input: {}, slots: $slots) { id } }`
		vars := func(n int) map[string]any { return map[string]any{"id": created.CreateActivity.ID, "slots": seats(n)} }
		e.Do(t, coord, update, vars(organize.MaxSlots+1)).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, coord, update, vars(3)).Decode(t, &struct{}{})
		for range 5 {
			if res := e.Do(t, coord, update, vars(2)); res.Code() != "VALIDATION_FAILED" || res.Field() != "slots" {
				t.Fatalf("adding 2 slots to a full activity: %q on %q, want VALIDATION_FAILED on slots", res.Code(), res.Field())
			}
		}
		n, err := e.Client.Slot.Query().Where(slot.ActivityIDEQ(e.IntID(t, created.CreateActivity.ID))).Count(e.Sys())
		if err != nil {
			t.Fatal(err)
		}
		if n != organize.MaxSlots {
			t.Errorf("%d slots, want %d", n, organize.MaxSlots)
		}
	})
}
