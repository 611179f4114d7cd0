package tracing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// OpenDB is sql.Open, with a span for each statement when tracing is on:
// every query linli makes, through Ent or on the raw handle, passes through
// the connections it opens. A statement gets a span only inside a traced
// operation (a request, a job run): the job runner's polls and the other
// background statements make no root spans of their own. The span records
// the statement's text (cut at 2,000 bytes) and never its arguments.
// Commits and rollbacks get spans too. With tracing off it is sql.Open.
func OpenDB(driverName, dsn string) (*sql.DB, error) {
	if !Enabled() {
		return sql.Open(driverName, dsn)
	}
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	_ = probe.Close()
	system := map[string]string{"postgres": "postgresql", "sqlite": "sqlite"}[driverName]
	if system == "" {
		system = driverName
	}
	var c driver.Connector = dsnConnector{dsn: dsn, d: d}
	if dc, ok := d.(driver.DriverContext); ok {
		if c, err = dc.OpenConnector(dsn); err != nil {
			return nil, err
		}
	}
	return sql.OpenDB(&connector{inner: c, system: system}), nil
}

// dsnConnector opens connections of a driver without its own connector.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

type connector struct {
	inner  driver.Connector
	system string
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn_{Conn: conn, system: c.system}, nil
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

func (c *connector) Close() error {
	if cl, ok := c.inner.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// maxStatement bounds the statement text a span records.
const maxStatement = 2000

// startStatement starts a statement's span under ctx's recorded span, or
// returns nil when there is none.
func startStatement(ctx context.Context, system, query string) trace.Span {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return nil
	}
	if len(query) > maxStatement {
		query = query[:maxStatement]
	}
	_, span := tracer().Start(ctx, statementName(query), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", system), attribute.String("db.query.text", query)))
	return span
}

// statementName is the statement's first keyword ("SELECT", "INSERT" …).
func statementName(query string) string {
	q := strings.TrimSpace(query)
	if i := strings.IndexAny(q, " \n\t("); i > 0 {
		q = q[:i]
	}
	if len(q) > 20 || q == "" {
		return "SQL"
	}
	return strings.ToUpper(q)
}

func endStatement(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil && err != driver.ErrSkip {
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// conn_ wraps a driver connection; every optional interface database/sql
// looks for is passed on, or answered the way database/sql answers its
// absence (driver.ErrSkip: prepare instead).
type conn_ struct {
	driver.Conn
	system string
}

var (
	_ driver.ExecerContext      = (*conn_)(nil)
	_ driver.QueryerContext     = (*conn_)(nil)
	_ driver.ConnPrepareContext = (*conn_)(nil)
	_ driver.ConnBeginTx        = (*conn_)(nil)
	_ driver.Pinger             = (*conn_)(nil)
	_ driver.SessionResetter    = (*conn_)(nil)
	_ driver.Validator          = (*conn_)(nil)
	_ driver.NamedValueChecker  = (*conn_)(nil)
)

func (c *conn_) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	span := startStatement(ctx, c.system, query)
	res, err := e.ExecContext(ctx, query, args)
	if err == driver.ErrSkip && span != nil {
		// The statement is prepared next: its span is the statement's.
		span = nil
	}
	endStatement(span, err)
	return res, err
}

func (c *conn_) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	span := startStatement(ctx, c.system, query)
	rows, err := q.QueryContext(ctx, query, args)
	if err == driver.ErrSkip {
		span = nil
	}
	endStatement(span, err)
	return rows, err
}

func (c *conn_) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &stmt{Stmt: st, query: query, system: c.system}, nil
}

func (c *conn_) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn_) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.Conn.Begin() //nolint:staticcheck // the driver has no BeginTx
	}
	if err != nil {
		return nil, err
	}
	return &tx_{Tx: tx, ctx: ctx, system: c.system}, nil
}

func (c *conn_) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *conn_) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn_) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *conn_) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type stmt struct {
	driver.Stmt
	query, system string
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	span := startStatement(ctx, s.system, s.query)
	var (
		res driver.Result
		err error
	)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		res, err = e.ExecContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = values(args); err == nil {
			res, err = s.Stmt.Exec(vals) //nolint:staticcheck // the driver has no ExecContext
		}
	}
	endStatement(span, err)
	return res, err
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	span := startStatement(ctx, s.system, s.query)
	var (
		rows driver.Rows
		err  error
	)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		rows, err = q.QueryContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = values(args); err == nil {
			rows, err = s.Stmt.Query(vals) //nolint:staticcheck // the driver has no QueryContext
		}
	}
	endStatement(span, err)
	return rows, err
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func values(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errNamed
		}
		out[i] = a.Value
	}
	return out, nil
}

var errNamed = driverError("tracing: the driver takes no named arguments")

type driverError string

func (e driverError) Error() string { return string(e) }

type tx_ struct {
	driver.Tx
	ctx    context.Context
	system string
}

func (t *tx_) Commit() error {
	span := startStatement(t.ctx, t.system, "COMMIT")
	err := t.Tx.Commit()
	endStatement(span, err)
	return err
}

func (t *tx_) Rollback() error {
	span := startStatement(t.ctx, t.system, "ROLLBACK")
	err := t.Tx.Rollback()
	endStatement(span, err)
	return err
}
