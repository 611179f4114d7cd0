package app

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"linli/gid"
	"linli/store"
	"linli/trusted"
)

// Settings are what the server process needs besides Config (listeners and
// the demo), as an operator set them.
type Settings struct {
	// Addr is the listen address (-addr).
	Addr string
	// MetricsAddr, when set, is the listener of /metrics alone (-metrics-addr).
	MetricsAddr string
	// Demo loads the demo community into an empty database (-demo).
	Demo bool
}

// Start is linli as an operator runs it: it reads args (the server's
// flags) and the environment through the settings table (settings.go),
// tunes the Go runtime and the default logger, opens and migrates the
// database, wires every service and, with -demo, loads the demo data into
// an empty database. server/ serves what it returns; every benchmark builds
// linli through it too, so a benchmark can set only what an operator can
// (a test in this package refuses any other way).
//
// It reads LINLI_* variables like the server does; flags win.
func Start(ctx context.Context, args []string) (*App, error) {
	cfg, o, err := configure(args)
	if err != nil {
		return nil, err
	}
	tuneRuntime()
	slog.SetDefault(cfg.Logger)
	if m, ok := cfg.GraphQL.TrustedDocuments.(trusted.Manifest); ok {
		cfg.Logger.Info("trusted documents on", "documents", len(m))
	}
	a, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.Settings = Settings{Addr: o.addr, MetricsAddr: o.metricsAddr, Demo: o.demo}
	if o.demo {
		if err := a.LoadDemo(ctx); err != nil {
			a.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	return a, nil
}

// minMetricsToken is the shortest -metrics-token accepted: the token is the
// only guard of /metrics on the public listener.
const minMetricsToken = 16

// configure reads args and the environment into linli's configuration.
func configure(args []string) (Config, options, error) {
	cfg, o := defaults()
	list := settingsOf(&cfg, &o)
	fs := flag.NewFlagSet("linli", flag.ContinueOnError)
	if err := register(fs, list); err != nil {
		return cfg, o, err
	}
	if err := fs.Parse(args); err != nil {
		return cfg, o, err
	}
	if err := checkSettings(&cfg, o, list); err != nil {
		return cfg, o, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return cfg, o, fmt.Errorf("log level: %w", err)
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
	cfg.NoPersistedQueries = cfg.PersistedQueries.MaxDocuments == 0
	cfg.Notify.Off = !o.notifications
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

// checkSettings refuses settings out of range: the limits of the table,
// and those whose range is not just "above 0".
func checkSettings(cfg *Config, o options, list []setting) error {
	if err := checkLimits(list); err != nil {
		return err
	}
	if n := cfg.Live.MaxConnectionsPerPerson; n == 0 || n < -1 {
		return fmt.Errorf("-max-connections-per-person: above 0, or -1 for no bound")
	}
	if n := cfg.Live.MaxPendingPerAddress; n == 0 || n < -1 {
		return fmt.Errorf("-max-pending-sockets-per-address: above 0, or -1 for no bound")
	}
	if cfg.RateLimitPerMinute < 0 {
		return fmt.Errorf("-login-rate: 0 or more")
	}
	if cfg.MetricsToken != "" && len(cfg.MetricsToken) < minMetricsToken {
		return fmt.Errorf("metrics token: at least %d characters", minMetricsToken)
	}
	if cfg.IDKey != "" && len(cfg.IDKey) < gid.MinKeyLen {
		return fmt.Errorf("id key: at least %d characters", gid.MinKeyLen)
	}
	if cfg.PersistedQueries.MaxDocuments < 0 {
		return fmt.Errorf("-persisted-queries: 0 or more")
	}
	return nil
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
