// Command statistics measures communityStatistics and the admins'
// statistics view over a seeded city: 1,000 communities with a year of
// 1,000,000 check-ins, 200,000 requests and 100,000 home visits. It asks
// through linli's whole stack (HTTP, bearer token, GraphQL, the statistics
// service's grouped Ent queries, PostgreSQL) and, in the same run, computes
// the same figures with hand-written SQL straight on PostgreSQL; it checks
// that both sides agree and prints p50/p99, the rates and their ratio.
//
//	go run ./bench/statistics
//	go run ./bench/statistics -communities 1000 -samples 300 -rounds 3
//
// It creates a scratch database on the PostgreSQL server of -postgres,
// seeds it with COPY, and drops it afterwards.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"time"

	_ "github.com/lib/pq"

	"linli/bench/load"
	"linli/linlitest"
	"linli/viewer"
)

func main() {
	admin := flag.String("postgres", linlitest.AdminURL(), "PostgreSQL server to create the scratch database on")
	var c city
	flag.IntVar(&c.communities, "communities", 1000, "communities")
	flag.IntVar(&c.activities, "activities", 50, "activities per community in the year")
	flag.IntVar(&c.attendees, "attendees", 16, "attendee check-ins per activity")
	flag.IntVar(&c.volunteers, "volunteers", 4, "volunteer check-ins (and service records) per activity")
	flag.IntVar(&c.people, "people", 200, "people per community")
	flag.IntVar(&c.volunteerPeople, "volunteer-people", 40, "registered volunteers per community")
	flag.IntVar(&c.households, "households", 200, "households per community")
	flag.IntVar(&c.visits, "visits", 100, "home visits per community in the year")
	flag.IntVar(&c.requests, "requests", 200, "requests per community in the year")
	samples := flag.Int("samples", 300, "communityStatistics calls per side")
	rounds := flag.Int("rounds", 3, "rounds (sides alternate), and admin-view calls per side")
	reuse := flag.String("db", "", "a database this benchmark seeded and kept (-keep): measure it again without seeding")
	keep := flag.Bool("keep", false, "keep the scratch database (its URL is printed) for -db")
	flag.Parse()

	ctx := context.Background()
	dbURL, drop := *reuse, func() {}
	if dbURL == "" {
		dbURL, drop = load.ScratchDB(*admin, "linli_bench")
		if *keep {
			fmt.Println("keeping the database:", dbURL)
			drop = func() {}
		}
	}
	load.Cleanup = drop
	defer drop()

	// linli as server/ builds it, from operator flags only.
	a := load.Start(ctx, "-database-url", dbURL)
	srv := httptest.NewServer(a.Handler())
	rawDB, err := sql.Open("postgres", dbURL)
	load.Check(err)
	load.Cleanup = func() { srv.Close(); rawDB.Close(); a.Close(); drop() }
	defer func() { srv.Close(); rawDB.Close(); a.Close() }()

	now := time.Now().UTC()
	from, to := now.AddDate(-1, 0, 0).Truncate(24*time.Hour), now.Add(24*time.Hour).Truncate(24*time.Hour)
	fmt.Printf("seeding %d communities × %d activities × %d check-ins = %d check-ins, %d requests, %d home visits (GOMAXPROCS %d)\n",
		c.communities, c.activities, c.attendees+c.volunteers, c.communities*c.activities*(c.attendees+c.volunteers),
		c.communities*c.requests, c.communities*c.visits, runtime.GOMAXPROCS(0))
	start := time.Now()
	var cids []int
	if *reuse != "" {
		cids, err = communities(ctx, rawDB)
		// The kept database's year.
		load.Check(rawDB.QueryRowContext(ctx, `SELECT min(created_at) FROM registrations`).Scan(&now))
		now = now.UTC()
		from, to = now.AddDate(-1, 0, 0).Truncate(24*time.Hour), now.Add(24*time.Hour).Truncate(24*time.Hour)
	} else {
		cids, err = seed(ctx, rawDB, c, from, to)
	}
	load.Check(err)
	fmt.Printf("seeded in %v\n", time.Since(start).Round(time.Millisecond))
	var token string
	var adminID int
	if rawDB.QueryRowContext(ctx, `SELECT id FROM persons WHERE display_name LIKE '管理员%' LIMIT 1`).Scan(&adminID) == nil {
		s, err := a.Auth.IssueToken(viewer.System(ctx), adminID)
		load.Check(err)
		token = s.Token
	} else {
		_, tokens, err := linlitest.BulkPeople(viewer.System(ctx), a.DB.Client, cids[0], 1, "管理员", viewer.Admin)
		load.Check(err)
		token = tokens[0]
	}
	client := &http.Client{Timeout: time.Minute}
	encode := a.IDs.Encode

	ask := func(query string, vars map[string]any, into any) error {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		var out struct {
			Data   json.RawMessage
			Errors []struct{ Message string }
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("graphql: %s", out.Errors[0].Message)
		}
		return json.Unmarshal(out.Data, into)
	}
	one := `query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) { ` + scalarFields + " " + breakdownFields + ` } }`
	vars := func(cid int) map[string]any {
		return map[string]any{"c": encode(cid), "f": from.Format(time.RFC3339), "t": to.Format(time.RFC3339)}
	}
	stackOne := func(cid int) (answer, error) {
		var out struct{ CommunityStatistics answer }
		err := ask(one, vars(cid), &out)
		sortTeams(out.CommunityStatistics.ByTeam)
		return out.CommunityStatistics, err
	}
	rawOne := func(cid int) (answer, error) {
		as, err := raw(ctx, rawDB, []int{cid}, from, to, time.Now(), true, encode)
		if err != nil {
			return answer{}, err
		}
		return as[0], nil
	}

	// Both sides agree, community by community.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		cid := cids[rng.IntN(len(cids))]
		s, err := stackOne(cid)
		load.Check(err)
		r, err := rawOne(cid)
		load.Check(err)
		if !reflect.DeepEqual(s, r) {
			load.Check(fmt.Errorf("community %d: the figures differ\nstack %+v\n  raw %+v", cid, s, r))
		}
		if i == 0 {
			fmt.Printf("a community's year: %d activities, %d participant person-times, %d beneficiaries, %.2f h, %d requests (%.0f%% responded, %.0f%% resolved, %.0f%% satisfied), %d visits to %d households\n",
				s.ActivitiesHeld, s.ParticipantPersonTimes, s.BeneficiaryPersonTimes, s.ServiceHours, s.RequestsReceived,
				100*s.ResponseRate, 100*s.ResolutionRate, 100*s.SatisfactionRate, s.HomeVisits, s.HouseholdsVisited)
		}
	}
	fmt.Println("figures: stack and raw SQL agree on 20 communities (every figure and breakdown)")

	// One community's year: sequential calls, sides alternating by round.
	var stackLat, rawLat []time.Duration
	var stackTime, rawTime time.Duration
	per := max(1, *samples / *rounds)
	for r := 0; r <= *rounds; r++ {
		batch := make([]int, per)
		for i := range batch {
			batch[i] = cids[rng.IntN(len(cids))]
		}
		for side := range 2 {
			t0 := time.Now()
			for _, cid := range batch {
				s := time.Now()
				var err error
				if side == 0 {
					_, err = stackOne(cid)
				} else {
					_, err = rawOne(cid)
				}
				load.Check(err)
				if r == 0 {
					continue // warm-up
				}
				if side == 0 {
					stackLat = append(stackLat, time.Since(s))
				} else {
					rawLat = append(rawLat, time.Since(s))
				}
			}
			if r > 0 {
				if side == 0 {
					stackTime += time.Since(t0)
				} else {
					rawTime += time.Since(t0)
				}
			}
		}
	}
	stackRate := float64(len(stackLat)) / stackTime.Seconds()
	rawRate := float64(len(rawLat)) / rawTime.Seconds()
	fmt.Printf("communityStatistics, one community, a year (%d calls per side, one at a time):\n", len(stackLat))
	fmt.Printf("  stack   p50 %6.1f ms  p99 %6.1f ms  %6.1f/s\n", ms(pct(stackLat, 50)), ms(pct(stackLat, 99)), stackRate)
	fmt.Printf("  raw SQL p50 %6.1f ms  p99 %6.1f ms  %6.1f/s\n", ms(pct(rawLat, 50)), ms(pct(rawLat, 99)), rawRate)
	fmt.Printf("  ratio stack/raw %.2f (goal ≥ 0.5), p99 goal ≤ 50 ms: %v\n", stackRate/rawRate, pct(stackLat, 99) <= 50*time.Millisecond)

	// The admins' view of every community.
	all := `query($f: Time!, $t: Time!) { statistics(communityIDs: null, from: $f, to: $t) {
		total { communities activitiesHeld participantPersonTimes beneficiaryPersonTimes serviceHours requestsReceived homeVisits }
		communities { ` + scalarFields + ` } } }`
	allVars := map[string]any{"f": from.Format(time.RFC3339), "t": to.Format(time.RFC3339)}
	var stackAll, rawAll []time.Duration
	for r := 0; r <= *rounds; r++ {
		var s struct {
			Statistics struct {
				Total struct {
					Communities, ActivitiesHeld, ParticipantPersonTimes, BeneficiaryPersonTimes int
					ServiceHours                                                                float64
					RequestsReceived, HomeVisits                                                int
				}
				Communities []answer
			}
		}
		t0 := time.Now()
		load.Check(ask(all, allVars, &s))
		st := time.Since(t0)
		t0 = time.Now()
		rs, err := raw(ctx, rawDB, cids, from, to, time.Now(), false, encode)
		load.Check(err)
		rt := time.Since(t0)
		if r == 0 {
			if !reflect.DeepEqual(s.Statistics.Communities, rs) {
				for i := range rs {
					if i < len(s.Statistics.Communities) && !reflect.DeepEqual(s.Statistics.Communities[i], rs[i]) {
						load.Check(fmt.Errorf("admin view: community %d differs\nstack %+v\n  raw %+v", i, s.Statistics.Communities[i], rs[i]))
					}
				}
				load.Check(fmt.Errorf("admin view: %d communities on the stack, %d raw", len(s.Statistics.Communities), len(rs)))
			}
			t := s.Statistics.Total
			fmt.Printf("admin view: stack and raw SQL agree on all %d communities; the city: %d activities, %d participant person-times, %d beneficiaries, %.0f h, %d requests, %d visits\n",
				t.Communities, t.ActivitiesHeld, t.ParticipantPersonTimes, t.BeneficiaryPersonTimes, t.ServiceHours, t.RequestsReceived, t.HomeVisits)
			continue
		}
		stackAll, rawAll = append(stackAll, st), append(rawAll, rt)
	}
	fmt.Printf("statistics, all %d communities, a year (%d calls per side, after a warm-up):\n", len(cids), len(stackAll))
	fmt.Printf("  stack   median %7.1f ms  max %7.1f ms\n", ms(pct(stackAll, 50)), ms(slices.Max(stackAll)))
	fmt.Printf("  raw SQL median %7.1f ms  max %7.1f ms\n", ms(pct(rawAll, 50)), ms(slices.Max(rawAll)))
	fmt.Printf("  ratio raw/stack %.2f, goal ≤ 2 s: %v\n", float64(pct(rawAll, 50))/float64(pct(stackAll, 50)), pct(stackAll, 50) <= 2*time.Second)
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
