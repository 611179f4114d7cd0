package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
	"linli/auth"
	"linli/events"
	"linli/graph"
	"linli/httpapi"
	"linli/kiosk"
	"linli/live"
	"linli/reqlog"
	"linli/viewer"
	"linli/wsgorilla"
)

// LiveConfig tunes subscriptions. Zero fields take the defaults in parentheses.
type LiveConfig struct {
	Broker live.Options
	// InitTimeout bounds the wait for connection_init (3 s); then 4408.
	InitTimeout time.Duration
	// PingInterval: websocket pings; a peer silent for two is dropped (25 s).
	PingInterval time.Duration
	// WriteTimeout bounds one websocket write (10 s).
	WriteTimeout time.Duration
	// MaxFrameBytes bounds one client message (64 KB); bigger closes with 1009.
	MaxFrameBytes int64
	// SessionCheckInterval: how often the viewers of open sockets and SSE
	// streams are re-checked against the database, for a logout, kiosk
	// revocation or role change whose event went missing, or an expiry
	// changed in the database (15 s). Events close connections at once, and
	// a timer at the session's expiry.
	SessionCheckInterval time.Duration
	// MaxSubscriptionsPerSocket bounds the subscriptions running on one
	// websocket or graphql-sse single-connection stream (50); one more is
	// refused with RATE_LIMITED. A stream also holds at most twice as many
	// operations in flight.
	MaxSubscriptionsPerSocket int
	// MaxConnectionsPerPerson bounds the websockets and SSE streams one
	// person (all their sessions together: each login is a new token) or
	// one kiosk holds open on this replica (20); one more websocket is
	// closed with 4429, one more SSE stream answered 429.
	// Negative: no bound (load tests).
	MaxConnectionsPerPerson int
	// MaxPendingPerAddress bounds the websockets one client address holds
	// open before connection_init (50); one more upgrade is answered 429.
	// Negative: no bound (load tests).
	MaxPendingPerAddress int
	// StreamReservationTimeout ends a graphql-sse single-connection
	// reservation (PUT) whose stream is not opened in time (30 s).
	StreamReservationTimeout time.Duration
	// PlainCounts serves activityCounts through the generic executor
	// instead of graph.FastCounts: slower, a switch should the fast path
	// ever misbehave (-live-plain-counts); tests and BenchmarkCountsFanout
	// compare the two.
	PlainCounts bool
}

// Defaults fills zero fields with the defaults in parentheses above (the
// websocket's timeouts are wsgorilla's).
func (c LiveConfig) Defaults() LiveConfig {
	ws := wsgorilla.Options{InitTimeout: c.InitTimeout, PingInterval: c.PingInterval, WriteTimeout: c.WriteTimeout}.Defaults()
	c.InitTimeout, c.PingInterval, c.WriteTimeout = ws.InitTimeout, ws.PingInterval, ws.WriteTimeout
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.SessionCheckInterval <= 0 {
		c.SessionCheckInterval = 15 * time.Second
	}
	if c.MaxSubscriptionsPerSocket <= 0 {
		c.MaxSubscriptionsPerSocket = 50
	}
	if c.MaxConnectionsPerPerson == 0 {
		c.MaxConnectionsPerPerson = 20
	}
	if c.MaxPendingPerAddress == 0 {
		c.MaxPendingPerAddress = 50
	}
	return c
}

// liveWiring is what the App keeps for its live connections.
type liveWiring struct {
	ws       *wsgorilla.Adapter
	sessions *sessionGuard
	sse      *streamSet
	pending  *pendingSockets
}

// startLive builds the broker, which every writer publishes to and so is
// built first, and the websocket adapter. The session guard, which needs
// the auth service, is NewWithDB's to add.
func (a *App) startLive() {
	c := a.Config.Live.Defaults()
	if c.MaxConnectionsPerPerson < 0 {
		c.MaxConnectionsPerPerson = 0 // unbounded
	}
	if c.MaxPendingPerAddress < 0 {
		c.MaxPendingPerAddress = 0 // unbounded
	}
	if c.Broker.Logger == nil {
		c.Broker.Logger = a.Config.Logger
	}
	c.Broker.Revoked = a.revoked
	// Those events sent while this replica's listener was away are lost:
	// re-check every live connection as soon as it is back.
	c.Broker.Resynced = func() {
		if r := a.revocable.Load(); r != nil {
			r.sessions.checkSoon()
		}
	}
	a.Config.Live = c
	a.live = liveWiring{
		ws: wsgorilla.New(wsgorilla.Options{
			CheckOrigin:  a.upgradeOriginAllowed,
			InitTimeout:  c.InitTimeout,
			PingInterval: c.PingInterval,
			WriteTimeout: c.WriteTimeout,
		}),
		sse:     &streamSet{m: map[*context.CancelFunc]struct{}{}},
		pending: &pendingSockets{limit: c.MaxPendingPerAddress, n: map[string]int{}},
	}
	a.Live = live.New(a.DB, c.Broker)
}

