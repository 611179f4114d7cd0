package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"linli/ent"
	"linli/ent/job"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/jobs"
	"linli/linlitest"
	"linli/notify"
	"linli/store"
	"linli/viewer"
)

// The server binary, built once per test run (go build ./server).
var serverBin struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serverBin.dir != "" {
		os.RemoveAll(serverBin.dir)
	}
	os.Exit(code)
}

func buildServer(t *testing.T) string {
	t.Helper()
	serverBin.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if serverBin.dir, serverBin.err = os.MkdirTemp("", "linli-server-"); serverBin.err != nil {
			return
		}
		serverBin.path = filepath.Join(serverBin.dir, "linli")
		out, err := exec.Command(goTool, "build", "-o", serverBin.path, "linli/server").CombinedOutput()
		if err != nil {
			serverBin.err = fmt.Errorf("go build ./server: %v\n%s", err, out)
		}
	})
	if serverBin.err != nil {
		t.Fatal(serverBin.err)
	}
	return serverBin.path
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// linliProc is a running server process.
type linliProc struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

// startLinli runs the server binary on dbURL and waits until it is ready.
func startLinli(t *testing.T, bin, dbURL string, logs *syncBuffer) *linliProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-addr", addr, "-database-url", dbURL, "-demo=false", "-log-level", "warn",
		"-reminder-sweep", "100ms", "-job-poll", "50ms", "-job-lease", "2s", "-db-max-conns", "6")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &linliProc{cmd, addr, exited}
			}
		}
		select {
		case <-exited:
			t.Fatalf("linli exited: %s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("linli not ready: %s", logs.String())
		}
	}
}

// Kill the server process (SIGKILL, not a graceful stop) while reminders
// fall due, twice, each time right after reminders appeared and while the
// reminder sweep is claimed; start it again on the same database: every
// reminder is in its person's inbox exactly once, none missing, none
// twice, those that fell due while it was down included.
func TestKilledServerDeliversRemindersOnce(t *testing.T) {
	linlitest.Slow(t)
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildServer(t)
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) { killedServer(t, bin, backend) })
	}
}

func killedServer(t *testing.T, bin, backend string) {
	const acts, perActivity, lead = 10, 30, 60
	dbURL := linlitest.DatabaseURL(t, backend)
	ctx, cancelCtx := context.WithTimeout(viewer.System(context.Background()), time.Minute)
	defer cancelCtx()
	db, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	client := db.Client
	// A community whose reminders go 60 minutes before, with no quiet hours.
	none := "00:00"
	com, err := client.Community.Create().SetName("前进社区").SetTown("枞阳镇").SetCity("铜陵市").SetHouseholds(526).
		SetReminderLeadMinutes([]int{lead}).SetQuietHoursStart(none).SetQuietHoursEnd(none).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	people, tokens, err := linlitest.BulkPeople(ctx, client, com.ID, acts*perActivity, "居民")
	if err != nil {
		t.Fatal(err)
	}
	// Activities far ahead, each with 30 confirmed sign-ups.
	fx := &linlitest.Env{Backend: backend, Client: client, DB: db}
	activities := make([]*ent.Activity, acts)
	for i := range acts {
		a, slots := fx.Activity(t, com.ID, linlitest.ActivitySpec{Title: fmt.Sprintf("义诊%d", i),
			Slots: []linlitest.SlotSpec{{Name: "号源", Capacity: perActivity}}})
		activities[i] = a
		creates := make([]*ent.RegistrationCreate, perActivity)
		for j := range perActivity {
			p := people[i*perActivity+j]
			creates[j] = client.Registration.Create().SetCommunityID(com.ID).SetActivityID(a.ID).SetSlotID(slots[0].ID).
				SetPersonID(p.ID).SetStatus(registration.StatusCONFIRMED).SetCheckInCode(fmt.Sprintf("crash-%d", p.ID))
		}
		if err := client.Registration.CreateBulk(creates...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	}()
	proc := startLinli(t, bin, dbURL, logs)
	// Now move them so that one activity's reminders fall due every 300 ms
	// from a second from now: 3 s of reminders falling due while the
	// server runs, is killed and restarted.
	first := time.Now().UTC().Add(time.Second)
	for i, a := range activities {
		due := first.Add(time.Duration(i) * 300 * time.Millisecond)
		start := due.Add(lead * time.Minute)
		if err := client.Activity.UpdateOne(a).SetStartsAt(start).SetEndsAt(start.Add(2 * time.Hour)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	reminders := client.Notification.Query().Where(notification.KindEQ(notification.KindREMINDER))
	sweep := client.Job.Query().Where(job.UniqueKey(jobs.PeriodicKey(notify.KindReminderSweep)))
	count := func() int {
		n, err := reminders.Clone().Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// kill waits for more reminders than seen, then for the sweep to be
	// claimed, and SIGKILLs the server; it reports whether the server died
	// holding the sweep's lease.
	kill := func(p *linliProc, seen int) (held bool, n int) {
		t.Helper()
		eventually(t, 10*time.Second, "more reminders", func() bool { return count() > seen })
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			j, err := sweep.Clone().Only(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if j.State == job.StateRUNNING {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		j, err := sweep.Clone().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n = count()
		return j.State == job.StateRUNNING && j.LeaseUntil != nil && j.LeaseUntil.After(time.Now()), n
	}
	held := 0
	seen := 0
	for round := range 2 {
		h, n := kill(proc, seen)
		t.Logf("kill %d: %d reminders written, died holding the sweep: %v", round+1, n, h)
		if h {
			held++
		}
		seen = n
		proc = startLinli(t, bin, dbURL, logs)
	}
	if seen >= acts*perActivity {
		t.Fatalf("all %d reminders were written before the second kill: the kills proved nothing", seen)
	}
	if held == 0 {
		t.Error("the server never died holding the sweep")
	}
	total := acts * perActivity
	eventually(t, 15*time.Second, fmt.Sprintf("%d reminders", total), func() bool { return count() >= total })
	time.Sleep(500 * time.Millisecond) // five more sweeps: nothing more comes
	// Count, not trust the unique key: one reminder per registration.
	rows, err := reminders.Clone().Select(notification.FieldPersonID, notification.FieldActivityID).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type pa struct{ person, activity int }
	got := map[pa]int{}
	for _, r := range rows {
		got[pa{r.PersonID, *r.ActivityID}]++
	}
	if len(rows) != total {
		t.Errorf("%d reminders, want %d", len(rows), total)
	}
	for i, a := range activities {
		for j := range perActivity {
			if n := got[pa{people[i*perActivity+j].ID, a.ID}]; n != 1 {
				t.Errorf("%s reminded of %s %d times", people[i*perActivity+j].DisplayName, a.Title, n)
			}
		}
	}
	// And through the restarted server's API, for a few of them.
	for _, i := range []int{0, perActivity*acts/2 + 1, perActivity*acts - 1} {
		var out struct {
			Notifications struct {
				Edges []struct{ Node struct{ Kind, Body string } }
			}
		}
		linlitest.Post(t, http.DefaultClient, "http://"+proc.addr+"/graphql", tokens[i],
			`{ notifications(first: 10) { edges { node { kind body } } } }`, nil).Decode(t, &out)
		var kinds []string
		for _, ed := range out.Notifications.Edges {
			kinds = append(kinds, ed.Node.Kind)
		}
		if !slices.Equal(kinds, []string{"REMINDER"}) || !strings.Contains(out.Notifications.Edges[0].Node.Body, "义诊") {
			t.Errorf("%s's inbox: %+v", people[i].DisplayName, out.Notifications.Edges)
		}
	}
}
