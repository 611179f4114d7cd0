// Command server runs linli. With no configuration it opens the embedded
// SQLite file linli.db, migrates it, loads the demo community on first start
// and serves on :8080. Set DATABASE_URL=postgres://… for PostgreSQL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"linli/app"
	"linli/gid"
	"linli/store"
	"linli/trusted"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "linli:", err)
		os.Exit(1)
	}
}

// run serves until SIGINT or SIGTERM.
func run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args)
}

// minMetricsToken is the shortest -metrics-token accepted: the token is the
// only guard of /metrics on the public listener.
const minMetricsToken = 16

// configure reads args and the environment into linli's configuration.
func configure(args []string) (app.Config, options, error) {
	cfg, o := defaults()
	list := settingsOf(&cfg, &o)
	fs := flag.NewFlagSet("linli", flag.ContinueOnError)
	if err := register(fs, list); err != nil {
		return cfg, o, err
	}
	if err := fs.Parse(args); err != nil {
		return cfg, o, err
	}
	if err := checkLimits(list); err != nil {
		return cfg, o, err
	}
	if n := cfg.Live.MaxConnectionsPerPerson; n == 0 || n < -1 {
		return cfg, o, fmt.Errorf("-max-connections-per-person: above 0, or -1 for no bound")
	}
	if n := cfg.Live.MaxPendingPerAddress; n == 0 || n < -1 {
		return cfg, o, fmt.Errorf("-max-pending-sockets-per-address: above 0, or -1 for no bound")
	}
	if cfg.RateLimitPerMinute < 0 {
		return cfg, o, fmt.Errorf("-login-rate: 0 or more")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return cfg, o, fmt.Errorf("log level: %w", err)
	}
	if cfg.MetricsToken != "" && len(cfg.MetricsToken) < minMetricsToken {
		return cfg, o, fmt.Errorf("metrics token: at least %d characters", minMetricsToken)
	}
	if cfg.IDKey != "" && len(cfg.IDKey) < gid.MinKeyLen {
		return cfg, o, fmt.Errorf("id key: at least %d characters", gid.MinKeyLen)
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.GraphQL.Production = cfg.Production
	cfg.MetricsListener = o.metricsAddr != ""
	if cfg.DatabaseURL == "" && o.dataDir != "" {
		if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
			return cfg, o, fmt.Errorf("data directory: %w", err)
		}
		cfg.DatabaseURL = filepath.Join(o.dataDir, store.DefaultSQLitePath)
	}
	if o.trustedDocs != "" {
		m, err := trusted.ReadFile(o.trustedDocs)
		if err != nil {
			return cfg, o, err
		}
		cfg.GraphQL.TrustedDocuments = m
	}
	if cfg.PersistedQueries.MaxDocuments < 0 {
		return cfg, o, fmt.Errorf("-persisted-queries: 0 or more")
	}
	cfg.NoPersistedQueries = cfg.PersistedQueries.MaxDocuments == 0
	proxies, err := parsePrefixes(o.proxies)
	if err != nil {
		return cfg, o, fmt.Errorf("trusted proxies: %w", err)
	}
	cfg.TrustedProxies = proxies
	for _, origin := range strings.Split(o.origins, ",") {
		if origin = strings.TrimSpace(origin); origin != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, strings.TrimRight(origin, "/"))
		}
	}
	return cfg, o, nil
}

// serve runs linli with args until ctx ends, then drains.
func serve(ctx context.Context, args []string) error {
	cfg, o, err := configure(args)
	if err != nil {
		return err
	}
	app.TuneRuntime()
	logger := cfg.Logger
	slog.SetDefault(logger)
	if m, ok := cfg.GraphQL.TrustedDocuments.(trusted.Manifest); ok {
		logger.Info("trusted documents on", "documents", len(m))
	}

	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if o.demo {
		if err := a.LoadDemo(ctx); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	srv := &http.Server{
		Addr:              o.addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	servers := []*http.Server{srv}
	if o.metricsAddr != "" {
		servers = append(servers, &http.Server{
			Addr:              o.metricsAddr,
			Handler:           a.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ListenAndServe() }()
	}
	logger.Info("linli listening", "addr", o.addr, "metrics_addr", o.metricsAddr, "database", a.DB.Dialect)
	var failed error
	select {
	case failed = <-errc:
		logger.Error("listener failed", "error", failed.Error())
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.Shutdown(shutCtx)
	for _, s := range servers {
		if err := s.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) && failed == nil {
			failed = err
		}
	}
	return failed
}

// parsePrefixes reads a comma-separated list of addresses (one host each)
// and CIDR ranges.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
