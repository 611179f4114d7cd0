// Command scale is linli's capacity benchmark (issue 21): how sign-ups,
// live updates and PostgreSQL's NOTIFY carry as replicas are added, and how
// the read and statistics paths answer over a seeded city.
//
//	go run ./bench/scale              # 1, 2, 4, 8 replicas; a city of 300 communities, 1,000,000 residents
//	go run ./bench/scale -quick       # 1 and 2 replicas, small rounds, a city of 30 communities, 100,000 residents
//
// Replicas: linli is built exactly as the server command builds it (go
// build ./server) and started as N processes on one PostgreSQL scratch
// database. Every round has fresh activities, one per community, -people
// residents each signing up for their community's activity through the
// replicas in turn (-writers at a time), while -subscribers websocket
// subscribers (graphql-transport-ws, activityCounts) are spread over the
// replicas and communities. Per replica count it prints sign-ups/s, NOTIFY
// statements/s (the replicas' linli_live_notifies_total), commit →
// subscriber p99 (from the moment a sign-up call returned to the first
// counts message showing it, over every subscriber and sign-up), and CPU
// per replica (/proc/<pid>/stat, user+system, as % of one core).
//
// City: the statistics benchmark (go run ./bench/statistics) seeds a year
// of a city with COPY (-city-communities × residents per community) and
// measures communityStatistics and the city roll-up (statistics(
// communityIDs: null)); this command runs it with -keep, then starts one
// replica on that database and measures the public lists (communities,
// a community's activities, anonymous) and drops it.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"linli/bench/load"
	"linli/linlitest"
)

type options struct {
	admin                 string
	replicas              []int
	communities, people   int
	subscribers, writers  int
	cityCommunities       int
	cityResidents         int
	citySamples           int
	cityRounds            int
	skipCity, skipReplica bool
}

func main() {
	log.SetFlags(0)
	var o options
	quick := flag.Bool("quick", false, "a small run: 1 and 2 replicas, small rounds, a city of 30 communities and 100,000 residents")
	reps := flag.String("replicas", "1,2,4,8", "replica counts")
	flag.StringVar(&o.admin, "postgres", linlitest.AdminURL(), "PostgreSQL server to create the scratch databases on")
	flag.IntVar(&o.communities, "communities", 100, "communities the sign-ups are spread over")
	flag.IntVar(&o.people, "people", 40, "sign-ups per community per round")
	flag.IntVar(&o.subscribers, "subscribers", 1000, "activityCounts subscribers, spread over replicas and communities")
	flag.IntVar(&o.writers, "writers", 64, "sign-ups in flight at once")
	flag.IntVar(&o.cityCommunities, "city-communities", 300, "communities of the seeded city")
	flag.IntVar(&o.cityResidents, "city-residents", 1000000, "residents of the seeded city")
	flag.IntVar(&o.citySamples, "city-samples", 300, "calls per measured query on the city")
	flag.IntVar(&o.cityRounds, "city-rounds", 10, "city roll-ups measured (the statistics benchmark's -rounds)")
	flag.BoolVar(&o.skipCity, "skip-city", false, "measure the replicas only")
	flag.BoolVar(&o.skipReplica, "skip-replicas", false, "measure the city only")
	flag.Parse()
	if *quick {
		*reps = "1,2"
		o.communities, o.people, o.subscribers, o.writers = 20, 15, 100, 16
		o.cityCommunities, o.cityResidents, o.citySamples, o.cityRounds = 30, 100000, 60, 3
	}
	for f := range strings.SplitSeq(*reps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("-replicas: %q is not a replica count", f)
		}
		o.replicas = append(o.replicas, n)
	}
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), load average %s — figures are noisy when the machine is shared\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAverage())

	bin := build()
	defer os.RemoveAll(filepath.Dir(bin))
	if !o.skipReplica {
		replicas(o, bin)
	}
	if !o.skipCity {
		cityRun(o, bin)
	}
}

// build builds linli as the server command is built and returns the binary.
func build() string {
	dir, err := os.MkdirTemp("", "linli-scale-")
	load.Check(err)
	bin := filepath.Join(dir, "linli")
	cmd := exec.Command("go", "build", "-o", bin, "./server")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	load.Check(cmd.Run())
	fmt.Printf("built linli (go build ./server) in %v\n", time.Since(start).Round(time.Second))
	return bin
}

// replica is one linli server process.
type replica struct {
	cmd          *exec.Cmd
	url, metrics string
	logs         *os.File
}

// startReplica starts a linli process on dbURL with a pool of pool
// connections and waits until it is ready.
func startReplica(bin, dbURL string, pool int) *replica {
	port, mport := freePort(), freePort()
	logs, err := os.CreateTemp("", "linli-scale-replica-*.log")
	load.Check(err)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:"+port, "-metrics-addr", "127.0.0.1:"+mport,
		"-database-url", dbURL, "-demo=false", "-log-level", "error", "-login-rate", "0",
		"-db-max-conns", strconv.Itoa(pool), "-request-timeout", "1m",
		"-max-connections-per-person", "-1", "-max-pending-sockets-per-address", "-1")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true")
	load.Check(cmd.Start())
	r := &replica{cmd: cmd, url: "http://127.0.0.1:" + port, metrics: "http://127.0.0.1:" + mport + "/metrics", logs: logs}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) {
			r.stop()
			b, _ := os.ReadFile(logs.Name())
			load.Check(fmt.Errorf("replica did not become ready: %v\n%s", err, b))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *replica) stop() {
	_ = r.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.logs.Close()
	os.Remove(r.logs.Name())
}

// cpuTicks is the process's user+system time in clock ticks (1/100 s).
func (r *replica) cpuTicks() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", r.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name (in parentheses, which may hold spaces).
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// counter reads a counter from the replica's /metrics.
func (r *replica) counter(name string) float64 {
	resp, err := http.Get(r.metrics)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	load.Check(err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// check prints err on stdout (an in-process linli sets slog as the log
// package's output, at its own level) and exits through load.Check.
func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
	}
	load.Check(err)
}
