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
	"strconv"
	"strings"
	"syscall"
	"time"

	"linli/app"
	"linli/gid"
	"linli/trusted"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "linli:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
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

// serve runs linli with args until ctx ends, then drains.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("linli", flag.ContinueOnError)
	addr := fs.String("addr", env("LINLI_ADDR", ":8080"), "listen address (LINLI_ADDR)")
	dbURL := fs.String("database-url", env("DATABASE_URL", ""), "postgres://… URL or SQLite file path; empty: embedded linli.db (DATABASE_URL)")
	origins := fs.String("allowed-origins", env("LINLI_ALLOWED_ORIGINS", ""), "comma-separated origins allowed for CORS and websockets, or * (LINLI_ALLOWED_ORIGINS)")
	logLevel := fs.String("log-level", env("LINLI_LOG_LEVEL", "info"), "debug, info, warn or error (LINLI_LOG_LEVEL)")
	production := fs.Bool("production", envBool("LINLI_PRODUCTION"), "production mode: no introspection or suggestions (LINLI_PRODUCTION)")
	rate := fs.Float64("login-rate", envFloat("LINLI_LOGIN_RATE", 10), "login/register attempts per minute per phone (x4 per address); 0 disables (LINLI_LOGIN_RATE)")
	verify := fs.Bool("require-phone-verification", envBool("LINLI_REQUIRE_PHONE_VERIFICATION"), "register needs a code sent to the phone by requestPhoneCode (LINLI_REQUIRE_PHONE_VERIFICATION)")
	demo := fs.Bool("demo", env("LINLI_DEMO", "1") != "0", "load the demo community into an empty database (LINLI_DEMO)")
	metricsAddr := fs.String("metrics-addr", env("LINLI_METRICS_ADDR", ""), "serve /metrics on this address of its own, e.g. 127.0.0.1:9090, and not on -addr (LINLI_METRICS_ADDR)")
	metricsToken := fs.String("metrics-token", env("LINLI_METRICS_TOKEN", ""), "bearer token /metrics on -addr requires; prefer the environment (LINLI_METRICS_TOKEN)")
	trustedDocs := fs.String("trusted-documents", env("LINLI_TRUSTED_DOCUMENTS", ""), "run only the operations in this manifest (JSON: sha256 → document, or an Apollo persisted query manifest) (LINLI_TRUSTED_DOCUMENTS)")
	proxies := fs.String("trusted-proxies", env("LINLI_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (LINLI_TRUSTED_PROXIES)")
	idKey := fs.String("id-key", env("LINLI_ID_KEY", ""), "secret (at least 16 characters) the API's IDs are encrypted under; empty: generated once and kept in the database; prefer the environment (LINLI_ID_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	if *metricsToken != "" && len(*metricsToken) < minMetricsToken {
		return fmt.Errorf("metrics token: at least %d characters", minMetricsToken)
	}
	if *idKey != "" && len(*idKey) < gid.MinKeyLen {
		return fmt.Errorf("id key: at least %d characters", gid.MinKeyLen)
	}
	app.TuneRuntime()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	cfg := app.DefaultConfig()
	cfg.DatabaseURL = *dbURL
	cfg.Production = *production
	cfg.GraphQL.Production = *production
	cfg.RateLimitPerMinute = *rate
	cfg.RequirePhoneVerification = *verify
	cfg.Logger = logger
	cfg.MetricsToken = *metricsToken
	cfg.IDKey = *idKey
	cfg.MetricsListener = *metricsAddr != ""
	if *trustedDocs != "" {
		m, err := trusted.ReadFile(*trustedDocs)
		if err != nil {
			return err
		}
		cfg.GraphQL.TrustedDocuments = m
		logger.Info("trusted documents on", "documents", len(m))
	}
	trustedProxies, err := parsePrefixes(*proxies)
	if err != nil {
		return fmt.Errorf("trusted proxies: %w", err)
	}
	cfg.TrustedProxies = trustedProxies
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}

	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if *demo {
		if err := a.LoadDemo(ctx); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	servers := []*http.Server{srv}
	if *metricsAddr != "" {
		servers = append(servers, &http.Server{
			Addr:              *metricsAddr,
			Handler:           a.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ListenAndServe() }()
	}
	logger.Info("linli listening", "addr", *addr, "metrics_addr", *metricsAddr, "database", a.DB.Dialect)
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

func envBool(name string) bool {
	v := os.Getenv(name)
	return v == "1" || v == "true"
}

func envFloat(name string, def float64) float64 {
	if v := os.Getenv(name); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return def
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
