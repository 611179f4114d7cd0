package wsgorilla

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
)

// ServeDetached serves a websocket upgrade request with next on a goroutine
// of its own and returns as soon as next has hijacked the connection (or
// answered without upgrading). next keeps running for the socket's life,
// with the request's values; its request's context ends when next returns
// (not when this handler does, which is when net/http would end it).
//
// The point is memory. While the handler that hijacked a connection is
// still running, net/http keeps the connection's 4 KB read and write
// buffers, the response's 2 KB buffer, and a goroutine stack as deep as the
// whole middleware chain, none of them used again: the socket has buffers
// of its own. Returning lets all of that go; the detached goroutine's stack
// holds only next's frames.
func ServeDetached(w http.ResponseWriter, r *http.Request, next http.Handler) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	d := &detachedWriter{w: w, hj: hj, hijacked: make(chan struct{})}
	done := make(chan struct{})
	// Like net/http, end the request's context when next returns.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	r = r.WithContext(ctx)
	go func() {
		defer close(done)
		defer cancel()
		next.ServeHTTP(d, r)
		d.release()
	}()
	select {
	case <-d.hijacked:
	case <-done:
	}
}

// detachedWriter passes everything to the request's writer until the
// connection is hijacked, and nothing after: the handler that owned the
// writer has returned by then.
type detachedWriter struct {
	mu       sync.Mutex
	w        http.ResponseWriter // nil once hijacked or finished
	hj       http.Hijacker
	header   http.Header // what Header returns once w is gone
	hijacked chan struct{}
}

func (d *detachedWriter) Header() http.Header {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		if d.header == nil {
			d.header = http.Header{}
		}
		return d.header
	}
	return d.w.Header()
}

func (d *detachedWriter) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return 0, http.ErrHijacked
	}
	return d.w.Write(b)
}

func (d *detachedWriter) WriteHeader(code int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w != nil {
		d.w.WriteHeader(code)
	}
}

// Hijack implements http.Hijacker and lets the request's handler return.
func (d *detachedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return nil, nil, http.ErrHijacked
	}
	c, brw, err := d.hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	d.w, d.hj = nil, nil
	close(d.hijacked)
	return c, brw, nil
}

// release forgets the request's writer once next has returned.
func (d *detachedWriter) release() {
	d.mu.Lock()
	d.w, d.hj = nil, nil
	d.mu.Unlock()
}
