// Command server runs linli. With no configuration it opens the embedded
// SQLite file linli.db, applies pending migrations, loads the demo community on first start
// and serves on :8080. Set DATABASE_URL=postgres://… for PostgreSQL.
//
// Its flags and their environment variables are app's settings table
// (app/settings.go); app.Start builds linli from them, as every benchmark
// does, and this command serves it and drains on SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"linli/app"
	"linli/tracing"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "linli:", err)
		os.Exit(1)
	}
}

// run serves until SIGINT or SIGTERM; `verify-audit [flags]` checks the
// audit log's hash chain instead (app.VerifyAudit) and exits 1 when it is
// broken; `migrate status|up`, `backup FILE` and `restore FILE` are
// app.Migrate, app.Backup and app.Restore.
func run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch args[0] {
		case "verify-audit":
			return app.VerifyAudit(ctx, args[1:], os.Stdout)
		case "migrate":
			return app.Migrate(ctx, args[1:], os.Stdout)
		case "backup":
			return app.Backup(ctx, args[1:], os.Stdout)
		case "restore":
			return app.Restore(ctx, args[1:], os.Stdout)
		}
	}
	return serve(ctx, args)
}

// serve runs linli with args until ctx ends, then drains.
func serve(ctx context.Context, args []string) error {
	// Tracing (off unless OTEL_* asks for it) before anything opens the
	// database; its shutdown flushes the last spans after the drain.
	stopTracing, err := tracing.Setup(ctx)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stopTracing(flushCtx)
	}()
	a, err := app.Start(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	logger, o := a.Config.Logger, a.Settings
	srv := &http.Server{
		Addr:              o.Addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	servers := []*http.Server{srv}
	if o.MetricsAddr != "" {
		servers = append(servers, &http.Server{
			Addr:              o.MetricsAddr,
			Handler:           a.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ListenAndServe() }()
	}
	logger.Info("linli listening", "addr", o.Addr, "metrics_addr", o.MetricsAddr, "database", a.DB.Dialect)
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
