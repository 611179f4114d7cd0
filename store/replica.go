package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"linli/ent"
)

// A read replica (Options.ReadURL, a PostgreSQL streaming standby of the
// primary) serves the reads that may be a moment old: statistics, exports
// and public lists go through DB.Read. Everything else, and everything that
// must see its own writes, goes through DB.Client, the primary.
//
// DB.Read sends a SELECT outside a transaction to the replica while the
// replica is healthy: reachable, and replaying the primary's WAL less than
// Options.ReadMaxLag behind. Every other statement, every transaction, and
// every read while the replica lags or is unreachable goes to the primary;
// a read the replica fails is repeated on the primary. A checker asks the
// replica every ReadCheckInterval; the metrics say where reads go.

// DefaultReadMaxLag is Options.ReadMaxLag when not set.
const DefaultReadMaxLag = 10 * time.Second

var (
	replicaUp = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "linli_read_replica_up",
		Help: "1 while reads that may be a moment old go to the read replica; 0 while they fall back to the primary (replica lagging or unreachable).",
	})
	replicaLag = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "linli_read_replica_lag_seconds",
		Help: "How far the read replica's replay was behind at the last check (0: caught up with what it received).",
	})
	replicaReads = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "linli_read_queries_total",
		Help: "Statements of the replica-eligible reads (statistics, exports, public lists), by where they ran: replica, or primary (fallback).",
	}, []string{"on"})
	replicaFallbacks = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "linli_read_replica_fallbacks_total",
		Help: "Times reads fell back to the primary, by reason: lag, down (check failed) or error (a read failed on the replica).",
	}, []string{"reason"})
)

// replica is the read replica and what the checker last saw of it.
type replica struct {
	sql     *sql.DB
	drv     dialect.Driver
	maxLag  time.Duration
	every   time.Duration
	log     *slog.Logger
	healthy atomic.Bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// openReplica connects to the replica at url and starts its checker; an
// unreachable replica is not an error (reads go to the primary until it
// answers).
func openReplica(url string, o Options) (*replica, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("store: read database URL: %w", err)
	}
	n := o.MaxOpenConns
	if n <= 0 {
		n = DefaultPostgresConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	r := &replica{sql: db, drv: entsql.OpenDB(dialect.Postgres, db), maxLag: o.ReadMaxLag, every: o.ReadCheckInterval, log: o.Logger}
	if r.maxLag <= 0 {
		r.maxLag = DefaultReadMaxLag
	}
	if r.every <= 0 {
		r.every = min(time.Second, r.maxLag/2)
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.check(ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.check(ctx)
			}
		}
	}()
	return r, nil
}

// lagQuery is how far the replica's replay is behind: 0 when it replayed
// all it received (an idle primary sends nothing, and the last replayed
// transaction may then be old), else the age of the last replayed
// transaction. A server that is not in recovery is never behind.
const lagQuery = `SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
  ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END::float8`

// check asks the replica how far behind it is and sets healthy.
func (r *replica) check(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, max(r.every, time.Second))
	defer cancel()
	var lag float64
	err := r.sql.QueryRowContext(cctx, lagQuery).Scan(&lag)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		if r.healthy.Swap(false) {
			replicaFallbacks.WithLabelValues("down").Inc()
			r.log.Warn("read replica unreachable: reads go to the primary", "error", err.Error())
		}
		replicaUp.Set(0)
	case time.Duration(lag*float64(time.Second)) > r.maxLag:
		replicaLag.Set(lag)
		if r.healthy.Swap(false) {
			replicaFallbacks.WithLabelValues("lag").Inc()
			r.log.Warn("read replica lags: reads go to the primary", "lag_seconds", lag)
		}
		replicaUp.Set(0)
	default:
		replicaLag.Set(lag)
		if !r.healthy.Swap(true) {
			r.log.Info("read replica in use", "lag_seconds", lag)
		}
		replicaUp.Set(1)
	}
}

// failed marks the replica unhealthy after a read failed on it; the next
// check may take it back.
func (r *replica) failed(err error) {
	if r.healthy.Swap(false) {
		replicaFallbacks.WithLabelValues("error").Inc()
		replicaUp.Set(0)
		r.log.Warn("a read failed on the read replica: reads go to the primary", "error", err.Error())
	}
}

func (r *replica) close() {
	r.cancel()
	r.wg.Wait()
	r.sql.Close()
}

// readDriver is DB.Read's driver: replica-eligible SELECTs to the replica
// while it is healthy, everything else to the primary.
type readDriver struct {
	dialect.Driver // the primary
	r              *replica
}

func (d readDriver) Query(ctx context.Context, q string, args, v any) error {
	if d.r.healthy.Load() && isSelect(q) {
		err := d.r.drv.Query(ctx, q, args, v)
		if err == nil {
			replicaReads.WithLabelValues("replica").Inc()
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		d.r.failed(err)
	}
	replicaReads.WithLabelValues("primary").Inc()
	return d.Driver.Query(ctx, q, args, v)
}

// QueryContext is Query for raw SQL through Ent (Client.QueryContext).
func (d readDriver) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if d.r.healthy.Load() && isSelect(q) {
		rows, err := d.r.sql.QueryContext(ctx, q, args...)
		if err == nil {
			replicaReads.WithLabelValues("replica").Inc()
			return rows, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		d.r.failed(err)
	}
	replicaReads.WithLabelValues("primary").Inc()
	return d.Driver.(execQuerier).QueryContext(ctx, q, args...)
}

// ExecContext is Exec for raw SQL through Ent: always the primary.
func (d readDriver) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.Driver.(execQuerier).ExecContext(ctx, q, args...)
}

// Close closes the replica's connections; the primary's are DB.Client's.
func (d readDriver) Close() error { return nil }

// isSelect reports whether q is a plain SELECT (Ent writes its inserts
// and updates with RETURNING through Query too).
func isSelect(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// ReadReplicaInUse reports whether DB.Read's reads go to the replica now
// (false without one).
func (db *DB) ReadReplicaInUse() bool { return db.replica != nil && db.replica.healthy.Load() }

// openRead sets db.Read: the replica's client when o.ReadURL is set, else
// the primary's.
func (db *DB) openRead(o Options, primary dialect.Driver) error {
	db.Read = db.Client
	if o.ReadURL == "" {
		return nil
	}
	if !IsPostgres(o.ReadURL) || db.Dialect != dialect.Postgres {
		return errors.New("store: a read database URL needs PostgreSQL, as the primary and the replica")
	}
	r, err := openReplica(o.ReadURL, o)
	if err != nil {
		return err
	}
	db.replica = r
	db.Read = ent.NewClient(ent.Driver(readDriver{Driver: primary, r: r}))
	return nil
}
