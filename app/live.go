package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"linli/auth"
	"linli/events"
	"linli/graph"
	"linli/live"
	"linli/reqlog"
	"linli/viewer"
	"linli/wsgorilla"
)

// LiveConfig tunes subscriptions. Zero fields take the defaults in parentheses.
type LiveConfig struct {
	Broker live.Options
	// InitTimeout bounds the wait for connection_init (10 s); then 4408.
	InitTimeout time.Duration
	// PingInterval: websocket pings; a peer silent for two is dropped (25 s).
	PingInterval time.Duration
	// WriteTimeout bounds one websocket write (10 s).
	WriteTimeout time.Duration
	// MaxFrameBytes bounds one client message (64 KB); bigger closes with 1009.
	MaxFrameBytes int64
	// SessionCheckInterval: how often open sockets' sessions are re-checked
	// for expiry, and for a logout whose event went missing (15 s). A logout
	// closes its sockets at once through a Session event.
	SessionCheckInterval time.Duration
	// PlainCounts serves activityCounts through the generic executor
	// instead of live.FastCounts (for comparison and tests).
	PlainCounts bool
}

// liveWiring is what the App keeps for its live connections.
type liveWiring struct {
	ws       *wsgorilla.Adapter
	sessions *sessionGuard
	sse      *streamSet
}

// startLive builds the broker and the websocket adapter.
func (a *App) startLive() {
	c := a.Config.Live
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.SessionCheckInterval <= 0 {
		c.SessionCheckInterval = 15 * time.Second
	}
	if c.Broker.Logger == nil {
		c.Broker.Logger = a.Config.Logger
	}
	// A logout or a kiosk revocation anywhere ends that credential's
	// sockets and cached token on every replica at once; the periodic
	// re-check stays as the safety net for a lost notification and for
	// expiry.
	c.Broker.Revoked = func(ev events.Event) {
		switch {
		case ev.Kind == events.Session && ev.SessionID != 0:
			a.Auth.SessionEnded(ev.SessionID)
			a.live.sessions.end(liveKey{session: ev.SessionID})
		case ev.Kind == events.Kiosk && ev.KioskID != 0:
			a.Resolver.Checkin.KioskRevoked(ev.KioskID)
			a.live.sessions.end(liveKey{kiosk: ev.KioskID})
		}
	}
	a.Config.Live = c
	a.Live = live.New(a.DB, c.Broker)
	a.live = liveWiring{
		ws: wsgorilla.New(wsgorilla.Options{
			CheckOrigin:  a.upgradeOriginAllowed,
			InitTimeout:  c.InitTimeout,
			PingInterval: c.PingInterval,
			WriteTimeout: c.WriteTimeout,
		}),
		sessions: newSessionGuard(a.DB.Client, c.SessionCheckInterval, a.Config.Logger),
		sse:      &streamSet{m: map[*context.CancelFunc]struct{}{}},
	}
}

// liveExtensions are the GraphQL server extensions subscriptions need.
func (a *App) liveExtensions() []graphql.HandlerExtension {
	if a.Config.Live.PlainCounts {
		return nil
	}
	return []graphql.HandlerExtension{a.Live.FastCounts()}
}

// liveTransports are the subscription transports: graphql-transport-ws and
// the legacy graphql-ws protocol on one websocket endpoint, and SSE.
func (a *App) liveTransports() []graphql.Transport {
	limit := a.Config.Live.MaxFrameBytes
	return []graphql.Transport{
		transport.Websocket{
			Implementation: a.live.ws,
			InitFunc:       a.websocketInit,
			// The adapter enforces the init timeout, so it can close with 4408.
			InitTimeout: 0,
			// "ka" messages keep legacy clients from timing out; the adapter's
			// websocket pings reap dead peers of both protocols.
			KeepAlivePingInterval: 25 * time.Second,
			PayloadReadLimit:      &limit,
			ErrorFunc: func(ctx context.Context, err error) {
				reqlog.From(ctx).Debug("websocket", slog.String("error", err.Error()))
			},
		},
		graph.SSE{SSE: transport.SSE{KeepAlivePingInterval: 25 * time.Second}},
	}
}

