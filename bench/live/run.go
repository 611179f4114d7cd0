package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	_ "github.com/lib/pq"

	"linli/app"
	"linli/ent"
	"linli/ent/activity"
	"linli/ledger"
	"linli/linlitest"
	"linli/viewer"
)

type runConfig struct {
	rounds, changes int
	every           time.Duration
	postgres        string
}

// bench is one run: the scratch database, the writer replica, the child
// with the servers, and the activity everyone watches.
type bench struct {
	runConfig
	writer   *app.App
	linliURL string
	bareURL  string
	token    string
	activity *ent.Activity
	slot     *ent.Slot
	// people sign up one each; version and taken follow the slot.
	people  []*ent.Person
	next    int
	version int64
	taken   int
}

// result is one round of one system.
type result struct {
	p50, p99, max time.Duration
	perConn       float64 // bytes of heap+stack per connection
	rssPerConn    float64
	stackPerConn  float64
	samples       int
}

func run(cfg runConfig, counts []int) error {
	dbURL, drop, err := scratchDatabase(cfg.postgres)
	if err != nil {
		return err
	}
	defer drop()
	b := &bench{runConfig: cfg}
	ctx := context.Background()
	// The second replica, built as the server builds it (app.Start).
	if b.writer, err = app.Start(ctx, []string{"-database-url", dbURL, "-demo=false", "-log-level", "error",
		"-login-rate", "0", "-db-max-conns", "4"}); err != nil {
		return err
	}
	defer b.writer.Close()
	if err := b.fixtures(ctx, (2+2*len(counts)*cfg.rounds)*cfg.changes+10); err != nil {
		return err
	}
	stop, err := b.startServers(dbURL)
	if err != nil {
		return err
	}
	defer stop()

	fmt.Printf("live subscriptions: %d changes per round, one every %v, %d rounds, GOMAXPROCS %d\n",
		cfg.changes, cfg.every, cfg.rounds, runtime.GOMAXPROCS(0))
	// One untimed round of each first, so pools and caches the server keeps
	// whatever the load are not counted against the connections.
	for _, linli := range []bool{true, false} {
		if _, err := b.round(min(counts[0], 500), linli); err != nil {
			return err
		}
	}
	for _, n := range counts {
		var ours, bares []result
		for r := range cfg.rounds {
			order := []bool{true, false}
			if r%2 == 1 {
				order = []bool{false, true}
			}
			for _, linli := range order {
				res, err := b.round(n, linli)
				if err != nil {
					return err
				}
				if linli {
					ours = append(ours, res)
				} else {
					bares = append(bares, res)
				}
			}
		}
		report(n, ours, bares)
	}
	return nil
}

func (b *bench) fixtures(ctx context.Context, signups int) error {
	sys := viewer.System(ctx)
	c := b.writer.DB.Client
	com, err := c.Community.Create().SetName("前进社区").SetTown("枞阳镇").SetCity("铜陵市").SetHouseholds(526).Save(sys)
	if err != nil {
		return err
	}
	p, err := c.Person.Create().SetCommunityID(com.ID).SetDisplayName("观众").SetPhone("13900000000").
		SetPasswordHash("x").SetRoles([]string{string(viewer.Resident)}).Save(sys)
	if err != nil {
		return err
	}
	s, err := b.writer.Auth.IssueToken(sys, p.ID)
	if err != nil {
		return err
	}
	b.token = s.Token
	start := time.Now().Add(72 * time.Hour).Truncate(time.Minute)
	if b.activity, err = c.Activity.Create().SetCommunityID(com.ID).SetTitle("文化广场演出").
		SetCategory(activity.CategorySQUARE).SetServiceType(activity.ServiceTypeCULTURE).SetStatus(activity.StatusPUBLISHED).
		SetStartsAt(start).SetEndsAt(start.Add(3 * time.Hour)).Save(sys); err != nil {
		return err
	}
	if b.slot, err = c.Slot.Create().SetCommunityID(com.ID).SetActivityID(b.activity.ID).SetName("座位").SetCapacity(1 << 30).Save(sys); err != nil {
		return err
	}
	b.people, _, err = linlitest.BulkPeople(sys, c, com.ID, signups, "报名")
	return err
}

// startServers starts the child process and waits for its addresses.
func (b *bench) startServers(dbURL string) (stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-db", dbURL)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("server child: %w", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "READY" {
		stop()
		return nil, fmt.Errorf("server child said %q", line)
	}
	b.linliURL, b.bareURL = f[1], f[2]
	return stop, nil
}

