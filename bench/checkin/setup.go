package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"net/http/httptest"
	"strconv"
	"time"

	"linli/app"
	"linli/bench/load"
	"linli/ent"
	"linli/linlitest"
	"linli/viewer"
)

// bench is linli running in-process over the scratch database with its
// kiosks, activities and registrations, and a bare pool for the raw side.
type bench struct {
	app      *app.App
	srv      *httptest.Server
	raw      *sql.DB
	cid      int
	venueID  int
	staff    string
	kiosks   []string
	kioskIDs []int
	// activities and regs: every registration, with what the raw side needs.
	activities []int
	regs       []registration
	close      func()
}

type registration struct {
	id, activityID int
	code           string
}

func setUp(ctx context.Context, dbURL string, pool, kiosks, activities, n int) (*bench, error) {
	// linli exactly as server builds it, from operator flags only.
	a := load.Start(ctx, "-database-url", dbURL, "-login-rate", "0", "-request-timeout", "1m",
		"-db-max-conns", strconv.Itoa(pool),
		// One staff token watches every activity, a socket each.
		"-max-connections-per-person", "-1")
	b := &bench{app: a, srv: httptest.NewServer(a.Handler())}
	var err error
	b.raw, err = sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	b.raw.SetMaxOpenConns(pool)
	b.raw.SetMaxIdleConns(pool)
	b.close = func() { b.srv.Close(); b.raw.Close(); a.Close() }

	sys := viewer.System(ctx)
	client := a.DB.Client
	c, err := client.Community.Create().SetName("前进社区").SetTown("枞阳镇").SetCity("铜陵市").Save(sys)
	if err != nil {
		return nil, err
	}
	b.cid = c.ID
	venue, err := client.Venue.Create().SetCommunityID(c.ID).SetName("道德讲堂").Save(sys)
	if err != nil {
		return nil, err
	}
	b.venueID = venue.ID
	_, tokens, err := linlitest.BulkPeople(sys, client, c.ID, 1, "社工", viewer.Coordinator)
	if err != nil {
		return nil, err
	}
	b.staff = tokens[0]
	for i := 0; i < kiosks; i++ {
		k, err := a.Resolver.Checkin.RegisterKiosk(sys, venue.ID, fmt.Sprintf("平板 %d", i+1))
		if err != nil {
			return nil, err
		}
		b.kiosks, b.kioskIDs = append(b.kiosks, k.Token), append(b.kioskIDs, k.Kiosk.ID)
	}
	people, _, err := linlitest.BulkPeople(sys, client, c.ID, n, "居民")
	if err != nil {
		return nil, err
	}
	starts := time.Now().UTC().Add(30 * time.Minute)
	var slots []*ent.Slot
	for i := 0; i < activities; i++ {
		act, err := client.Activity.Create().SetCommunityID(c.ID).SetTitle(fmt.Sprintf("活动 %d", i+1)).
			SetCategory("HALL").SetServiceType("CULTURE").SetStatus("PUBLISHED").SetVenueID(venue.ID).
			SetStartsAt(starts).SetEndsAt(starts.Add(2 * time.Hour)).Save(sys)
		if err != nil {
			return nil, err
		}
		sl, err := client.Slot.Create().SetCommunityID(c.ID).SetActivityID(act.ID).SetName("座位").
			SetCapacity(n).Save(sys)
		if err != nil {
			return nil, err
		}
		b.activities = append(b.activities, act.ID)
		slots = append(slots, sl)
	}
	// The registrations are fixtures: person i holds a seat in activity
	// i mod activities, confirmed, with a fresh code.
	const chunk = 500
	for start := 0; start < n; start += chunk {
		var creates []*ent.RegistrationCreate
		for i := start; i < min(n, start+chunk); i++ {
			sl := slots[i%activities]
			creates = append(creates, client.Registration.Create().SetCommunityID(c.ID).SetActivityID(sl.ActivityID).
				SetSlotID(sl.ID).SetPersonID(people[i].ID).SetStatus("CONFIRMED").SetCheckInCode(newCode()))
		}
		regs, err := client.Registration.CreateBulk(creates...).Save(sys)
		if err != nil {
			return nil, err
		}
		for _, r := range regs {
			b.regs = append(b.regs, registration{id: r.ID, activityID: r.ActivityID, code: r.CheckInCode})
		}
	}
	_, err = b.raw.ExecContext(ctx, `UPDATE slots SET taken = (SELECT COUNT(*) FROM registrations r WHERE r.slot_id = slots.id)`)
	return b, err
}

// reset puts every registration back to confirmed, so each round checks in
// the same people from the same state.
func (b *bench) reset(ctx context.Context) error {
	for _, q := range []string{
		`DELETE FROM check_in_scans`,
		`UPDATE registrations SET status = 'CONFIRMED', checked_in_at = NULL WHERE status <> 'CONFIRMED'`,
		`UPDATE slots SET checked_in = 0 WHERE checked_in <> 0`,
		`VACUUM ANALYZE registrations`,
		`VACUUM ANALYZE slots`,
		`VACUUM ANALYZE activities`,
		`VACUUM ANALYZE check_in_scans`,
	} {
		if _, err := b.raw.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func newCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}
