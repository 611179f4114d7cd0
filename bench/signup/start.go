package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"

	"linli/app"
	"linli/linlitest"
)

// startApp builds linli exactly as the server does (app.Start), from
// operator flags only, and serves it over HTTP.
func startApp(ctx context.Context, dbURL string, pool int) (*app.App, *httptest.Server, error) {
	a, err := app.Start(ctx, []string{"-database-url", dbURL, "-demo=false", "-log-level", "error",
		"-login-rate", "0", "-request-timeout", "1m", "-db-max-conns", strconv.Itoa(pool)})
	if err != nil {
		return nil, nil, err
	}
	return a, httptest.NewServer(a.Handler()), nil
}

var httpClient = linlitest.ConcurrentClient(256)

func (b *bench) client() *http.Client { return httpClient }
