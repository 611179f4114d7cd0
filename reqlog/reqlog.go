// Package reqlog gives every request an id and a logger that carries it.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

type ctxKey struct{}

type entry struct {
	id  string
	log *slog.Logger
}

// Middleware assigns a request id (reusing a sane X-Request-Id), echoes it
// in the response and puts a logger carrying it, and the client's address,
// in the context. trustedProxies are the reverse proxies in front of linli
// whose X-Forwarded-For is believed (see ClientAddress).
func Middleware(base *slog.Logger, trustedProxies []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		log := base.With(slog.String("request_id", id))
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			// Traced (tracing.HTTP): the request's lines carry its trace.
			log = log.With(slog.String("trace_id", sc.TraceID().String()))
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, &entry{id: id, log: log})
		ctx = WithClientAddr(ctx, ClientAddress(r, trustedProxies))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ClientAddress is the address of the client that sent r. It is the TCP
// peer, unless the peer is one of trustedProxies: then X-Forwarded-For is
// read from the right (each proxy appends the address it received from),
// skipping trusted proxies, and the first address no trusted proxy vouches
// for is the client. Whatever a client writes into the header itself stays
// to the left of that and is never believed, so rate limits cannot be
// dodged by forging it, nor can all clients behind a proxy share one
// bucket.
func ClientAddress(r *http.Request, trustedProxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !trusted(peer, trustedProxies) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A hop a trusted proxy would not write: stop at the last
			// address vouched for.
			break
		}
		a = a.Unmap()
		if !trusted(a, trustedProxies) {
			return a.String()
		}
		peer = a
	}
	return peer.Unmap().String()
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
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
