package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/linlitest"
)

// startPgBouncer runs PgBouncer with deploy/pgbouncer.ini in transaction
// mode, poolSize server connections per database, in front of the
// PostgreSQL of admin (a URL); it returns its address.
func startPgBouncer(t *testing.T, admin string, poolSize int) string {
	t.Helper()
	bin := need(t, "pgbouncer")
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, u.Host)
	// PgBouncer will not run as root: it switches to postgres, who must
	// read its files.
	dir, err := os.MkdirTemp("", "linli-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "users.txt")
	if err := os.WriteFile(auth, []byte(`"postgres" ""`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	lh, lp := hostPort(t, listen)
	conf := fill(t, "pgbouncer.ini", dir, map[string]any{
		"PostgresHost": host, "PostgresPort": port, "ListenAddr": lh, "ListenPort": lp,
		"AuthType": "trust", "AuthFile": auth, "PoolSize": poolSize, "LogFile": "", "PidFile": "",
	})
	args := []string{conf}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", conf}
	}
	p, err := start(bin, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("pgbouncer output:\n%s", p.out.String())
		}
	})
	if err := p.waitFor(20*time.Second, listening(listen)); err != nil {
		t.Fatal(err)
	}
	return listen
}

// throughBouncer is dbURL with its host replaced by the pooler's.
func throughBouncer(t *testing.T, dbURL, bouncer string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = bouncer
	return u.String()
}

// Two replicas whose database connections go through PgBouncer in
// transaction mode, with three server connections for both (so every
// statement may land on another server session), and their LISTEN
// straight to PostgreSQL: sign-ups on one replica, live subscribers on the
// other. Every sign-up is confirmed and counted once, and the subscribers
// follow the count. Without -listen-database-url the server refuses to
// start.
func TestPgBouncerTransactionMode(t *testing.T) {
	bouncer := startPgBouncer(t, linlitest.AdminURL(), 3)
	const signers, subs = 150, 4
	w := newWorld(t, signers+subs)
	pooled := throughBouncer(t, w.dbURL, bouncer)

	out, err := exec.Command(buildServer(t), "-addr", freePort(t), "-demo=false", "-database-url", pooled, "-db-transaction-pooling").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-listen-database-url") {
		t.Errorf("pooling without a LISTEN URL: %v %s", err, out)
	}

	args := []string{"-database-url", pooled, "-db-transaction-pooling", "-listen-database-url", w.dbURL, "-db-max-conns", "8"}
	a, b := startLinli(t, args...), startLinli(t, args...)

	ctx, stopSubs := context.WithCancel(context.Background())
	subscribers := make([]*subscriber, subs)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopSubs()
	for i := range subscribers {
		s := &subscriber{}
		subscribers[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(ctx, a.addr, "", w.tokens[signers+i], w.act.ID)
		}()
	}
	eventually(t, 30*time.Second, "every subscriber's first snapshot", func() bool {
		for _, s := range subscribers {
			s.mu.Lock()
			ok := s.msgs > 0
			s.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	})
	confirmed, failed := w.signUps(t, "http://"+b.addr, 0, signers, 8, nil)
	if failed > 0 {
		t.Errorf("%d sign-up attempts failed through PgBouncer", failed)
	}
	if len(confirmed) != signers {
		t.Fatalf("%d of %d sign-ups confirmed", len(confirmed), signers)
	}
	w.checkSignUps(t, confirmed)
	final := w.taken(t)
	eventually(t, 30*time.Second, fmt.Sprintf("every subscriber at %d", final), func() bool {
		for _, s := range subscribers {
			if n, _, _ := s.state(); n != final {
				return false
			}
		}
		return true
	})
	for i, s := range subscribers {
		if _, drops, _ := s.state(); drops > 0 || len(s.errs) > 0 {
			t.Errorf("subscriber %d: %d drops, errors %v", i, drops, s.errs)
		}
	}
}
