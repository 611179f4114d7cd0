package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"linli/bench/load"
	"linli/ent/person"
	"linli/linlitest"
	"linli/viewer"

	_ "github.com/lib/pq"
)

// cityRun seeds and measures the city (see the package comment).
func cityRun(o options, bin string) {
	perCommunity := (o.cityResidents + o.cityCommunities - 1) / o.cityCommunities
	fmt.Printf("city: %d communities × %d residents = %d residents (go run ./bench/statistics -communities %d -people %d -samples %d)\n",
		o.cityCommunities, perCommunity, o.cityCommunities*perCommunity, o.cityCommunities, perCommunity, o.citySamples)
	cmd := exec.Command("go", "run", "./bench/statistics", "-postgres", o.admin, "-keep",
		"-communities", strconv.Itoa(o.cityCommunities), "-people", strconv.Itoa(perCommunity),
		"-samples", strconv.Itoa(o.citySamples), "-rounds", strconv.Itoa(o.cityRounds))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	var dbURL string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "keeping the database: "); ok {
			dbURL = strings.TrimSpace(u)
			continue
		}
		fmt.Println("  " + line)
	}
	_, _ = io.Copy(io.Discard, out)
	err = cmd.Wait()
	if dbURL != "" {
		load.Cleanup = func() { dropDatabase(o.admin, dbURL) }
		defer dropDatabase(o.admin, dbURL)
	}
	check(err)
	if dbURL == "" {
		check(fmt.Errorf("the statistics benchmark kept no database"))
	}

	// Public lists, anonymous, through one replica process.
	rep := startReplica(bin, dbURL, 16)
	load.Cleanup = func() { rep.stop(); dropDatabase(o.admin, dbURL) }
	defer rep.stop()
	c := linlitest.ConcurrentClient(8)
	askAs := func(token, q string, vars map[string]any, into any) error {
		res, err := linlitest.Send(c, rep.url+"/graphql", token, q, vars)
		if err == nil {
			err = res.Err()
		}
		if err == nil && into != nil {
			err = json.Unmarshal(res.Data, into)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", strings.Fields(q)[0], err)
			fmt.Println("error:", err)
		}
		return err
	}
	ask := func(q string, vars map[string]any, into any) error { return askAs("", q, vars, into) }
	var cs struct{ Communities []struct{ ID string } }
	check(ask(`{ communities { id } }`, nil, &cs))
	// A resident of each of 20 communities, for the lists residents read
	// (activities need a signed-in viewer).
	ctx := viewer.System(context.Background())
	seeder := load.Start(ctx, "-database-url", dbURL, "-db-max-conns", "2", "-job-workers", "1")
	type resident struct{ token, community string }
	var residents []resident
	cids, err := seeder.DB.Client.Community.Query().Limit(20).IDs(ctx)
	check(err)
	for _, cid := range cids {
		p, err := seeder.DB.Client.Person.Query().Where(person.CommunityID(cid)).First(ctx)
		check(err)
		tok, err := seeder.Auth.IssueToken(ctx, p.ID)
		check(err)
		residents = append(residents, resident{tok.Token, seeder.IDs.Encode(cid)})
	}
	seeder.Close()
	const listQuery = `query($c: ID!) { activities(first: 20, where: {communityID: $c}, orderBy: {field: STARTS_AT, direction: DESC}) { edges { node { id title startsAt endsAt } } } }`
	measure := func(name string, call func(i int) error) {
		for i := range 10 { // warm-up
			check(call(i))
		}
		var lat []time.Duration
		for i := range o.citySamples {
			t0 := time.Now()
			check(call(i))
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		p := func(q int) float64 {
			return float64(lat[min(len(lat)-1, (len(lat)*q+99)/100-1)]) / float64(time.Millisecond)
		}
		fmt.Printf("  %-52s p50 %6.1f ms  p99 %6.1f ms (%d calls, one at a time)\n", name, p(50), p(99), len(lat))
	}
	fmt.Printf("lists on the city (one replica process):\n")
	measure(fmt.Sprintf("communities (all %d, anonymous)", len(cs.Communities)), func(int) error { return ask(`{ communities { id name town city } }`, nil, nil) })
	measure("a community's activities (a resident, first 20)", func(i int) error {
		r := residents[i%len(residents)]
		return askAs(r.token, listQuery, map[string]any{"c": r.community}, nil)
	})
}

// dropDatabase drops the database dbURL names on the server admin reaches.
func dropDatabase(admin, dbURL string) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return
	}
	name := strings.TrimPrefix(u.Path, "/")
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return
	}
	defer db.Close()
	if _, err := db.Exec(`DROP DATABASE IF EXISTS "` + strings.ReplaceAll(name, `"`, ``) + `" WITH (FORCE)`); err != nil {
		fmt.Fprintln(os.Stderr, "drop the city database:", err)
	}
}
