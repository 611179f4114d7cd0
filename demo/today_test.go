package demo_test

import (
	"context"
	"testing"
	"time"

	"linli/demo"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/ent/venue"
	"linli/linlitest"
)

// TestDemoToday: whatever the server's clock says, every demo venue has an
// activity under way and one starting soon, with sign-ups whose counters
// equal a recount; a second start adds nothing; and the kiosk flow works at
// once: the coordinator registers a kiosk at the square, which checks the
// demo volunteer in for the activity starting soon.
func TestDemoToday(t *testing.T) {
	runDemo(t, func(t *testing.T, e *linlitest.Env) {
		ctx := e.Sys()
		now := time.Now()
		added, err := demo.Today(context.Background(), e.Client, now)
		if err != nil {
			t.Fatal(err)
		}
		venues := e.Client.Venue.Query().AllX(ctx)
		if added != 2*len(venues) || len(venues) < 5 {
			t.Fatalf("added %d activities for %d venues", added, len(venues))
		}
		for _, v := range venues {
			acts := e.Client.Activity.Query().Where(activity.VenueID(v.ID), activity.StatusEQ(activity.StatusPUBLISHED),
				activity.EndsAtGT(now), activity.StartsAtLT(now.Add(3*time.Hour))).WithSlots().AllX(ctx)
			under, soon := 0, 0
			for _, a := range acts {
				if a.StartsAt.Before(now) {
					under++
				} else {
					soon++
				}
				for _, sl := range a.Edges.Slots {
					regs := e.Client.Registration.Query().Where(registration.SlotID(sl.ID)).AllX(ctx)
					taken, in := 0, 0
					for _, r := range regs {
						taken += r.Seats
						if r.Status == registration.StatusCHECKED_IN {
							in += r.Seats
						}
					}
					if sl.Taken != taken || sl.CheckedIn != in || taken > sl.Capacity {
						t.Fatalf("%s/%s: taken %d checked in %d, recount %d %d", a.Title, sl.Name, sl.Taken, sl.CheckedIn, taken, in)
					}
				}
			}
			if under < 1 || soon < 1 {
				t.Fatalf("venue %s: %d under way, %d starting soon", v.Name, under, soon)
			}
		}
		if again, err := demo.Today(context.Background(), e.Client, now.Add(time.Minute)); err != nil || again != 0 {
			t.Fatalf("a second start added %d (%v)", again, err)
		}

		// The kiosk flow, through the API.
		var d loginData
		login(t, e, "13800000001", "qianjin-coord").Decode(t, &d)
		sq := e.Client.Venue.Query().Where(venue.Name("社区广场")).FirstX(ctx)
		var k struct{ RegisterKiosk struct{ Token string } }
		e.Do(t, d.Login.Token, `mutation($v: ID!) { registerKiosk(venueID: $v, name: "广场平板") { token } }`,
			map[string]any{"v": e.ID(sq.ID)}).Decode(t, &k)
		soon := e.Client.Activity.Query().Where(activity.VenueID(sq.ID), activity.StartsAtGT(now)).
			Order(ent.Asc(activity.FieldStartsAt)).FirstX(ctx)
		reg := e.Client.Registration.Query().Where(registration.ActivityID(soon.ID),
			registration.HasPersonWith(person.Phone("13800000003")), registration.HasSlotWith(slot.KindEQ(slot.KindVOLUNTEER))).OnlyX(ctx)
		var res struct {
			CheckIn struct{ Status, Message string }
		}
		e.Do(t, k.RegisterKiosk.Token, `mutation($c: String!) { checkIn(input: {code: $c, nonce: "demo-1"}) { status message } }`,
			map[string]any{"c": reg.CheckInCode}).Decode(t, &res)
		if res.CheckIn.Status != "OK" {
			t.Fatalf("the demo volunteer at the kiosk: %+v", res.CheckIn)
		}
	})
}
