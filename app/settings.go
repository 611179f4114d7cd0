package app

import (
	"flag"
	"fmt"
	"os"
	"time"

	"linli/store"
)

// setting is one flag and its environment variable, bound to the field it
// sets. Every setting is a row of settingsOf; register turns the rows into
// flags, so a new one is one line (and one row of the README's table).
type setting struct {
	flag, env, usage string
	// value points at what the setting sets: *string, *bool, *int,
	// *int64, *float64 or *time.Duration. Its value when registered is
	// the default.
	value any
	// positive: a limit, which must be above 0 (0 would silently mean
	// "the default" further in).
	positive bool
}

// options are what the server process needs besides Config, as the
// settings spell them (Start turns them into Settings and Config).
type options struct {
	addr, logLevel, metricsAddr, trustedDocs, origins, dataDir, proxies string
	demo, notifications                                                 bool
}

// settingsOf lists every setting, bound to cfg and o, which hold the
// defaults.
func settingsOf(cfg *Config, o *options) []setting {
	g, l := &cfg.GraphQL, &cfg.Live
	return []setting{
		{flag: "addr", env: "LINLI_ADDR", value: &o.addr, usage: "listen address"},
		{flag: "database-url", env: "DATABASE_URL", value: &cfg.DatabaseURL, usage: "postgres://… URL or SQLite file path; empty: the embedded linli.db in -data-dir"},
		{flag: "data-dir", env: "LINLI_DATA_DIR", value: &o.dataDir, usage: "directory of the embedded SQLite file linli.db when -database-url is empty (created if missing); empty: the working directory"},
		{flag: "listen-database-url", env: "LINLI_LISTEN_DATABASE_URL", value: &cfg.Store.ListenURL, usage: "PostgreSQL URL of the LISTEN connection, straight to the server (not through a transaction-mode pooler); empty: -database-url"},
		{flag: "db-transaction-pooling", env: "LINLI_DB_TRANSACTION_POOLING", value: &cfg.Store.TransactionPooling, usage: "-database-url is a transaction-mode pooler (PgBouncer): one round trip per statement, no prepared statements kept; needs -listen-database-url"},
		{flag: "read-database-url", env: "LINLI_READ_DATABASE_URL", value: &cfg.Store.ReadURL, usage: "PostgreSQL URL of a streaming read replica for statistics, exports and public lists; empty: none (they read the primary)"},
		{flag: "read-max-lag", env: "LINLI_READ_MAX_LAG", value: &cfg.Store.ReadMaxLag, positive: true, usage: "how far behind the read replica may be before its reads go to the primary"},
		{flag: "db-max-conns", env: "LINLI_DB_MAX_CONNS", value: &cfg.Store.MaxOpenConns, positive: true, usage: "PostgreSQL connections per replica (replicas × this must stay under the server's max_connections)"},
		{flag: "allowed-origins", env: "LINLI_ALLOWED_ORIGINS", value: &o.origins, usage: "comma-separated origins allowed for CORS and websockets, or *"},
		{flag: "log-level", env: "LINLI_LOG_LEVEL", value: &o.logLevel, usage: "debug, info, warn or error"},
		{flag: "production", env: "LINLI_PRODUCTION", value: &cfg.Production, usage: "production mode: no introspection or suggestions"},
		{flag: "login-rate", env: "LINLI_LOGIN_RATE", value: &cfg.RateLimitPerMinute, usage: "login/register attempts per minute per phone (x4 per address); 0 disables rate limiting (also of request submissions)"},
		{flag: "require-phone-verification", env: "LINLI_REQUIRE_PHONE_VERIFICATION", value: &cfg.RequirePhoneVerification, usage: "register needs a code sent to the phone by requestPhoneCode"},
		{flag: "demo", env: "LINLI_DEMO", value: &o.demo, usage: "load the demo community into an empty database"},
		{flag: "metrics-addr", env: "LINLI_METRICS_ADDR", value: &o.metricsAddr, usage: "serve /metrics on this address of its own, e.g. 127.0.0.1:9090, and not on -addr"},
		{flag: "metrics-token", env: "LINLI_METRICS_TOKEN", value: &cfg.MetricsToken, usage: "bearer token /metrics on -addr requires; prefer the environment"},
		{flag: "id-key", env: "LINLI_ID_KEY", value: &cfg.IDKey, usage: "secret (at least 16 characters) the API's IDs are encrypted under; empty: generated once and kept in the database; prefer the environment"},
		{flag: "trusted-documents", env: "LINLI_TRUSTED_DOCUMENTS", value: &o.trustedDocs, usage: "run only the operations in this manifest (JSON: sha256 → document, or an Apollo persisted query manifest)"},
		{flag: "trusted-proxies", env: "LINLI_TRUSTED_PROXIES", value: &o.proxies, usage: "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client"},
		{flag: "persisted-queries", env: "LINLI_PERSISTED_QUERIES", value: &cfg.PersistedQueries.MaxDocuments, usage: "automatic persisted queries kept in the database, least recently used evicted first; 0 turns them off"},
		{flag: "request-reopen-days", env: "LINLI_REQUEST_REOPEN_DAYS", value: &cfg.RequestReopenDays, positive: true, usage: "days after resolution a resident may reopen their request"},
		{flag: "back-entry-days", env: "LINLI_BACK_ENTRY_DAYS", value: &cfg.BackEntryDays, positive: true, usage: "days after an activity ended in which staff may enter its paper sign-in sheet (recordAttendance)"},
		{flag: "gateway-url", env: "LINLI_GATEWAY_URL", value: &cfg.Channels.GatewayURL, usage: "HTTP gateway that sends WeChat and SMS copies of notifications (signed JSON POST); empty: log-only, nothing is sent"},
		{flag: "gateway-secret", env: "LINLI_GATEWAY_SECRET", value: &cfg.Channels.GatewaySecret, usage: "HMAC-SHA256 key (at least 16 characters) the gateway's requests are signed with; prefer the environment"},
		{flag: "gateway-templates", env: "LINLI_GATEWAY_TEMPLATES", value: &cfg.Channels.GatewayTemplates, usage: `JSON object naming the gateway's template id per notification kind, "KIND" or "CHANNEL.KIND" (e.g. {"SMS.REMINDER":"SMS_1234"})`},
		{flag: "webhooks-allow-private", env: "LINLI_WEBHOOKS_ALLOW_PRIVATE", value: &cfg.Channels.WebhooksAllowPrivate, usage: "let webhooks point at loopback, link-local, private and unspecified addresses (tests; a receiver on the same network on purpose)"},
		{flag: "public-url", env: "LINLI_PUBLIC_URL", value: &cfg.Channels.PublicURL, usage: "the deployment's public base URL (https://linli.example.org), prefixed to calendar feed links; empty: links are paths"},
		{flag: "job-workers", env: "LINLI_JOB_WORKERS", value: &cfg.Jobs.Workers, positive: true, usage: "background jobs (notifications, reminders) one replica works at once"},
		{flag: "job-poll", env: "LINLI_JOB_POLL", value: &cfg.Jobs.Poll, positive: true, usage: "how often a replica looks for due background jobs it was not woken for (enqueued on another replica, or falling due)"},
		{flag: "job-lease", env: "LINLI_JOB_LEASE", value: &cfg.Jobs.Lease, positive: true, usage: "how long a replica holds a background job it claimed; a job of a replica that died (killed, not stopped) is taken by another, or by the restarted one, after this"},
		{flag: "notifications", env: "LINLI_NOTIFICATIONS", value: &o.notifications, usage: "tell people what happened (inbox, reminders, channels); false: nobody is notified"},
		{flag: "reminder-sweep", env: "LINLI_REMINDER_SWEEP", value: &cfg.Notify.ReminderSweep, positive: true, usage: "how often reminders that fell due are put in inboxes (their lateness is at most this)"},
		{flag: "follow-up-after", env: "LINLI_FOLLOW_UP_AFTER", value: &cfg.Notify.FollowUpAfter, positive: true, usage: "how long after a request's resolution its submitter, if they have not confirmed it, is asked how it went (回访)"},
		{flag: "session-lifetime", env: "LINLI_SESSION_LIFETIME", value: &cfg.Sessions.Resident, positive: true, usage: "absolute lifetime of a resident's, volunteer's or team leader's session"},
		{flag: "session-idle-timeout", env: "LINLI_SESSION_IDLE_TIMEOUT", value: &cfg.Sessions.ResidentIdle, positive: true, usage: "a resident's session ends when unused this long"},
		{flag: "staff-session-lifetime", env: "LINLI_STAFF_SESSION_LIFETIME", value: &cfg.Sessions.Staff, positive: true, usage: "absolute lifetime of a coordinator's or admin's session"},
		{flag: "staff-session-idle-timeout", env: "LINLI_STAFF_SESSION_IDLE_TIMEOUT", value: &cfg.Sessions.StaffIdle, positive: true, usage: "a coordinator's or admin's session ends when unused this long"},
		{flag: "login-lockout-failures", env: "LINLI_LOGIN_LOCKOUT_FAILURES", value: &cfg.LockoutFailures, usage: "failed logins of a phone from one address that lock that pair for -login-lockout-duration; 0 disables the lockout"},
		{flag: "login-lockout-sources", env: "LINLI_LOGIN_LOCKOUT_SOURCES", value: &cfg.LockoutSources, positive: true, usage: "addresses whose failed logins of one phone lock the phone everywhere"},
		{flag: "login-lockout-duration", env: "LINLI_LOGIN_LOCKOUT_DURATION", value: &cfg.LockoutDuration, positive: true, usage: "how long a lock lasts, and the window failures are counted in; unlockLogin lifts it at once"},
		{flag: "my-data-per-hour", env: "LINLI_MY_DATA_PER_HOUR", value: &cfg.MyDataPerHour, positive: true, usage: "downloads of their own data (myData, /me/data) a person may make per hour"},
		{flag: "token-cache-ttl", env: "LINLI_TOKEN_CACHE_TTL", value: &cfg.TokenCacheTTL, usage: "how long a checked bearer token is trusted without asking the database; a logout here ends it at once, elsewhere (and role changes) within this; 0: check every request"},
		{flag: "get-max-age", env: "LINLI_GET_MAX_AGE", value: &g.GetMaxAge, usage: "let caches keep successful GET answers this long (public without Authorization, private with it); 0: no-store"},

		// Limits of every request, on every transport.
		{flag: "max-body-bytes", env: "LINLI_MAX_BODY_BYTES", value: &cfg.MaxBodyBytes, positive: true, usage: "largest request body (bytes); larger is 413"},
		{flag: "max-upload-bytes", env: "LINLI_MAX_UPLOAD_BYTES", value: &cfg.MaxUploadBytes, positive: true, usage: "largest file upload request (multipart, bytes), e.g. a spreadsheet import; its operations stay within -max-body-bytes; larger is 413"},
		{flag: "max-uploads-per-address", env: "LINLI_MAX_UPLOADS_PER_ADDRESS", value: &g.MaxUploadsPerAddress, usage: "upload bodies (multipart) one client address may have in flight at once; one more is 429 RATE_LIMITED; -1: no bound"},
		{flag: "body-timeout", env: "LINLI_BODY_TIMEOUT", value: &cfg.BodyTimeout, positive: true, usage: "time a client has to send a request body; then 408 TIMEOUT"},
		{flag: "request-timeout", env: "LINLI_REQUEST_TIMEOUT", value: &cfg.RequestTimeout, positive: true, usage: "time a query or mutation may run; then TIMEOUT (subscriptions live on)"},
		{flag: "max-tokens", env: "LINLI_MAX_TOKENS", value: &g.TokenLimit, positive: true, usage: "parser tokens in a query, checked before validation"},
		{flag: "max-selections", env: "LINLI_MAX_SELECTIONS", value: &g.MaxSelections, positive: true, usage: "fields, spreads and inline fragments written in a query"},
		{flag: "max-depth", env: "LINLI_MAX_DEPTH", value: &g.MaxDepth, positive: true, usage: "depth of a query"},
		{flag: "max-complexity", env: "LINLI_MAX_COMPLEXITY", value: &g.MaxComplexity, positive: true, usage: "cost of a query (connections multiply by their page size, lists by their bound)"},
		{flag: "list-bound", env: "LINLI_LIST_BOUND", value: &g.ListBound, positive: true, usage: "cost multiplier of a list field not known to be short"},
		{flag: "max-resolved-fields", env: "LINLI_MAX_RESOLVED_FIELDS", value: &g.MaxResolvedFields, positive: true, usage: "fields one response may resolve, list elements counted"},
		{flag: "max-string-bytes", env: "LINLI_MAX_STRING_BYTES", value: &g.MaxStringBytes, positive: true, usage: "longest string argument (bytes)"},
		{flag: "max-page", env: "LINLI_MAX_PAGE", value: &g.MaxPage, positive: true, usage: "largest first/last of a connection"},

		// Live connections.
		{flag: "ws-init-timeout", env: "LINLI_WS_INIT_TIMEOUT", value: &l.InitTimeout, positive: true, usage: "wait for a websocket's connection_init; then close 4408"},
		{flag: "ws-ping-interval", env: "LINLI_WS_PING_INTERVAL", value: &l.PingInterval, positive: true, usage: "websocket ping interval; a peer silent for two is dropped"},
		{flag: "ws-max-frame-bytes", env: "LINLI_WS_MAX_FRAME_BYTES", value: &l.MaxFrameBytes, positive: true, usage: "largest websocket message (bytes); larger closes with 1009"},
		{flag: "max-subscriptions-per-socket", env: "LINLI_MAX_SUBSCRIPTIONS_PER_SOCKET", value: &l.MaxSubscriptionsPerSocket, positive: true, usage: "subscriptions one websocket may run; one more is RATE_LIMITED"},
		{flag: "max-pending-sockets-per-address", env: "LINLI_MAX_PENDING_SOCKETS_PER_ADDRESS", value: &l.MaxPendingPerAddress, usage: "websockets one client address may hold open before connection_init; one more upgrade is 429; -1: no bound"},
		{flag: "live-plain-counts", env: "LINLI_LIVE_PLAIN_COUNTS", value: &l.PlainCounts, usage: "serve activityCounts through gqlgen's executor instead of the fast path (graph/fastcounts.go): slower, a switch should the fast path ever misbehave"},
		{flag: "max-connections-per-person", env: "LINLI_MAX_CONNECTIONS_PER_PERSON", value: &l.MaxConnectionsPerPerson, usage: "websockets and SSE streams one person (all their sessions) or kiosk may hold open per replica; -1: no bound"},
	}
}