// revocable is what a revocation from the broker reaches: the token and
// kiosk caches and the live connections. NewWithDB stores it once every
// part is built; the broker is built before them (they publish to it) and
// may deliver at once, but until then no token is cached and no connection
// is open here, so an event that comes earlier has nothing to revoke.
type revocable struct {
	auth     *auth.Service
	kiosks   *kiosk.Service
	sessions *sessionGuard
}

// revoked is the broker's Revoked: a logout, a kiosk revocation or a change
// of a person's roles or teams anywhere ends the cached tokens at once
// (here, before the writer's request answers) and the live connections
// that rest on them, on every replica; the periodic re-check stays as the
// safety net for a lost notification and for expiry. Closing sockets
// writes to them, so never on the publisher's or the listener's goroutine.
func (a *App) revoked(ev events.Event) {
	r := a.revocable.Load()
	if r == nil {
		return
	}
	switch {
	case ev.Kind == events.Session && ev.SessionID != 0:
		r.auth.SessionEnded(ev.SessionID)
		go r.sessions.end(liveKey{session: ev.SessionID})
	case ev.Kind == events.Kiosk && ev.KioskID != 0:
		r.kiosks.Revoked(ev.KioskID)
		go r.sessions.end(liveKey{kiosk: ev.KioskID})
	case ev.Kind == events.Person && ev.PersonID != 0:
		r.auth.ForgetPerson(ev.PersonID)
		go r.sessions.endPerson(ev.PersonID)
	}
}

// liveExtensions are the GraphQL server extensions live connections need,
// outermost first: socketOperations gives every operation on a socket the
// token's current viewer before anything (FastCounts included) reads it.
func (a *App) liveExtensions() []graphql.HandlerExtension {
	exts := []graphql.HandlerExtension{socketOperations{a}}
	if !a.Config.Live.PlainCounts {
		exts = append(exts, graph.FastCounts(a.Live))
	}
	return exts
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
			KeepAlivePingInterval: a.Config.Live.PingInterval,
			PayloadReadLimit:      &limit,
			ErrorFunc: func(ctx context.Context, err error) {
				reqlog.From(ctx).Debug("websocket", slog.String("error", err.Error()))
			},
		},
		httpapi.SSE{
			SSE: transport.SSE{KeepAlivePingInterval: 25 * time.Second},
			Streams: &httpapi.Streams{
				Gate:          streamGate{a},
				Expiry:        a.Config.Live.StreamReservationTimeout,
				KeepAlive:     25 * time.Second,
				MaxOperations: 2 * a.Config.Live.MaxSubscriptionsPerSocket,
			},
		},
	}
}

// websocketInit authenticates connection_init's {"authToken": "…"} (a
// person's or a kiosk's token): a missing or bad token closes the socket
// with 4403, a token that already holds MaxConnectionsPerPerson
// connections here with 4429. The socket then closes with 4403 when its
// session expires or is revoked by logout, when its kiosk is revoked, or
// when its person's roles or teams change (graphql-ws clients reconnect
// after a 4403, and so get the new viewer).
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
	conn := wsgorilla.ConnFrom(ctx)
	if conn == nil {
		// Every socket must be watched (its credential's end, its person's
		// changes, the caps): one that came by a path that gave it no slot
		// is refused rather than served unwatched.
		reqlog.From(ctx).Error("websocket without a connection slot")
		return transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, "Internal error"), 1011), nil, errors.New("internal error")
	}
	s := &socket{token: strings.TrimSpace(token), viewer: v}
	s.end = func(reason string) { _ = conn.CloseWith(wsgorilla.CloseForbidden, reason) }
	authenticated(ctx)
	stop, ok := a.live.sessions.watch(v, s.end)
	if !ok {
		return transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, "Too many connections"), wsgorilla.CloseTooManyConnections), nil, errors.New("too many connections")
	}
	context.AfterFunc(ctx, stop)
	return context.WithValue(viewer.NewContext(ctx, v), socketKey{}, s), nil, nil
}

// socket is what operations on one websocket share: the token it was opened
// with, the viewer it is watched as, and how to end it.
type socket struct {
	token         string
	viewer        *viewer.Viewer
	end           func(reason string)
	subscriptions atomic.Int64
}

type socketKey struct{}

// socketOperations re-resolves the token of a websocket for every operation
// on it, so no operation runs with a viewer older than the token cache
// allows (a few seconds, and none after a change's event), and bounds the
// subscriptions running on one socket. A socket whose viewer changed is
// closed, since its running subscriptions still act as the old one.
type socketOperations struct{ a *App }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = socketOperations{}

