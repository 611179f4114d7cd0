// Package app assembles linli: it opens the database, builds each service
// once, through its constructor and with its dependencies, and returns the
// complete HTTP handler (GraphQL, GraphiQL, health, metrics).
//
// What an operator can set is one table (settings.go); Start turns those
// settings (flags and environment) into the running app, and is how
// server/ and every benchmark build it. Tests build it with New and a
// Config through linlitest.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"linli/auth"
	"linli/calendar"
	"linli/certificate"
	"linli/exports"
	"linli/gid"
	"linli/graph"
	"linli/hours"
	"linli/households"
	"linli/httpapi"
	"linli/jobs"
	"linli/kiosk"
	"linli/ledger"
	"linli/live"
	"linli/notify"
	"linli/organize"
	"linli/pairing"
	"linli/persisted"
	"linli/qualify"
	"linli/readlog"
	"linli/readlog/entlog"
	"linli/reqlog"
	"linli/requests"
	"linli/retention"
	"linli/rights"
	"linli/scan"
	"linli/series"
	"linli/statistics"
	"linli/store"
	"linli/tracing"
	"linli/viewer"
	"linli/web"
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
	// address), and requestPhoneCode to a tenth of it; 0 switches rate
	// limiting off (load tests).
	RateLimitPerMinute float64
	// RequestTimeout bounds every query and mutation, on every transport
	// (httpapi.ServerOptions.Timeout).
	RequestTimeout time.Duration
	// BodyTimeout bounds how long a client may take to send a request body
	// (10 s); a body still trickling in then is cut off with 408.
	BodyTimeout  time.Duration
	MaxBodyBytes int64
	// MaxUploadBytes bounds a multipart (file upload) request body in place
	// of MaxBodyBytes; its operations part stays within MaxBodyBytes.
	MaxUploadBytes int64
	// TokenCacheTTL is how long a checked bearer token is trusted without
	// asking the database again; logout on this replica ends it at once,
	// elsewhere (and role changes) within the TTL. 0 checks every request.
	TokenCacheTTL time.Duration
	// RequirePhoneVerification makes register take a code sent to the phone
	// (requestPhoneCode) through CodeSender; off by default and in the demo.
	RequirePhoneVerification bool
	// CodeSender delivers verification codes (an SMS gateway); nil is
	// auth.LogSender, which only logs (with the code outside production).
	CodeSender auth.CodeSender
	Logger     *slog.Logger
	Store      store.Options
	GraphQL    httpapi.ServerOptions
	// PersistedQueries bounds the shared store of automatic persisted
	// queries (persisted.Options; its documents are at most the body
	// limit). The store is not used when trusted documents are on
	// (GraphQL.TrustedDocuments) or NoPersistedQueries is set.
	PersistedQueries   persisted.Options
	NoPersistedQueries bool
	Live               LiveConfig

	// MetricsToken, when set, is the bearer token /metrics on Handler
	// requires. MetricsListener says /metrics has a listener of its own
	// (MetricsHandler). With neither, Handler serves /metrics openly outside
	// production and not at all in production (see metricsRoute).
	MetricsToken    string
	MetricsListener bool

	// IDKey is the secret the API's IDs are encrypted under (gid): at least
	// 16 bytes. Empty: a key linli generated on first start and keeps in
	// the database, so that every replica and restart shares it. Changing
	// it changes every ID clients hold.
	IDKey string

	// RequestReopenDays is how many days after resolution a resident may
	// reopen their request (requests.Service.ReopenDays).
	RequestReopenDays int

	// BackEntryDays is how many days after an activity ended staff may
	// enter its paper sign-in sheet (scan.Options.BackEntryDays).
	BackEntryDays int

	// Channels configures the external notification channels (WeChat,
	// SMS), webhooks and calendar feeds (ChannelsConfig).
	Channels ChannelsConfig
	// Jobs tunes the background-job runner (jobs.Options) and Notify the
	// notifications (notify.Options).
	Jobs   jobs.Options
	Notify notify.Options
	// Sessions are the sessions' absolute lifetimes and idle timeouts by
	// class (auth.Lifetimes; zero fields: the defaults).
	Sessions auth.Lifetimes
	// LockoutFailures failed logins of a phone from one address lock that
	// pair; from LockoutSources addresses, the phone; for LockoutDuration
	// (auth.Lockout). 0 failures: no lockout.
	LockoutFailures, LockoutSources int
	LockoutDuration                 time.Duration
	// MyDataPerHour bounds each person's downloads of their data.
	MyDataPerHour int

	// TrustedProxies are the reverse proxies in front of linli: from them,
	// the client address (for rate limits and logs) is read from
	// X-Forwarded-For (reqlog.ClientAddress). None: the TCP peer.
	TrustedProxies []netip.Prefix
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		RateLimitPerMinute: 10,
		RequestTimeout:     15 * time.Second,
		BodyTimeout:        10 * time.Second,
		MaxBodyBytes:       256 << 10,
		MaxUploadBytes:     8 << 20,
		TokenCacheTTL:      3 * time.Second,
		RequestReopenDays:  requests.DefaultReopenDays,
		BackEntryDays:      scan.DefaultBackEntryDays,
		Jobs:               jobs.Options{Workers: 4, Poll: time.Second, Lease: 5 * time.Minute},
		Notify:             notify.Options{ReminderSweep: 10 * time.Second, FollowUpAfter: 72 * time.Hour},
		Logger:             slog.Default(),
		Sessions: auth.Lifetimes{Resident: auth.DefaultSessionLifetime, ResidentIdle: auth.DefaultSessionIdle,
			Staff: auth.DefaultStaffSessionLifetime, StaffIdle: auth.DefaultStaffSessionIdle},
		LockoutFailures: auth.DefaultLockoutPairFailures,
		LockoutSources:  auth.DefaultLockoutAccountSources,
		LockoutDuration: auth.DefaultLockoutDuration,
		MyDataPerHour:   rights.DefaultMyDataPerHour,
	}
}

// App is a running linli instance.
type App struct {
	Config Config
	// Settings are the server process's settings when Start built the
	// App (zero otherwise).
	Settings Settings
	DB       *store.DB
	Auth     *auth.Service
	Resolver *graph.Resolver
	// IDs is the codec of the API's IDs (Config.IDKey).
	IDs *gid.Codec
	// Live is the events.Publisher writers call after commit, and the
	// source of subscriptions.
	Live *live.Broker
	live liveWiring
	// revocable is set once every part is built, for the revocations the
	// broker delivers from its own goroutines (see revoked).
	revocable atomic.Pointer[revocable]
	handler   http.Handler
	ready     func(context.Context) error
	// stopCheckin stops the check-in service's background work.
	stopCheckin func()
	// ReadLog batches the sensitive-read log (readlog); Close flushes it.
	ReadLog *readlog.Writer
	// Jobs works background jobs (notifications, reminders, and whatever
	// other packages register on it before Start runs it).
	Jobs *jobs.Runner
	// Notify writes notifications and serves inboxes.
	Notify *notify.Service
}

// New opens the database, migrates it and wires every service.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Store.Logger == nil {
		cfg.Store.Logger = cfg.Logger
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.Store)
	if err != nil {
		return nil, err
	}
	ids, err := idCodec(ctx, db, cfg.IDKey)
	if err != nil {
		db.Close()
		return nil, err
	}
	selfKey, err := storedSecret(ctx, db, selfCheckInSecret)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := cfg.Channels.sender(&App{Config: cfg}); err != nil {
		db.Close()
		return nil, err
	}
	a := wire(cfg, db, ids, selfKey)
	if err := a.Live.Ready(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.Jobs.Start(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// wire builds linli over an open database, with ids the codec of the
// API's IDs and selfKey the secret of self check-in codes.
func wire(cfg Config, db *store.DB, ids *gid.Codec, selfKey []byte) *App {
	var limits, codeLimits *auth.Limiter
	if cfg.RateLimitPerMinute > 0 {
		limits = auth.NewLimiter(cfg.RateLimitPerMinute, 5)
		// A tenth for verification messages (1 a minute per phone by default).
		codeLimits = auth.NewLimiter(cfg.RateLimitPerMinute/10, 3)
	}
	a := &App{Config: cfg, DB: db, IDs: ids}
	// The sensitive-read log before anything reads: health sign-ups are
	// noted by an interceptor on every Registration query of the client.
	a.ReadLog = readlog.New(entlog.Sink(db), cfg.Logger, 0)
	db.Client.Registration.Intercept(entlog.HealthSignups(a.ReadLog, db.Client))
	sender := cfg.CodeSender
	if sender == nil {
		sender = auth.LogSender{ShowCode: !cfg.Production}
		if cfg.RequirePhoneVerification && cfg.Production {
			cfg.Logger.Warn("phone verification is required but no CodeSender is configured: codes are neither sent nor logged, so nobody can register")
		}
	}
	// The broker first: every service publishes to it.
	a.startLive()
	var lockout *auth.Lockout
	if cfg.LockoutFailures > 0 {
		lockout = auth.NewLockout(cfg.LockoutFailures, max(cfg.LockoutSources, 1), cfg.LockoutDuration, cfg.LockoutDuration)
	}
	a.Auth = auth.NewService(db, auth.Config{Limits: limits, CodeLimits: codeLimits, TokenCacheTTL: cfg.TokenCacheTTL,
		Lifetimes: cfg.Sessions, Lockout: lockout,
		RequirePhoneVerification: cfg.RequirePhoneVerification, CodeSender: sender, Events: a.Live})
	a.live.sessions = newSessionGuard(a.Auth, db.Client, a.Config.Live.SessionCheckInterval, a.Config.Live.MaxConnectionsPerPerson, cfg.Logger)
	trackLive(a)
	ledgr := ledger.New(db, a.Live)
	kiosks := kiosk.New(db.Client, a.Live, kiosk.Options{})
	serviceHours := hours.New(db.Client)
	reqs := requests.New(db, a.Live, cfg.RequestReopenDays)
	reqs.SubmissionLimits = cfg.RateLimitPerMinute > 0
	a.Resolver = &graph.Resolver{
		DB: db, Client: db.Client, Auth: a.Auth, Live: a.Live,
		Organize:     organize.New(db.Client, a.Live, ledgr),
		Ledger:       ledgr,
		KioskService: kiosks,
		Checkin:      scan.New(db.Client, a.Live, ledgr, scan.Options{BackEntryDays: cfg.BackEntryDays, SelfCheckInKey: selfKey}),
		ServiceHours: serviceHours,
		Certificates: certificate.New(db.Client, serviceHours),
		Requests:     reqs,
		Households:   &households.Service{Client: db.Client, Events: a.Live, BackEntryDays: cfg.BackEntryDays},
		Pairing:      &pairing.Service{Client: db.Client, Events: a.Live, Limits: limits},
		Statistics:   &statistics.Service{Client: db.Read},
		Qualify:      qualify.New(db.Client),
		Rights:       rights.New(db, a.Auth, a.Live, cfg.MyDataPerHour),
	}
	jo := cfg.Jobs
	if jo.Logger == nil {
		jo.Logger = cfg.Logger
	}
	a.Jobs = jobs.New(db, jo)
	no := cfg.Notify
	if no.Logger == nil {
		no.Logger = cfg.Logger
	}
	notify.SetOff(no.Off)
	a.Notify = notify.New(db, a.Live, no)
	a.Notify.Register(a.Jobs)
	ledgr.RegisterOffers(a.Jobs)
	retention.Register(a.Jobs, db.Client, cfg.Logger)
	qualify.Register(a.Jobs, db.Client, cfg.Logger)
	a.Resolver.Recurring = series.New(db.Client, a.Resolver.Organize, ledgr, a.Live, cfg.Logger)
	a.Resolver.Recurring.Register(a.Jobs)
	a.Resolver.Notify = a.Notify
	a.wireChannels()
	a.revocable.Store(&revocable{auth: a.Auth, kiosks: kiosks, sessions: a.live.sessions})
	a.startCheckin()
	a.ready = func(ctx context.Context) error { return db.SQL.PingContext(ctx) }
	a.handler = a.routes()
	return a
}

// jobsDrain is how long Close waits for running background jobs.
const jobsDrain = 10 * time.Second

// Handler is the whole HTTP API.
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the database. Background jobs still running are given
// jobsDrain to finish, then released for another replica or the next
// start (nothing is lost).
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), jobsDrain)
	a.Jobs.Stop(ctx)
	cancel()
	a.stopCheckin()
	a.closeLive()
	if err := a.ReadLog.Close(); err != nil {
		a.Config.Logger.Error("flushing the sensitive-read log", slog.String("error", err.Error()))
	}
	return a.DB.Close()
}

