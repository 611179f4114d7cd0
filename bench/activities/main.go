// Command activities measures linli's browsing page through the full HTTP
// stack against a bare net/http handler doing the same work.
//
// Both servers listen on real local sockets in this process and answer
// activities(first: 50) with every activity's slots, team and venue for a
// signed-in resident. linli goes through everything a client meets (request
// log, metrics, CORS, limits, token authentication, gqlgen, Ent with its
// privacy rules); the bare handler runs the same five SQL statements by hand
// over database/sql and encodes the same JSON. A third side runs the bare
// handler's statements alone, in this process (no HTTP, no JSON): the floor
// of the work, and the goal is linli ÷ SQL alone ≥ 0.35. Rounds rotate which
// side goes first and the medians are compared, so machine noise hits all
// alike. Before the rounds, sequential in-process requests give heap
// allocations per request of linli and the bare handler (a figure machine
// load does not move); -memprofile and -seq-cpuprofile profile them.
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
	"runtime"
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
	memProfile string
	seqProfile string
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
	flag.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile of linli's sequential requests to this file")
	flag.StringVar(&o.seqProfile, "seq-cpuprofile", "", "write a CPU profile of 1,500 sequential in-process linli requests to this file")
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
	handlers = map[string]http.Handler{"linli": a.Handler(), "bare": bare{db: a.DB, ids: a.IDs}}
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

	if err := allocations(linli, base, o.memProfile, o.seqProfile); err != nil {
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
	// Three sides: linli over HTTP, the bare handler over HTTP, and the
	// bare handler's SQL alone (no HTTP, no JSON): the floor of the work.
	sqlAlone := sqlTarget{b: bare{db: a.DB, ids: a.IDs}, token: token, page: o.page}
	sides := []side{
		{name: "linli", run: func() (float64, int64, error) { return linli.hammer(client, o.workers, o.duration) }},
		{name: "bare", run: func() (float64, int64, error) { return base.hammer(client, o.workers, o.duration) }},
		{name: "sql", run: func() (float64, int64, error) { return sqlAlone.hammer(o.workers, o.duration) }},
	}
	rates := map[string][]float64{}
	cpus := map[string][]float64{}
	for r := range o.rounds {
		// Rotate which goes first, so drift over the run hits all alike.
		for i := range sides {
			s := sides[(i+r)%len(sides)]
			profiling := prof != nil && s.name == "linli"
			if profiling {
				if err := pprof.StartCPUProfile(prof); err != nil && r == 0 {
					return err
				}
			}
			cpu0 := processCPU()
			rate, n, err := s.run()
			cpuPerRequest := float64((processCPU() - cpu0).Microseconds()) / 1000 / float64(max(n, 1))
			if profiling {
				pprof.StopCPUProfile()
				prof = nil // one round is enough, and a file holds one profile
			}
			if err != nil {
				return err
			}
			rates[s.name], cpus[s.name] = append(rates[s.name], rate), append(cpus[s.name], cpuPerRequest)
			fmt.Printf("  round %d %-5s %8.0f req/s  %5.2f ms CPU/request in this process\n", r+1, s.name, rate, cpuPerRequest)
		}
	}
	l, b, q := load.Median(rates["linli"]), load.Median(rates["bare"]), load.Median(rates["sql"])
	fmt.Printf("%s: linli %.0f req/s, bare %.0f req/s, SQL alone %.0f/s (medians)\n", backend, l, b, q)
	fmt.Printf("%s: linli ÷ bare %.2f, linli ÷ SQL alone %.2f (goal ≥ 0.35), bare ÷ SQL alone %.2f\n", backend, l/b, l/q, b/q)
	fmt.Printf("%s: CPU per request in this process (servers and client, not the database): linli %.2f ms, bare %.2f ms, SQL alone %.2f ms\n",
		backend, load.Median(cpus["linli"]), load.Median(cpus["bare"]), load.Median(cpus["sql"]))
	return nil
}

// side is one of the things measured: a round runs it and returns its rate.
type side struct {
	name string
	run  func() (rate float64, n int64, err error)
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

// allocations serves the page sequentially in this process (no network)
// and prints heap allocations per request of linli and of the bare
// handler: a figure the machine's load does not move.
func allocations(linli, base target, memProfile, seqProfile string) error {
	const n = 300
	if memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	if seqProfile != "" {
		// Sequential requests in this process: a profile of linli's own
		// work that the network and the other servers do not blur.
		f, err := os.Create(seqProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		for range 1500 {
			if err := serveOnce(handlers["linli"], linli); err != nil {
				pprof.StopCPUProfile()
				return err
			}
		}
		pprof.StopCPUProfile()
	}
	per := map[string][2]float64{}
	for _, t := range []target{linli, base} {
		h := handlers[t.name]
		for range 20 { // warm caches and pools
			if err := serveOnce(h, t); err != nil {
				return err
			}
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range n {
			if err := serveOnce(h, t); err != nil {
				return err
			}
		}
		runtime.ReadMemStats(&m1)
		per[t.name] = [2]float64{float64(m1.Mallocs-m0.Mallocs) / n, float64(m1.TotalAlloc-m0.TotalAlloc) / n / 1024}
	}
	fmt.Printf("allocations per request (in process, sequential): linli %.0f (%.0f KB), bare %.0f (%.0f KB)\n",
		per["linli"][0], per["linli"][1], per["bare"][0], per["bare"][1])
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}