func (socketOperations) ExtensionName() string                   { return "LiveSocketOperations" }
func (socketOperations) Validate(graphql.ExecutableSchema) error { return nil }
func (x socketOperations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	s, _ := ctx.Value(socketKey{}).(*socket)
	if s == nil {
		return next(ctx)
	}
	v, err := x.a.authenticateToken(ctx, s.token)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			s.end(reasonSessionEnded)
			return refusal(apperr.Unauthenticated, "the session has ended; sign in again")
		}
		if ctx.Err() == nil {
			reqlog.From(ctx).Error("websocket re-authenticate", slog.String("error", err.Error()))
		}
		return refusal(apperr.Internal, "internal error")
	}
	if !sameAuthority(v, s.viewer) {
		s.end(reasonViewerChanged)
	}
	ctx = viewer.NewContext(ctx, v)
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		if limit := int64(x.a.Config.Live.MaxSubscriptionsPerSocket); s.subscriptions.Add(1) > limit {
			s.subscriptions.Add(-1)
			return refusal(apperr.RateLimited, fmt.Sprintf("at most %d subscriptions may run on one connection", limit))
		}
		// The operation's context ends when the subscription does.
		context.AfterFunc(ctx, func() { s.subscriptions.Add(-1) })
	}
	return next(ctx)
}

// refusal answers an operation with one coded error.
func refusal(code apperr.Code, msg string) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(code)}}}})
}

// liveGate runs before the GraphQL server: it refuses websocket upgrades
// from foreign origins, gives sockets a slot the adapter fills, and makes SSE
// streams end at shutdown or when their session does.
func (a *App) liveGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isWebsocketUpgrade(r):
			if !a.upgradeOriginAllowed(r) {
				writeGraphQLError(w, http.StatusForbidden, "FORBIDDEN", "origin not allowed")
				return
			}
			if a.live.ws.Closing() {
				writeGraphQLError(w, http.StatusServiceUnavailable, "INTERNAL", "server shutting down")
				return
			}
			slot, ok := a.live.pending.take(reqlog.ClientAddr(r.Context()))
			if !ok {
				writeGraphQLError(w, http.StatusTooManyRequests, string(apperr.RateLimited), "too many connections waiting for connection_init from this address")
				return
			}
			// Detached: the socket outlives this handler, which lets go of
			// the HTTP connection's buffers (see wsgorilla.ServeDetached).
			wsgorilla.ServeDetached(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer slot.done()
				next.ServeHTTP(w, r.WithContext(withPendingSlot(wsgorilla.WithConnSlot(r.Context()), slot)))
			}))
		case (r.Method == http.MethodPost || r.Method == http.MethodGet) && httpapi.AcceptsEventStream(r):
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			if !a.live.sse.add(&cancel) {
				writeGraphQLError(w, http.StatusServiceUnavailable, "INTERNAL", "server shutting down")
				return
			}
			defer a.live.sse.remove(&cancel)
			// Every credential, a person's or a kiosk's, like a socket's;
			// a single-connection stream, and a stream an EventSource
			// opens with a reservation, are watched as their reservation
			// (streamGate).
			if v := viewer.FromContext(ctx); v != nil && httpapi.StreamToken(r) == "" {
				stop, ok := a.live.sessions.watch(v, func(string) { cancel() })
				if !ok {
					writeGraphQLError(w, http.StatusTooManyRequests, string(apperr.RateLimited), "too many live connections for this token")
					return
				}
				defer stop()
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
		if r.URL.Path == "/graphql" && isWebsocketUpgrade(r) {
			websocketUpgrades.Inc()
			sockets.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// upgradeOriginAllowed admits the configured origins, clients that send no
// Origin (not browsers), and the server's own origin on a loopback host
// (GraphiQL on localhost). A same-origin check against any other Host is
// no check: under DNS rebinding the attacker's page and its requests both
// name the attacker's host, which then points at this server. A page's
// Origin can name a loopback host only if that host served it.
func (a *App) upgradeOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if a.OriginAllowed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host) && isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// LiveConnections is how many websockets and SSE streams with a credential
// are open on this replica.
func (a *App) LiveConnections() int { return a.live.sessions.count() }

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

// isWebsocketUpgrade is the one test of "this request opens a websocket",
// the one gorilla applies when it upgrades (an Upgrade header listing
// websocket among its tokens, a Connection header listing upgrade): every
// path that treats sockets apart (the watch, the caps, the body limits)
// asks it, so no spelling of the headers reaches gorilla by another road.
func isWebsocketUpgrade(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }
