package app

import (
	"context"
	"net/http"
	"strings"

	"linli/apperr"
	"linli/httpapi"
	"linli/viewer"
)

// streamGate admits graphql-sse single-connection streams. A reservation
// is a live connection of the credential that made it, from the PUT on:
// it counts towards MaxConnectionsPerPerson and is watched like a
// socket, so logout, kiosk revocation, a change of roles or teams and the
// session's expiry end it, its stream and its operations. Every operation
// on it runs as the token's current viewer with the socket's subscription
// cap (socketOperations).
type streamGate struct{ a *App }

func (g streamGate) Reserve(r *http.Request, end func()) (httpapi.StreamOwner, error) {
	v := viewer.FromContext(r.Context())
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if v == nil || token == "" {
		return nil, apperr.New(apperr.Unauthenticated, "reserve an event stream with the bearer token of the session or kiosk it is for")
	}
	s := &socket{token: strings.TrimSpace(token), viewer: v, end: func(string) { end() }}
	stop, ok := g.a.live.sessions.watch(v, s.end)
	if !ok {
		return nil, apperr.New(apperr.RateLimited, "too many live connections for this token")
	}
	return &streamOwner{key: keyOf(v), socket: s, release: stop}, nil
}

type streamOwner struct {
	key     liveKey
	socket  *socket
	release func()
}

// Owns admits requests with the reserving credential, and, where the
// protocol lets an EventSource in by the reservation's token alone, those
// with none; never another credential.
func (o *streamOwner) Owns(r *http.Request, anonymousAllowed bool) bool {
	v := viewer.FromContext(r.Context())
	if v == nil {
		return anonymousAllowed && r.Header.Get("Authorization") == ""
	}
	return keyOf(v) == o.key
}

func (o *streamOwner) Operation(ctx context.Context) context.Context {
	return context.WithValue(ctx, socketKey{}, o.socket)
}

func (o *streamOwner) Release() { o.release() }
