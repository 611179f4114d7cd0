// Package reqlog gives every request an id and a logger that carries it.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
)

type ctxKey struct{}

type entry struct {
	id  string
	log *slog.Logger
}

// Middleware assigns a request id (reusing a sane X-Request-Id), echoes it
// in the response and puts a logger carrying it in the context.
func Middleware(base *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), ctxKey{}, &entry{id: id, log: base.With(slog.String("request_id", id))})
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx = WithClientAddr(ctx, host)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ID returns the request id of ctx, or "".
func ID(ctx context.Context) string {
	if e, ok := ctx.Value(ctxKey{}).(*entry); ok {
		return e.id
	}
	return ""
}

// From returns the request's logger, or the default logger.
func From(ctx context.Context) *slog.Logger {
	if e, ok := ctx.Value(ctxKey{}).(*entry); ok {
		return e.log
	}
	return slog.Default()
}

type addrKey struct{}

// WithClientAddr records the client's network address (for rate limits).
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addrKey{}, addr)
}

// ClientAddr returns the client's address recorded in ctx, or "".
func ClientAddr(ctx context.Context) string {
	s, _ := ctx.Value(addrKey{}).(string)
	return s
}
