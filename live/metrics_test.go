package live_test

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"linli/linlitest"
)

// scrape reads the named series (name plus labels, as printed) from /metrics.
func scrape(t *testing.T, serverURL, series string) float64 {
	t.Helper()
	resp, err := http.Get(serverURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("%s not in /metrics", series)
	return 0
}

// Websocket upgrades skip the HTTP request metrics, so live connections
// and subscriptions have their own.
func TestLiveMetrics(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	c := e.Community(t, "前进社区")
	_, token := e.Person(t, c.ID, "居民")
	const (
		conns    = "linli_live_connections"
		regs     = `linli_live_subscribers{kind="myRegistrationUpdates"}`
		upgrades = "linli_websocket_upgrades_total"
	)
	conns0, regs0, upgrades0 := scrape(t, e.Server.URL, conns), scrape(t, e.Server.URL, regs), scrape(t, e.Server.URL, upgrades)

	ws := connect(t, e.Server.URL, token)
	ws.subscribe("r", `subscription { myRegistrationUpdates { change } }`, nil)
	waitFor(t, 2*time.Second, func() bool {
		return scrape(t, e.Server.URL, conns) == conns0+1 && scrape(t, e.Server.URL, regs) == regs0+1
	}, "the socket and its subscription counted")
	if got := scrape(t, e.Server.URL, upgrades); got != upgrades0+1 {
		t.Errorf("%s = %v, want %v", upgrades, got, upgrades0+1)
	}

	_ = ws.c.Close()
	waitFor(t, 2*time.Second, func() bool {
		return scrape(t, e.Server.URL, conns) == conns0 && scrape(t, e.Server.URL, regs) == regs0
	}, "the closed socket no longer counted")
}