// defaults is the configuration before flags and environment: every
// default filled in, so that -h shows them and the settings start from them.
func defaults() (Config, options) {
	cfg := DefaultConfig()
	cfg.GraphQL = cfg.GraphQL.Defaults()
	cfg.Live = cfg.Live.Defaults()
	cfg.Store.MaxOpenConns = store.DefaultPostgresConns
	cfg.Store.ReadMaxLag = store.DefaultReadMaxLag
	cfg.PersistedQueries.MaxDocuments = 5000
	return cfg, options{addr: ":8080", logLevel: "info", demo: true, notifications: true}
}

// register adds the settings to fs as flags and applies the environment
// variables that are set (not empty); flags parsed afterwards win. A
// variable that does not parse is an error naming it.
func register(fs *flag.FlagSet, list []setting) error {
	for _, s := range list {
		usage := s.usage + " (" + s.env + ")"
		switch p := s.value.(type) {
		case *string:
			fs.StringVar(p, s.flag, *p, usage)
		case *bool:
			fs.BoolVar(p, s.flag, *p, usage)
		case *int:
			fs.IntVar(p, s.flag, *p, usage)
		case *int64:
			fs.Int64Var(p, s.flag, *p, usage)
		case *float64:
			fs.Float64Var(p, s.flag, *p, usage)
		case *time.Duration:
			fs.DurationVar(p, s.flag, *p, usage)
		default:
			panic(fmt.Sprintf("setting %s: unsupported type %T", s.flag, s.value))
		}
	}
	for _, s := range list {
		if v := os.Getenv(s.env); v != "" {
			if err := fs.Set(s.flag, v); err != nil {
				return fmt.Errorf("%s=%q: %w", s.env, v, err)
			}
		}
	}
	return nil
}

// checkLimits refuses a limit set to 0 or less.
func checkLimits(list []setting) error {
	for _, s := range list {
		if !s.positive {
			continue
		}
		var ok bool
		switch p := s.value.(type) {
		case *int:
			ok = *p > 0
		case *int64:
			ok = *p > 0
		case *float64:
			ok = *p > 0
		case *time.Duration:
			ok = *p > 0
		}
		if !ok {
			return fmt.Errorf("-%s (%s) must be above 0", s.flag, s.env)
		}
	}
	return nil
}