func (a *App) routes() http.Handler {
	opts := a.Config.GraphQL
	opts.Production = opts.Production || a.Config.Production
	if opts.Timeout == 0 {
		opts.Timeout = a.Config.RequestTimeout
	}
	opts.Transports = append(a.liveTransports(), opts.Transports...)
	if opts.TrustedDocuments == nil && opts.PersistedQueries == nil && !a.Config.NoPersistedQueries {
		po := a.Config.PersistedQueries
		if limit := int(a.Config.MaxBodyBytes); po.MaxDocumentBytes == 0 && limit > 0 && limit < 32<<10 {
			po.MaxDocumentBytes = limit
		} else if limit > 0 && po.MaxDocumentBytes > limit {
			po.MaxDocumentBytes = limit
		}
		opts.PersistedQueries = persisted.New(a.DB.Client, po)
	}
	opts.IDs = a.IDs
	opts.MaxUploadBytes, opts.MaxOperationBytes = a.Config.MaxUploadBytes, a.Config.MaxBodyBytes
	gql := httpapi.NewServer(a.Resolver, opts)
	for _, ext := range a.liveExtensions() {
		gql.Use(ext)
	}
	if tracing.Enabled() {
		gql.Use(tracing.Extension{})
	}
	mux := http.NewServeMux()
	api := httpapi.BodyLimits{MaxBodyBytes: a.Config.MaxBodyBytes, MaxUploadBytes: a.Config.MaxUploadBytes, BodyTimeout: a.Config.BodyTimeout}.
		Wrap(a.authenticate(a.liveGate(gql)))
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
	if metrics, ok := a.metricsRoute(); ok {
		mux.Handle("GET /metrics", metrics)
	}
	mux.Handle("GET /qr/{id}", a.authenticate(http.HandlerFunc(a.qrImage)))
	// Calendar feeds: the secret token in the path is the credential.
	mux.Handle(calendar.PathPrefix, a.Resolver.Calendar)
	// The kiosk page, the board and (outside production) GraphiQL, all
	// embedded.
	web.Routes(mux, !opts.Production)
	(&exports.Handler{Client: a.DB.Read, Statistics: a.Resolver.Statistics, IDs: a.IDs}).Register(mux, a.authenticate)
	a.Resolver.Rights.Register(mux, a.IDs, a.authenticate)
	if opts.Production {
		// Introspection is off in production, so GraphiQL could not work.
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("linli GraphQL API: POST /graphql\n"))
		})
	}
	return tracing.HTTP(securityHeaders(reqlog.Middleware(a.Config.Logger, a.Config.TrustedProxies,
		readlog.Middleware(a.ReadLog, a.liveSockets(a.liveGate(gql), a.cors(instrument(mux)))))))
}

// authenticateTokenWithin is authenticateToken bounded by the request
// timeout: the GraphQL server bounds only the operation that follows. (A
// socket's connection_init is bounded by the init timeout.)
func (a *App) authenticateTokenWithin(ctx context.Context, token string) (*viewer.Viewer, error) {
	if d := a.Config.RequestTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return a.authenticateToken(ctx, token)
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
		v, err := a.authenticateTokenWithin(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if err == auth.ErrInvalidToken {
				writeGraphQLError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "invalid or expired token")
				return
			}
			reqlog.From(r.Context()).Error("authenticate", slog.String("error", err.Error()))
			if errors.Is(err, context.DeadlineExceeded) || store.IsUnavailable(err) {
				writeGraphQLError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the service is unavailable for now; retry later")
				return
			}
			writeGraphQLError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
			return
		}
		next.ServeHTTP(w, r.WithContext(withViewer(r.Context(), v)))
	})
}
