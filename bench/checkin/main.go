// Command checkin measures kiosk check-ins: 50 kiosks check in random
// registrations across 200 activities through linli's whole stack (HTTP,
// kiosk authentication, GraphQL, the check-in service, PostgreSQL) while
// every activity has a live activityCounts subscriber on a websocket,
// against a bare Go program that sends the same SQL write straight to
// PostgreSQL, at the same concurrency, in the same run. It prints the median
// check-ins per second of each over the rounds, and their ratio, and for
// each round how many transactions the ledger committed the stack's
// check-ins in.
//
//	go run ./bench/checkin
//	go run ./bench/checkin -kiosks 50 -activities 200 -checkins 4000 -rounds 5
//
// It creates a scratch database on the PostgreSQL server of -postgres and
// drops it afterwards. Both sides use the same connection pool size; rounds
// alternate between them so a noisy neighbour hurts both alike, and every
// round starts from the same state (all registrations confirmed).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	_ "github.com/lib/pq"

	"linli/bench/load"
	"linli/linlitest"
)

func main() {
	admin := flag.String("postgres", linlitest.AdminURL(), "PostgreSQL server to create the scratch database on")
	kiosks := flag.Int("kiosks", 50, "kiosks scanning at once")
	activities := flag.Int("activities", 200, "activities (each with a live counts subscriber)")
	checkins := flag.Int("checkins", 4000, "check-ins per round")
	rounds := flag.Int("rounds", 5, "measured rounds per side (after one warm-up)")
	pool := flag.Int("pool", 16, "database connections for each side")
	flag.StringVar(&checkInFields, "fields", checkInFields, "the CheckInResult fields the kiosks ask for")
	noLive := flag.Bool("nolive", false, "run without live subscribers")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		load.Check(err)
		load.Check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	dbURL, drop := load.ScratchDB(*admin, "linli_bench")
	load.Cleanup = drop
	b, err := setUp(ctx, dbURL, *pool, *kiosks, *activities, *checkins)
	load.Check(err)
	load.Cleanup = func() { b.close(); drop() }
	defer load.Cleanup()
	var w *watchers
	if !*noLive {
		w, err = watch(b)
		load.Check(err)
		defer w.close()
	}

	fmt.Printf("kiosk check-ins: %d kiosks, %d activities, %d check-ins per round, %d rounds, pool %d, live %v, GOMAXPROCS %d\n",
		*kiosks, *activities, *checkins, *rounds, *pool, !*noLive, runtime.GOMAXPROCS(0))
	var stack, raw []float64
	for r := 0; r <= *rounds; r++ {
		load.Check(b.reset(ctx))
		before := b.app.Resolver.Ledger.Stats()
		s, err := b.stackRound(*kiosks)
		load.Check(err)
		after := b.app.Resolver.Ledger.Stats()
		load.Check(b.reset(ctx))
		q, err := b.rawRound(ctx, *kiosks)
		load.Check(err)
		label := fmt.Sprintf("round %d", r)
		if r == 0 {
			label = "warm-up"
		} else {
			stack, raw = append(stack, s), append(raw, q)
		}
		batches := after.Batches - before.Batches
		fmt.Printf("%-8s stack %7.0f/s   raw SQL %7.0f/s   (stack: %d transactions, %.1f scans each)\n",
			label, s, q, batches, float64(after.Ops-before.Ops)/float64(max(batches, 1)))
	}
	ms, mr := load.Median(stack), load.Median(raw)
	fmt.Printf("median   stack %7.0f/s   raw SQL %7.0f/s   ratio %.2f\n", ms, mr, ms/mr)
	if w != nil {
		fmt.Printf("live: %d counts messages received by %d subscribers\n", w.received.Load(), *activities)
	}
}
