package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"

	"entgo.io/ent/dialect"
)

// Behind a transaction-mode pooler (PgBouncer's pool_mode = transaction) a
// client's statements outside a transaction may each run on a different
// server connection. linli keeps no session state on its pooled
// connections: no SET, no session advisory locks (the audit chain's lock
// is pg_advisory_xact_lock), no LISTEN (the broker listens through
// Options.ListenURL). Two habits of lib/pq still need the pooler's
// server to stay the same between two messages, and Options.TransactionPooling
// turns them off:
//
//   - a statement with arguments is parsed into the unnamed prepared
//     statement and then, after a Sync the pooler may release the server
//     on, bound and executed. lib/pq's binary_parameters mode sends parse,
//     bind and execute at once (pooledURL sets it);
//   - a *sql.Stmt is a named prepared statement on one server connection:
//     DB.Pooled tells the live broker not to keep one.
//
// In binary_parameters mode lib/pq sends a []byte argument in binary, which
// is right for bytea columns but not for jsonb: Ent passes JSON fields as
// json.RawMessage, which pooledDriver turns into text first.

// pooledURL is dsn with lib/pq's binary_parameters on.
func pooledURL(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("store: database URL: %w", err)
	}
	q := u.Query()
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// pooledDriver sends Ent's JSON arguments as text.
type pooledDriver struct{ dialect.Driver }

func (d pooledDriver) Exec(ctx context.Context, q string, args, v any) error {
	return d.Driver.Exec(ctx, q, textJSON(args), v)
}

func (d pooledDriver) Query(ctx context.Context, q string, args, v any) error {
	return d.Driver.Query(ctx, q, textJSON(args), v)
}

func (d pooledDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return pooledTx{tx}, nil
}

type pooledTx struct{ dialect.Tx }

func (t pooledTx) Exec(ctx context.Context, q string, args, v any) error {
	return t.Tx.Exec(ctx, q, textJSON(args), v)
}

func (t pooledTx) Query(ctx context.Context, q string, args, v any) error {
	return t.Tx.Query(ctx, q, textJSON(args), v)
}

// textJSON replaces json.RawMessage arguments by strings (copying the
// slice only when there is one).
func textJSON(args any) any {
	list, ok := args.([]any)
	if !ok || len(list) == 0 {
		return args
	}
	var out []any
	for i, a := range list {
		if m, ok := a.(json.RawMessage); ok {
			if out == nil {
				out = append([]any(nil), list...)
			}
			out[i] = string(m)
		}
	}
	if out == nil {
		return args
	}
	return out
}

// BeginTx starts a transaction with options, as Ent's Client.BeginTx wants.
func (d pooledDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("store: the driver does not support BeginTx")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return pooledTx{tx}, nil
}

// execQuerier is raw SQL through Ent (Client.ExecContext, Tx.QueryContext, …).
type execQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (d pooledDriver) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.Driver.(execQuerier).ExecContext(ctx, q, textJSON(args).([]any)...)
}

func (d pooledDriver) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.Driver.(execQuerier).QueryContext(ctx, q, textJSON(args).([]any)...)
}

func (t pooledTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.(execQuerier).ExecContext(ctx, q, textJSON(args).([]any)...)
}

func (t pooledTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.(execQuerier).QueryContext(ctx, q, textJSON(args).([]any)...)
}
