package app

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"linli/reqlog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "linli_http_requests_total",
		Help: "HTTP requests by path and status.",
	}, []string{"path", "status"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "linli_http_request_duration_seconds",
		Help:    "HTTP request latency by path.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"path"})
)

var websocketUpgrades = promauto.NewCounter(prometheus.CounterOpts{
	Name: "linli_websocket_upgrades_total",
	Help: "Websocket upgrade requests on /graphql (they bypass the HTTP request metrics).",
})

// liveApps are the running Apps whose live connections /metrics reports
// (a process normally runs one; tests run several).
var liveApps = struct {
	sync.Mutex
	m map[*App]struct{}
}{m: map[*App]struct{}{}}

var (
	liveConnectionsDesc = prometheus.NewDesc("linli_live_connections",
		"Authenticated websocket and SSE connections open now.", nil, nil)
	liveSubscribersDesc = prometheus.NewDesc("linli_live_subscribers",
		"Subscriptions open now, by kind.", []string{"kind"}, nil)
)

// liveCollector reports live connections and subscriptions when scraped.
type liveCollector struct{}

func (liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- liveConnectionsDesc
	ch <- liveSubscribersDesc
}

func (liveCollector) Collect(ch chan<- prometheus.Metric) {
	liveApps.Lock()
	var conns, counts, feeds, regs int
	for a := range liveApps.m {
		conns += a.live.sessions.count()
		s := a.Live.Stats()
		counts += s.CountsSubscribers
		feeds += s.FeedSubscribers
		regs += s.RegistrationSubscribers
	}
	liveApps.Unlock()
	ch <- prometheus.MustNewConstMetric(liveConnectionsDesc, prometheus.GaugeValue, float64(conns))
	for kind, n := range map[string]int{"activityCounts": counts, "activityFeed": feeds, "myRegistrationUpdates": regs} {
		ch <- prometheus.MustNewConstMetric(liveSubscribersDesc, prometheus.GaugeValue, float64(n), kind)
	}
}

func init() { prometheus.MustRegister(liveCollector{}) }

func trackLive(a *App) {
	liveApps.Lock()
	liveApps.m[a] = struct{}{}
	liveApps.Unlock()
}

func untrackLive(a *App) {
	liveApps.Lock()
	delete(liveApps.m, a)
	liveApps.Unlock()
}

func metricsHandler() http.Handler { return promhttp.Handler() }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

// Unwrap lets http.ResponseController reach the underlying writer (websocket hijack, flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets websocket upgrades take over the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func instrument(next http.Handler) http.Handler {
	known := map[string]bool{"/graphql": true, "/healthz": true, "/readyz": true, "/metrics": true, "/": true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, logged := r.URL.Path, r.URL.Path
		if strings.HasPrefix(path, "/qr/") {
			path = "/qr"
		} else if strings.HasPrefix(path, "/calendar/") {
			// The path is a feed's secret token: never in a log or a label.
			path, logged = "/calendar", "/calendar/…"
		} else if !known[path] {
			path = "other"
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		httpRequests.WithLabelValues(path, strconv.Itoa(sw.status)).Inc()
		d := time.Since(start)
		httpDuration.WithLabelValues(path).Observe(d.Seconds())
		reqlog.From(r.Context()).Debug("request", "method", r.Method, "path", logged, "status", sw.status, "duration_ms", float64(d.Microseconds())/1000)
	})
}
