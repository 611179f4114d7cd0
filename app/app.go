// Package app assembles linli: it opens the database, builds the services and
// returns the complete HTTP handler (GraphQL, GraphiQL, health, metrics).
// server/ runs it as a process; tests and benchmarks run it in-process.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"

	"linli/auth"
	"linli/graph"
	"linli/live"
	"linli/organize"
	"linli/reqlog"
	"linli/store"
)

// Config is linli's configuration (flags and environment in server/).
type Config struct {
	// DatabaseURL is postgres://… or a SQLite file path; empty means the
	// embedded SQLite file store.DefaultSQLitePath.
	DatabaseURL string
	// AllowedOrigins for CORS and websocket upgrades; empty allows same-origin only, "*" allows all.
	AllowedOrigins []string
	Production     bool
	// RateLimitPerMinute bounds login/register attempts per phone (×4 per
	// address); 0 switches rate limiting off (load tests).
	RateLimitPerMinute float64
	RequestTimeout     time.Duration
	MaxBodyBytes       int64
	Logger             *slog.Logger
	Store              store.Options
	GraphQL            graph.ServerOptions
	Live               LiveConfig
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		RateLimitPerMinute: 10,
		RequestTimeout:     15 * time.Second,
		MaxBodyBytes:       256 << 10,
		Logger:             slog.Default(),
	}
}

// App is a running linli instance.
type App struct {
	Config   Config
	DB       *store.DB
	Auth     *auth.Service
	Resolver *graph.Resolver
	// Live is the events.Publisher writers call after commit, and the
	// source of subscriptions.
	Live    *live.Broker
	live    liveWiring
	handler http.Handler
	ready   func(context.Context) error
}

// New opens the database, migrates it and wires every service.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.Store)
	if err != nil {
		return nil, err
	}
	a := NewWithDB(cfg, db)
	if err := a.Live.Ready(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// NewWithDB wires linli over an open database.
func NewWithDB(cfg Config, db *store.DB) *App {
	var limits *auth.Limiter
	if cfg.RateLimitPerMinute > 0 {
		limits = auth.NewLimiter(cfg.RateLimitPerMinute, 5)
	}
	a := &App{Config: cfg, DB: db}
	a.Auth = auth.NewService(db.Client, auth.Config{Limits: limits})
	a.startLive()
	a.Resolver = &graph.Resolver{DB: db, Client: db.Client, Auth: a.Auth, Live: a.Live}
	a.Resolver.Organize = &organize.Service{Client: db.Client, Events: a.Live}
	a.ready = func(ctx context.Context) error { return db.SQL.PingContext(ctx) }
	a.handler = a.routes()
	return a
}

// Handler is the whole HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the database.
func (a *App) Close() error {
	a.closeLive()
	return a.DB.Close()
}

func (a *App) routes() http.Handler {
	opts := a.Config.GraphQL
	opts.Transports = append(a.liveTransports(), opts.Transports...)
	gql := graph.NewServer(a.Resolver, opts)
	mux := http.NewServeMux()
	api := a.withLimits(a.authenticate(a.liveGate(gql)))
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.ready(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metricsHandler())
	mux.Handle("GET /{$}", playground.Handler("linli GraphiQL", "/graphql"))
	return reqlog.Middleware(a.Config.Logger, a.cors(instrument(mux)))
}

// withLimits bounds the body size and the time of every non-websocket request.
func (a *App) withLimits(next http.Handler) http.Handler {
	maxBody := a.Config.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 256 << 10
	}
	timeout := a.Config.RequestTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if r.ContentLength > maxBody {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, "VALIDATION_FAILED", "request body too large")
			return
		}
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate resolves the bearer token, if any, to a viewer. A bad token is
// refused outright rather than silently treated as anonymous.
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r.WithContext(withViewer(r.Context(), nil)))
			return
		}
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			writeGraphQLError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Authorization must be \"Bearer <token>\"")
			return
		}
		v, err := a.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if err == auth.ErrInvalidToken {
				writeGraphQLError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "invalid or expired token")
				return
			}
			reqlog.From(r.Context()).Error("authenticate", slog.String("error", err.Error()))
			writeGraphQLError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
			return
		}
		next.ServeHTTP(w, r.WithContext(withViewer(r.Context(), v)))
	})
}
