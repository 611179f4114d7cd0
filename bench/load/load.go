// Package load holds what the load generators in bench/ share: linli built
// exactly as server builds it, a scratch database, a worker pool that runs
// a fixed number of calls, and fatal-error handling that still drops the
// scratch database.
package load

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"linli/app"
	"linli/linlitest"
)

// Start builds linli through app.Start, the function server runs, from
// operator flags (-database-url, -login-rate 0, -db-max-conns, …): a
// benchmark sets only what an operator can. Demo data is off and only
// errors are logged unless flags say otherwise (later flags win). It exits
// through Check when linli cannot start.
func Start(ctx context.Context, flags ...string) *app.App {
	a, err := app.Start(ctx, append([]string{"-demo=false", "-log-level", "error"}, flags...))
	Check(err)
	return a
}

// ScratchDB creates an empty database on the PostgreSQL server at admin and
// returns its URL and a function that drops it; it exits when it cannot.
func ScratchDB(admin, prefix string) (string, func()) {
	dbURL, drop, err := linlitest.ScratchDatabase(context.Background(), admin, prefix)
	if err != nil {
		log.Fatalf("create scratch database (is PostgreSQL running?): %v", err)
	}
	return dbURL, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "drop scratch database:", err)
		}
	}
}

// Cleanup runs before Check exits the program (drop the scratch database,
// close servers); set it as things are started.
var Cleanup = func() {}

// Check exits through Cleanup when err is not nil.
func Check(err error) {
	if err != nil {
		Cleanup()
		log.Fatal(err)
	}
}

// Storm runs calls 0..n-1 of one from workers goroutines, each taking the
// next index until all are taken, and returns calls per second and how many
// calls reported ok. It stops at the first error and returns it.
func Storm(workers, n int, one func(worker, i int) (ok bool, err error)) (perSecond float64, oks int, err error) {
	var next, good atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ok, err := one(w, i)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if ok {
					good.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, 0, firstErr
	}
	return float64(n) / elapsed.Seconds(), int(good.Load()), nil
}

// Median returns the median of xs (0 for none); benchmarks report it.
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	switch {
	case len(s) == 0:
		return 0
	case len(s)%2 == 1:
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