func (b *bench) mem() (memStats, error) {
	var m memStats
	resp, err := http.Get(b.bareURL + "/mem")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

// round connects n subscribers to one system, makes the changes, and
// measures.
func (b *bench) round(n int, linli bool) (result, error) {
	var res result
	before, err := b.mem()
	if err != nil {
		return res, err
	}
	clients, err := b.connectAll(n, linli)
	defer func() {
		for _, c := range clients {
			c.conn.Close()
		}
		time.Sleep(500 * time.Millisecond) // let the server notice
	}()
	if err != nil {
		return res, err
	}
	after, err := b.mem()
	if err != nil {
		return res, err
	}
	res.perConn = (float64(after.live()) - float64(before.live())) / float64(n)
	res.stackPerConn = (float64(after.StackInuse) - float64(before.StackInuse)) / float64(n)
	res.rssPerConn = (float64(after.RSS) - float64(before.RSS)) / float64(n)

	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.readLoop() }()
	}
	if err := b.writer.DB.SQL.QueryRow(`SELECT a.counts_version, s.taken FROM activities a JOIN slots s ON s.activity_id = a.id WHERE s.id = $1`, b.slot.ID).Scan(&b.version, &b.taken); err != nil {
		return res, err
	}
	commits := map[int64]int64{}
	var last int64
	tick := time.NewTicker(b.every)
	for range b.changes {
		<-tick.C
		v, taken, at, err := b.signUp()
		if err != nil {
			tick.Stop()
			return res, err
		}
		commits[v], last = at, v
		// linli's sign-up service has published the change; the bare
		// broadcaster is handed its payload.
		if !linli {
			if err := b.bareSend(v, taken); err != nil {
				tick.Stop()
				return res, err
			}
		}
	}
	tick.Stop()
	var dbVersion int64
	if err := b.writer.DB.SQL.QueryRow(`SELECT counts_version FROM activities WHERE id = $1`, b.activity.ID).Scan(&dbVersion); err != nil {
		return res, err
	}
	if dbVersion != last {
		return res, fmt.Errorf("counts_version is %d after the round, expected %d: sign-ups no longer move it by one", dbVersion, last)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, c := range clients {
		if !c.waitFor(last, time.Until(deadline)) {
			return res, fmt.Errorf("a subscriber never saw version %d (linli=%v, n=%d)", last, linli, n)
		}
	}
	for _, c := range clients {
		c.conn.Close()
	}
	wg.Wait()

	var lat []time.Duration
	versions := make([]int64, 0, len(commits))
	for v := range commits {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for _, c := range clients {
		lat = c.latencies(versions, commits, lat)
	}
	slices.Sort(lat)
	res.samples = len(lat)
	res.p50 = lat[len(lat)/2]
	res.p99 = lat[len(lat)*99/100]
	res.max = lat[len(lat)-1]
	return res, nil
}

// signUp signs the next person up through linli's sign-up service (which
// commits, then publishes), and returns the counts it produced and when the
// call returned. Each confirmed sign-up moves counts_version by one.
func (b *bench) signUp() (version int64, taken int, at int64, err error) {
	if b.next == len(b.people) {
		return 0, 0, 0, fmt.Errorf("ran out of people to sign up")
	}
	p := b.people[b.next]
	b.next++
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = viewer.NewContext(ctx, &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID, Roles: []viewer.Role{viewer.Resident}})
	res, err := b.writer.Resolver.Ledger.SignUp(ctx, ledger.SignUpInput{SlotID: b.slot.ID, Seats: 1})
	if err != nil {
		return 0, 0, 0, err
	}
	at = time.Now().UnixNano()
	if res.Outcome != ledger.Confirmed {
		return 0, 0, 0, fmt.Errorf("sign-up %s, want CONFIRMED", res.Outcome)
	}
	b.version++
	b.taken++
	return b.version, b.taken, at, nil
}

// payload is what linli sends for a snapshot, byte for byte in shape.
func (b *bench) payload(version int64, taken int) []byte {
	return fmt.Appendf(nil, `{"payload":{"data":{"activityCounts":{"activityID":"%s","version":%d,"slots":[{"slotID":"%s","capacity":%d,"taken":%d,"waitlisted":0,"checkedIn":0}]}}},"id":"1","type":"next"}`,
		b.writer.IDs.Encode(b.activity.ID), version, b.writer.IDs.Encode(b.slot.ID), b.slot.Capacity, taken)
}

func (b *bench) bareSend(version int64, taken int) error {
	resp, err := http.Post(b.bareURL+"/send", "application/json", bytes.NewReader(b.payload(version, taken)))
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func scratchDatabase(admin string) (dbURL string, drop func(), err error) {
	dbURL, dropDB, err := linlitest.ScratchDatabase(context.Background(), admin, "linli_bench_live")
	if err != nil {
		return "", nil, fmt.Errorf("create scratch database (is PostgreSQL running?): %w", err)
	}
	return dbURL, func() { _ = dropDB() }, nil
}