// websocketInit authenticates connection_init's {"authToken": "…"} (a
// person's or a kiosk's token): a missing or bad token closes the socket
// with 4403. The socket then closes when its session expires or is revoked
// by logout, or when its kiosk is revoked.
func (a *App) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token := p.GetString("authToken")
	if token == "" {
		token, _ = strings.CutPrefix(p.Authorization(), "Bearer ")
	}
	v, err := a.authenticateToken(ctx, strings.TrimSpace(token))
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			return transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, "Forbidden"), wsgorilla.CloseForbidden), nil, errors.New("Forbidden")
		}
		reqlog.From(ctx).Error("websocket authenticate", slog.String("error", err.Error()))
		return transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, "Internal error"), 1011), nil, errors.New("internal error")
	}
	if conn := wsgorilla.ConnFrom(ctx); conn != nil {
		stop := a.live.sessions.watch(v, func() { _ = conn.CloseWith(wsgorilla.CloseForbidden, "Session ended") })
		context.AfterFunc(ctx, stop)
	}
	return viewer.NewContext(ctx, v), nil, nil
}

// liveGate runs before the GraphQL server: it refuses websocket upgrades
// from foreign origins, gives sockets a slot the adapter fills, and makes SSE
// streams end at shutdown or when their session does.
func (a *App) liveGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			if !a.upgradeOriginAllowed(r) {
				writeGraphQLError(w, http.StatusForbidden, "FORBIDDEN", "origin not allowed")
				return
			}
			if a.live.ws.Closing() {
				writeGraphQLError(w, http.StatusServiceUnavailable, "INTERNAL", "server shutting down")
				return
			}
			next.ServeHTTP(w, r.WithContext(wsgorilla.WithConnSlot(r.Context())))
		case r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream"):
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			if !a.live.sse.add(&cancel) {
				writeGraphQLError(w, http.StatusServiceUnavailable, "INTERNAL", "server shutting down")
				return
			}
			defer a.live.sse.remove(&cancel)
			if v := viewer.FromContext(ctx); v != nil && v.SessionID != 0 {
				defer a.live.sessions.watch(v, cancel)()
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// liveSockets sends websocket upgrades of /graphql straight to sockets and
// everything else to rest. A socket's goroutine stays parked inside every
// handler it passed through for as long as the socket lives, and the frames
// of middleware that has nothing to do with sockets (CORS, request metrics,
// body limits, bearer headers: the token travels in connection_init) made
// its stack outgrow the next size class: skipping them halves what a
// subscriber's stacks cost.
func (a *App) liveSockets(sockets, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/graphql" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			websocketUpgrades.Inc()
			sockets.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// upgradeOriginAllowed admits the configured origins, the server's own
// origin, and clients that send no Origin (not browsers).
func (a *App) upgradeOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if a.OriginAllowed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// Shutdown tells live connections the server is going away: every socket
// gets close 1001 and every SSE stream ends. In-flight HTTP requests are
// drained by http.Server.Shutdown.
func (a *App) Shutdown(ctx context.Context) {
	a.live.sse.cancelAll()
	a.live.ws.Shutdown(ctx)
}

func (a *App) closeLive() {
	untrackLive(a)
	a.live.sessions.close()
	a.Live.Close()
}

// streamSet holds the cancel functions of open SSE streams.
type streamSet struct {
	mu     sync.Mutex
	m      map[*context.CancelFunc]struct{}
	closed bool
}

func (s *streamSet) add(c *context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.m[c] = struct{}{}
	return true
}

func (s *streamSet) remove(c *context.CancelFunc) {
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

func (s *streamSet) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.m {
		(*c)()
	}
}
