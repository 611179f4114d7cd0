package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"linli/app"
	"linli/linlitest"
)

// startApp builds linli as the server does (app.DefaultConfig, app.New),
// changing only operator settings, and serves it over HTTP. (When the
// one-constructor wiring lands this becomes load.Start with the same
// flags.)
func startApp(ctx context.Context, dbURL string, pool int) (*app.App, *httptest.Server, error) {
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.RateLimitPerMinute = 0
	cfg.RequestTimeout = time.Minute
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Store.MaxOpenConns = pool
	a, err := app.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return a, httptest.NewServer(a.Handler()), nil
}

var httpClient = linlitest.ConcurrentClient(256)

func (b *bench) client() *http.Client { return httpClient }
