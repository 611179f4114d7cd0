package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lib/pq"
)

// city is the size of the seeded city.
type city struct {
	communities, activities, attendees, volunteers, people, volunteerPeople, households, visits, requests int
}

// seed fills the scratch database through COPY (one transaction per table;
// linli's own writes are not what is measured) with a year of a city's
// rows between from and to, and returns the community IDs.
func seed(ctx context.Context, db *sql.DB, c city, from, to time.Time) ([]int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	span := to.Sub(from)
	now := time.Now().UTC()
	at := func() time.Time { return from.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second) }
	past := func() time.Time {
		for {
			if t := at(); t.Before(now.Add(-time.Hour)) {
				return t
			}
		}
	}

	ids := func(q string) ([]int, error) {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	step := func(name string, rows int, fn func() error) error {
		start := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("seed %s: %w", name, err)
		}
		fmt.Printf("  seeded %-18s %8d rows in %v\n", name, rows, time.Since(start).Round(time.Millisecond))
		return nil
	}

	if err := step("communities", c.communities, func() error {
		return copyRows(ctx, db, "communities", []string{"name", "town", "city", "households", "resident_population", "area_km2", "created_at", "updated_at"},
			c.communities, func(i int) []any {
				return []any{fmt.Sprintf("社区%04d", i), "枞阳镇", "铜陵市", c.households, 2000 + rng.IntN(1000), 2.5, now, now}
			})
	}); err != nil {
		return nil, err
	}
	cids, err := ids(`SELECT id FROM communities ORDER BY id`)
	if err != nil {
		return nil, err
	}
	const teamsPer = 6
	if err := step("teams", len(cids)*teamsPer, func() error {
		return copyRows(ctx, db, "teams", []string{"name", "community_id", "created_at", "updated_at"}, len(cids)*teamsPer,
			func(i int) []any { return []any{fmt.Sprintf("服务队%d", i%teamsPer), cids[i/teamsPer], now, now} })
	}); err != nil {
		return nil, err
	}
	teams, err := ids(`SELECT id FROM teams ORDER BY id`)
	if err != nil {
		return nil, err
	}
	if err := step("people", len(cids)*c.people, func() error {
		return copyRows(ctx, db, "persons", []string{"display_name", "phone", "password_hash", "roles", "community_id", "created_at", "updated_at"},
			len(cids)*c.people, func(i int) []any {
				roles := `["RESIDENT"]`
				if i%c.people < c.volunteerPeople {
					roles = `["RESIDENT","VOLUNTEER"]`
				}
				return []any{fmt.Sprintf("居民%d", i), fmt.Sprintf("150%08d", i), "", roles, cids[i/c.people], now, now}
			})
	}); err != nil {
		return nil, err
	}
	people, err := ids(`SELECT id FROM persons ORDER BY id`)
	if err != nil {
		return nil, err
	}
	nVol := len(cids) * c.volunteerPeople
	if err := step("volunteer_profiles", nVol, func() error {
		return copyRows(ctx, db, "volunteer_profiles", []string{"person_id", "registered_at", "community_id"}, nVol, func(i int) []any {
			ci, k := i/c.volunteerPeople, i%c.volunteerPeople
			// Most registered before the year, some during it, a few after.
			reg := from.Add(-time.Duration(rng.IntN(1000)) * 24 * time.Hour)
			if k%5 == 0 {
				reg = at()
			}
			if k%23 == 0 {
				reg = to.Add(time.Hour)
			}
			return []any{people[ci*c.people+k], reg, cids[ci]}
		})
	}); err != nil {
		return nil, err
	}

	categories := []string{"SQUARE", "HALL", "FAMILY", "SCHOOL", "ONLINE"}
	types := []string{"APPEALS", "POVERTY_RELIEF", "CULTURE", "COUNSELING", "LEGAL", "HEALTH", "EDUCATION", "EMPLOYMENT"}
	nAct := len(cids) * c.activities
	starts := make([]time.Time, nAct)
	if err := step("activities", nAct, func() error {
		return copyRows(ctx, db, "activities", []string{"title", "category", "service_type", "status", "team_id", "starts_at", "ends_at",
			"published_at", "community_id", "created_at", "updated_at"}, nAct, func(i int) []any {
			ci, k := i/c.activities, i%c.activities
			status, s := "PUBLISHED", past()
			switch {
			case k%17 == 3:
				status = "CANCELLED"
			case k%11 == 5:
				status = "COMPLETED"
			case k%29 == 7:
				s = now.Add(time.Duration(1+rng.IntN(30*24)) * time.Hour) // future
			}
			starts[i] = s
			var team any
			if k%7 != 0 {
				team = teams[ci*teamsPer+k%teamsPer]
			}
			return []any{"活动", categories[rng.IntN(len(categories))], types[rng.IntN(len(types))], status, team,
				s, s.Add(2 * time.Hour), from.Add(-time.Hour), cids[ci], now, now}
		})
	}); err != nil {
		return nil, err
	}
	acts, err := ids(`SELECT id FROM activities ORDER BY id`)
	if err != nil {
		return nil, err
	}
	// Two slots per activity: attendees, then volunteers.
	if err := step("slots", 2*nAct, func() error {
		return copyRows(ctx, db, "slots", []string{"activity_id", "name", "kind", "capacity", "taken", "community_id", "created_at", "updated_at"},
			2*nAct, func(i int) []any {
				kind, n := "ATTENDEE", c.attendees
				if i%2 == 1 {
					kind, n = "VOLUNTEER", c.volunteers
				}
				return []any{acts[i/2], kind, kind, n, n, cids[i/2/c.activities], now, now}
			})
	}); err != nil {
		return nil, err
	}
	slots, err := ids(`SELECT id FROM slots ORDER BY id`)
	if err != nil {
		return nil, err
	}
	per := c.attendees + c.volunteers
	nReg := nAct * per
	if err := step("registrations", nReg, func() error {
		return copyRows(ctx, db, "registrations", []string{"slot_id", "person_id", "activity_id", "status", "check_in_code",
			"checked_in_at", "checked_out_at", "community_id", "created_at", "updated_at"}, nReg, func(i int) []any {
			ai, k := i/per, i%per
			ci := ai / c.activities
			in := starts[ai].Add(time.Duration(rng.IntN(20)) * time.Minute)
			if k < c.attendees {
				p := people[ci*c.people+c.volunteerPeople+(ai*7+k)%(c.people-c.volunteerPeople)]
				return []any{slots[2*ai], p, acts[ai], "CHECKED_IN", fmt.Sprintf("b%d", i), in, nil, cids[ci], now, now}
			}
			p := people[ci*c.people+(ai*3+k)%c.volunteerPeople]
			return []any{slots[2*ai+1], p, acts[ai], "CHECKED_OUT", fmt.Sprintf("b%d", i), in, in.Add(90 * time.Minute), cids[ci], now, now}
		})
	}); err != nil {
		return nil, err
	}
	nRec := nAct * c.volunteers
	if err := step("service_records", nRec, func() error {
		return copyRows(ctx, db, "service_records", []string{"person_id", "activity_id", "activity_name", "service_date", "place",
			"service_content", "started_at", "ended_at", "minutes", "organizing_team", "person_in_charge", "recorded_by",
			"community_id", "created_at", "updated_at"}, nRec, func(i int) []any {
			ai, k := i/c.volunteers, i%c.volunteers
			ci := ai / c.activities
			in := starts[ai].Add(time.Duration(rng.IntN(20)) * time.Minute)
			m := 30 + rng.IntN(150)
			return []any{people[ci*c.people+(ai*3+k)%c.volunteerPeople], acts[ai], "活动", in.Format("2006-01-02"), "社区广场",
				"志愿服务", in, in.Add(time.Duration(m) * time.Minute), m, "服务队", "社工", "签到终端", cids[ci], now, now}
		})
	}); err != nil {
		return nil, err
	}
	nHH := len(cids) * c.households
	if err := step("households", nHH, func() error {
		return copyRows(ctx, db, "households", []string{"address", "head_name", "phone", "size", "community_id", "created_at", "updated_at"},
			nHH, func(i int) []any {
				return []any{fmt.Sprintf("小区%d栋%d室", i/100, i%100), "户主", "", 1 + rng.IntN(5), cids[i/c.households], now, now}
			})
	}); err != nil {
		return nil, err
	}
	households, err := ids(`SELECT id FROM households ORDER BY id`)
	if err != nil {
		return nil, err
	}
	nVisits := len(cids) * c.visits
	kinds := []string{"CARE_VISIT", "HOME_SERVICE", "SURVEY", "ERRAND"}
	if err := step("home_visits", nVisits, func() error {
		return copyRows(ctx, db, "home_visits", []string{"household_id", "kind", "visited_at", "minutes", "team_id", "community_id", "created_at", "updated_at"},
			nVisits, func(i int) []any {
				ci := i / c.visits
				var team any
				if i%4 != 0 {
					team = teams[ci*teamsPer+rng.IntN(teamsPer)]
				}
				return []any{households[ci*c.households+rng.IntN(c.households)], kinds[rng.IntN(len(kinds))], past(), 30 + rng.IntN(90), team, cids[ci], now, now}
			})
	}); err != nil {
		return nil, err
	}
	nReq := len(cids) * c.requests
	reqKinds := []string{"REPAIR", "ELDERLY_CARE", "DISPUTE", "LEGAL", "HEALTH", "EMPLOYMENT", "LIVELIHOOD", "ENVIRONMENT", "SUGGESTION", "OTHER"}
	outcomes := []string{"SOLVED", "MEDIATED", "REFERRED", "EXPLAINED", "UNRESOLVED"}
	if err := step("requests", nReq, func() error {
		return copyRows(ctx, db, "requests", []string{"number", "year", "seq", "kind", "channel", "status", "title", "outcome", "satisfaction",
			"accepted_at", "resolved_at", "closed_at", "community_id", "created_at", "updated_at"}, nReq, func(i int) []any {
			ci, k := i/c.requests, i%c.requests
			created := past()
			var accepted, resolved, closed, outcome, satisfaction any
			status := "SUBMITTED"
			if rng.IntN(10) > 0 {
				accepted, status = created.Add(time.Duration(rng.IntN(48*60))*time.Minute), "ACCEPTED"
				if rng.IntN(10) > 1 {
					resolved, status = created.Add(time.Duration(49*60+rng.IntN(10*24*60))*time.Minute), "RESOLVED"
					outcome = outcomes[rng.IntN(len(outcomes))]
					if rng.IntN(3) > 0 {
						closed, status = resolved.(time.Time).Add(24*time.Hour), "CLOSED"
						if rng.IntN(5) > 0 {
							satisfaction = 1 + rng.IntN(5)
						}
					} else if rng.IntN(6) == 0 {
						status = "IN_PROGRESS" // reopened
					}
				}
			}
			return []any{fmt.Sprintf("QJ-%d-%d", ci, k), 2026, k + 1, reqKinds[rng.IntN(len(reqKinds))], "PHONE", status, "诉求",
				outcome, satisfaction, accepted, resolved, closed, cids[ci], created, now}
		})
	}); err != nil {
		return nil, err
	}
	_, err = db.ExecContext(ctx, `ANALYZE`)
	return cids, err
}

// copyRows sends n rows of columns into table with COPY in one transaction.
func copyRows(ctx context.Context, db *sql.DB, table string, columns []string, n int, row func(i int) []any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, columns...))
	if err != nil {
		return err
	}
	for i := range n {
		if _, err := stmt.ExecContext(ctx, row(i)...); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	return tx.Commit()
}

// communities lists the community IDs of a seeded database.
func communities(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM communities WHERE name LIKE '社区%' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
