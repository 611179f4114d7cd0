// Command activities measures linli's browsing page through the full HTTP
// stack against a bare net/http handler doing the same work.
//
// Both servers listen on real local sockets in this process and answer
// activities(first: 50) with every activity's slots, team and venue for a
// signed-in resident. linli goes through everything a client meets (request
// log, metrics, CORS, limits, token authentication, gqlgen, Ent with its
// privacy rules); the bare handler runs the same five SQL statements by hand
// over database/sql and encodes the same JSON. Rounds alternate between the
// two and the medians are compared, so machine noise hits both alike.
//
//	go run ./bench/activities                 # PostgreSQL (a fresh database on the local server)
//	go run ./bench/activities -db sqlite      # embedded SQLite
//	go run ./bench/activities -db both -rounds 5 -duration 5s -workers 8
//
// PostgreSQL is reached through LINLI_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); the
// benchmark creates its own database there and drops it when done.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"syscall"
	"time"

	"linli/app"
	"linli/bench/load"
	"linli/linlitest"
)

const query = `query($n: Int!) { activities(first: $n) { edges { node {
	id title slots { id name capacity taken available } team { name } venue { name } } } } }`

type options struct {
	rounds     int
	duration   time.Duration
	workers    int
	activities int
	page       int
	cpuProfile string
	tokenCache time.Duration
}

func main() {
	var o options
	db := flag.String("db", "postgres", "postgres, sqlite or both")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds per server (alternating)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of one round")
	flag.IntVar(&o.workers, "workers", 8, "concurrent client connections")
	flag.IntVar(&o.activities, "activities", 60, "activities in the database")
	flag.IntVar(&o.page, "page", 50, "page size (first)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of linli's first round to this file")
	flag.DurationVar(&o.tokenCache, "token-cache", -1, "linli's -token-cache-ttl (0: check the token in the database on every request, as the bare handler does; default: the server's)")
	flag.Parse()
	// Both servers run with the garbage-collector settings server/ uses:
	// app.Start sets them for this process.
	backends := []string{*db}
	if *db == "both" {
		backends = []string{"postgres", "sqlite"}
	}
	for _, b := range backends {
		if err := bench(b, o); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", b, err)
			os.Exit(1)
		}
	}
}

func bench(backend string, o options) error {
	ctx := context.Background()
	dbURL, cleanup, err := freshDatabase(backend)
	if err != nil {
		return err
	}
	defer cleanup()

	// linli as the server builds it (app.Start), from operator flags.
	args := []string{"-database-url", dbURL, "-demo=false", "-log-level", "error", "-login-rate", "0", "-production"}
	if o.tokenCache >= 0 {
		args = append(args, "-token-cache-ttl", o.tokenCache.String())
	}
	a, err := app.Start(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	token, err := seed(ctx, a, o.activities)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	linliURL, stopLinli, err := serve(a.Handler())
	if err != nil {
		return err
	}
	defer stopLinli()
	bareURL, stopBare, err := serve(bare{db: a.DB, ids: a.IDs})
	if err != nil {
		return err
	}
	defer stopBare()

	body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"n": o.page}})
	linli := target{name: "linli", url: linliURL + "/graphql", token: token, body: body}
	base := target{name: "bare", url: bareURL + "/graphql", token: token, body: body}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.workers, MaxIdleConns: 2 * o.workers}}
	if err := sameAnswers(client, linli, base, o.page); err != nil {
		return err
	}

	var prof *os.File
	if o.cpuProfile != "" {
		if prof, err = os.Create(o.cpuProfile); err != nil {
			return err
		}
		defer prof.Close()
	}
	fmt.Printf("%s: activities(first: %d) with slots, team and venue; %d rounds × %v, %d workers, linli token cache %v\n",
		backend, o.page, o.rounds, o.duration, o.workers, o.tokenCache)
	var linliRates, bareRates, linliCPU, bareCPU []float64
	for r := range o.rounds {
		// Alternate which goes first, so drift over the run hits both.
		order := []*target{&linli, &base}
		if r%2 == 1 {
			order = []*target{&base, &linli}
		}
		for _, t := range order {
			profiling := prof != nil && t.name == "linli"
			if profiling {
				if err := pprof.StartCPUProfile(prof); err != nil && r == 0 {
					return err
				}
			}
			cpu0 := processCPU()
			rate, n, err := t.hammer(client, o.workers, o.duration)
			cpuPerRequest := float64((processCPU() - cpu0).Microseconds()) / 1000 / float64(max(n, 1))
			if profiling {
				pprof.StopCPUProfile()
				prof = nil // one round is enough, and a file holds one profile
			}
			if err != nil {
				return err
			}
			if t.name == "linli" {
				linliRates, linliCPU = append(linliRates, rate), append(linliCPU, cpuPerRequest)
			} else {
				bareRates, bareCPU = append(bareRates, rate), append(bareCPU, cpuPerRequest)
			}
			fmt.Printf("  round %d %-5s %8.0f req/s  %5.2f ms CPU/request in this process\n", r+1, t.name, rate, cpuPerRequest)
		}
	}
	l, b := load.Median(linliRates), load.Median(bareRates)
	fmt.Printf("%s: linli %.0f req/s, bare %.0f req/s (medians): ratio %.2f\n", backend, l, b, l/b)
	fmt.Printf("%s: CPU per request in this process (servers and client, not the database): linli %.2f ms, bare %.2f ms\n",
		backend, load.Median(linliCPU), load.Median(bareCPU))
	return nil
}

// sameAnswers checks that both servers answer the page identically, so they
// are measured doing the same work.
func sameAnswers(c *http.Client, a, b target, page int) error {
	var answers [2]any
	for i, t := range []target{a, b} {
		body, err := t.fetch(c)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &answers[i]); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if !reflect.DeepEqual(answers[0], answers[1]) {
		return fmt.Errorf("the servers disagree:\nlinli: %.500v\nbare:  %.500v", answers[0], answers[1])
	}
	var page0 struct {
		Data struct{ Activities struct{ Edges []any } }
	}
	raw, _ := json.Marshal(answers[0])
	_ = json.Unmarshal(raw, &page0)
	if n := len(page0.Data.Activities.Edges); n != page {
		return fmt.Errorf("the page holds %d activities, want %d", n, page)
	}
	return nil
}

func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// processCPU is the user and system CPU time this process has used: servers
// and client together, the database server not included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// freshDatabase returns an empty database for backend and a function that
// removes it.
func freshDatabase(backend string) (string, func(), error) {
	switch backend {
	case "sqlite":
		dir, err := os.MkdirTemp("", "linli-bench-")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "linli.db"), func() { os.RemoveAll(dir) }, nil
	case "postgres":
		admin := os.Getenv("LINLI_TEST_POSTGRES")
		if admin == "" {
			admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		}
		dbURL, drop, err := linlitest.ScratchDatabase(context.Background(), admin, "linli_bench")
		if err != nil {
			return "", nil, err
		}
		return dbURL, func() { _ = drop() }, nil
	}
	return "", nil, fmt.Errorf("unknown backend %q (postgres, sqlite or both)", backend)
}
