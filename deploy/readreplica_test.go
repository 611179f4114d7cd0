package deploy_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"linli/ent/person"
	"linli/linlitest"
	"linli/viewer"
)

// postgresBin is the directory of the PostgreSQL server's programs.
func postgresBin(t *testing.T) string {
	t.Helper()
	p := need(t, "pg_ctl")
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(real)
}

// asPostgres makes cmd run as the postgres OS user when the test runs as
// root (PostgreSQL refuses root), with its files in dir owned by them.
func asPostgres(t *testing.T, cmd *exec.Cmd, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// streamingReplica makes a streaming replica of the PostgreSQL of admin
// (pg_basebackup into a temporary directory) and runs it on a free
// loopback port as a child process of the test; it returns the replica's
// address and the process.
func streamingReplica(t *testing.T, admin string) (string, *proc) {
	t.Helper()
	bin := postgresBin(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, u.Host)
	dir, err := os.MkdirTemp("", "linli-replica-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	backup := exec.Command(filepath.Join(bin, "pg_basebackup"), "-h", host, "-p", strconv.Itoa(port), "-U", u.User.Username(),
		"-D", data, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	asPostgres(t, backup, dir)
	if out, err := backup.CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup (the primary must allow replication connections from %s): %v\n%s", host, err, out)
	}
	// The copy has the primary's data directory; Debian keeps the
	// configuration elsewhere, so the replica gets its own.
	addr := freePort(t)
	_, rport := hostPort(t, addr)
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"hot_standby = on\nshared_buffers = 16MB\nfsync = off\nmax_standby_streaming_delay = 1s\n", rport, dir)
	// A hot standby needs these at least as high as the primary's.
	adm, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	rows, err := adm.Query(`SELECT name, setting FROM pg_settings WHERE name IN
		('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, setting string
		if err := rows.Scan(&name, &setting); err != nil {
			t.Fatal(err)
		}
		conf += name + " = " + setting + "\n"
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"postgresql.conf": conf,
		"pg_hba.conf":     "local all all trust\nhost all all 127.0.0.1/32 trust\n",
		"pg_ident.conf":   "",
	}
	for name, body := range files {
		path := filepath.Join(data, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(data); err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			_ = os.Chown(path, int(st.Uid), int(st.Gid))
		}
	}
	server := exec.Command(filepath.Join(bin, "postgres"), "-D", data)
	asPostgres(t, server, dir)
	p := &proc{name: "postgres (replica)", cmd: server, out: &syncBuffer{}, exited: make(chan struct{})}
	server.Stdout, server.Stderr = p.out, p.out
	server.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = server.Process.Signal(syscall.SIGQUIT) // immediate shutdown
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.kill()
		}
		if t.Failed() {
			t.Logf("replica output:\n%s", p.out.String())
		}
	})
	if err := p.waitFor(60*time.Second, listening(addr)); err != nil {
		t.Fatal(err)
	}
	return addr, p
}

// metric is the value of the metric line name (with its labels, e.g.
// `linli_read_queries_total{on="replica"}`) at addr's /metrics; 0 when absent.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return v
		}
	}
	return 0
}

// A streaming replica of the local cluster serves statistics while it
// keeps up. When its replay is paused (it lags) and when it dies, reads
// fall back to the primary and the metrics say so; a sign-up is seen by
// its owner at once whatever the replica does.
func TestReadReplica(t *testing.T) {
	replicaAddr, replica := streamingReplica(t, linlitest.AdminURL())
	w := newWorld(t, 2)
	staff, staffTokens, err := linlitest.BulkPeople(w.ctx, w.db.Client, w.com.ID, 1, "社工", viewer.Coordinator)
	if err != nil {
		t.Fatal(err)
	}
	_ = staff
	ru, _ := url.Parse(w.dbURL)
	ru.Host = replicaAddr
	replicaURL := ru.String()
	rdb, err := sql.Open("postgres", replicaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	// The scratch database was created after the base backup: wait until
	// the replica has replayed it.
	eventually(t, 30*time.Second, "the database on the replica", func() bool { return rdb.Ping() == nil })

	l := startLinli(t, "-database-url", w.dbURL, "-read-database-url", replicaURL, "-read-max-lag", "1s")
	volunteers := func(n int, prefix string) {
		t.Helper()
		// (People with the volunteer role get their volunteer profile.)
		if _, _, err := linlitest.BulkPeople(w.ctx, w.db.Client, w.com.ID, n, prefix, viewer.Volunteer); err != nil {
			t.Fatal(err)
		}
	}
	onReplica := func() int {
		var n int
		if err := rdb.QueryRow(`SELECT count(*) FROM volunteer_profiles WHERE community_id = $1`, w.com.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	stats := func() int {
		t.Helper()
		var out struct {
			CommunityStatistics struct{ RegisteredVolunteers int }
		}
		now := time.Now().UTC()
		linlitest.Post(t, http.DefaultClient, "http://"+l.addr+"/graphql", staffTokens[0],
			`query($c: ID!, $f: Time!, $t: Time!) { communityStatistics(communityID: $c, from: $f, to: $t) { registeredVolunteers } }`,
			map[string]any{"c": linlitest.ID(w.com.ID), "f": now.Add(-24 * time.Hour), "t": now}).Decode(t, &out)
		return out.CommunityStatistics.RegisteredVolunteers
	}
	onReplicaReads := `linli_read_queries_total{on="replica"}`
	onPrimaryReads := `linli_read_queries_total{on="primary"}`

	// Caught up: statistics come from the replica.
	volunteers(5, "志愿者")
	eventually(t, 30*time.Second, "the replica in use with the volunteers", func() bool {
		return metric(t, l.addr, "linli_read_replica_up") == 1 && onReplica() == 5
	})
	before := metric(t, l.addr, onReplicaReads)
	if n := stats(); n != 5 {
		t.Errorf("registeredVolunteers %d from the replica, want 5", n)
	}
	if after := metric(t, l.addr, onReplicaReads); after <= before {
		t.Errorf("statistics did not read the replica: %v → %v", before, after)
	}

	// Replay paused: the replica falls behind, reads go to the primary.
	if _, err := rdb.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	volunteers(7, "新志愿者")
	eventually(t, 30*time.Second, "the fall-back for lag", func() bool {
		return metric(t, l.addr, "linli_read_replica_up") == 0 && metric(t, l.addr, `linli_read_replica_fallbacks_total{reason="lag"}`) >= 1
	})
	if n := onReplica(); n != 5 {
		t.Fatalf("the paused replica has %d volunteers, want 5: the test proves nothing", n)
	}
	before = metric(t, l.addr, onPrimaryReads)
	if n := stats(); n != 12 {
		t.Errorf("registeredVolunteers %d while the replica lags, want 12 (the primary's)", n)
	}
	if after := metric(t, l.addr, onPrimaryReads); after <= before {
		t.Errorf("statistics did not fall back to the primary: %v → %v", before, after)
	}
	if lag := metric(t, l.addr, "linli_read_replica_lag_seconds"); lag < 1 {
		t.Errorf("lag metric %v while behind, want ≥ 1", lag)
	}
	// What must see its own writes reads the primary: a sign-up and the
	// signer's own list of sign-ups.
	res := linlitest.Post(t, http.DefaultClient, "http://"+l.addr+"/graphql", w.tokens[0], signUpMutation,
		map[string]any{"s": linlitest.ID(w.slot.ID), "k": "replica-1"})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	var mine struct {
		MyRegistrations struct {
			Edges []struct{ Node struct{ Status string } }
		}
	}
	linlitest.Post(t, http.DefaultClient, "http://"+l.addr+"/graphql", w.tokens[0],
		`{ myRegistrations(first: 5) { edges { node { status } } } }`, nil).Decode(t, &mine)
	if len(mine.MyRegistrations.Edges) != 1 {
		t.Errorf("myRegistrations right after signing up while the replica lags: %+v", mine)
	}

	// Replay resumed: the replica is used again.
	if _, err := rdb.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the replica in use again", func() bool {
		return metric(t, l.addr, "linli_read_replica_up") == 1
	})
	if n := stats(); n != 12 {
		t.Errorf("registeredVolunteers %d after the replica caught up, want 12", n)
	}

	// The replica dies: reads go to the primary, and answers stay right.
	rdb.Close()
	replica.kill()
	eventually(t, 30*time.Second, "the fall-back for a dead replica", func() bool {
		return metric(t, l.addr, "linli_read_replica_up") == 0
	})
	volunteers(1, "又一位")
	if n := stats(); n != 13 {
		t.Errorf("registeredVolunteers %d with the replica dead, want 13", n)
	}
	down := metric(t, l.addr, `linli_read_replica_fallbacks_total{reason="down"}`) + metric(t, l.addr, `linli_read_replica_fallbacks_total{reason="error"}`)
	if down < 1 {
		t.Error("no fall-back counted for the dead replica")
	}
	n, err := w.db.Client.Person.Query().Where(person.CommunityID(w.com.ID)).Count(w.ctx)
	if err != nil || n != 2+1+13 {
		t.Errorf("%d people on the primary (%v)", n, err)
	}
}
