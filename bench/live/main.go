// Command live measures linli's activityCounts subscription under load:
// N websocket subscribers (graphql-transport-ws) on one activity while
// sign-up writes change its counts, against a bare gorilla/websocket
// broadcaster that sends the same payload to the same number of sockets, in
// the same run. For each it prints commit-to-receipt latency (p50, p99, max
// over every subscriber and change) and the server's memory per connection,
// then the ratio of linli's p99 to the bare broadcaster's.
//
//	go run ./bench/live                       # 1,000 and 5,000 subscribers, 3 rounds
//	go run ./bench/live -n 5000 -rounds 5 -changes 60
//
// Layout: the servers (a linli replica, and the bare broadcaster) run in a
// child process so their memory is measured apart from the clients'. The
// writer is a second linli replica in this process: each change is a real
// sign-up through its sign-up service, which commits and then publishes the
// hint; the hint reaches the serving replica through PostgreSQL NOTIFY,
// exactly as between production replicas. For the bare broadcaster the
// writer makes the same sign-up and then hands the payload to it over HTTP.
// Latency runs from the moment the sign-up call returned (after its commit)
// to the moment a client read the first message showing that change; both
// processes read the same clock. Rounds alternate between the two systems,
// after one untimed warm-up round of each.
//
// Memory per connection is the server's live heap after two collections
// plus its goroutine stacks, with all N subscribed, minus the same before
// they connected, divided by N. The RSS column is the resident-size delta,
// printed for reference only: the runtime returns freed pages lazily, so it
// is noisy, and negative for the bare broadcaster, whose rounds follow
// linli's.
//
// It needs PostgreSQL (-postgres, default the test server) and creates and
// drops a scratch database. Each side holds one socket per subscriber, so
// the file-descriptor limit must exceed N plus a margin; the command raises
// its soft limit to the hard limit and refuses to start if that is too low.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(0)
	serve := flag.Bool("serve", false, "internal: run as the server child process")
	db := flag.String("db", "", "internal: database URL for -serve")
	ns := flag.String("n", "1000,5000", "subscriber counts to measure, comma-separated")
	rounds := flag.Int("rounds", 3, "rounds per system and subscriber count (medians are reported)")
	changes := flag.Int("changes", 40, "changes per round")
	every := flag.Duration("every", 50*time.Millisecond, "time between changes")
	pg := flag.String("postgres", envOr("LINLI_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server to create the scratch database on")
	flag.Parse()

	if *serve {
		if err := runServer(*db); err != nil {
			log.Fatal(err)
		}
		return
	}
	var counts []int
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			log.Fatalf("bad -n %q", s)
		}
		counts = append(counts, n)
	}
	maxN := 0
	for _, n := range counts {
		maxN = max(maxN, n)
	}
	if err := raiseFileLimit(uint64(maxN) + 500); err != nil {
		log.Fatal(err)
	}
	cfg := runConfig{rounds: *rounds, changes: *changes, every: *every, postgres: *pg}
	if err := run(cfg, counts); err != nil {
		log.Fatal(err)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// raiseFileLimit lifts the soft descriptor limit to the hard one; the child
// inherits it.
func raiseFileLimit(need uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return err
		}
	}
	if l.Cur < need {
		return fmt.Errorf("file-descriptor limit %d is below the %d this run needs (ulimit -n)", l.Cur, need)
	}
	return nil
}
