// Package wsgorilla adapts gorilla/websocket to gqlgen's websocket transport
// (transport.WebsocketImplementation). Besides the plain adapter it owns what
// gqlgen leaves to the socket: the initialisation timeout (closed with 4408,
// where gqlgen would send 1002), websocket-level ping/pong that reaps dead
// peers, write deadlines, and a registry of open sockets so the server can
// close them all with 1001 when it shuts down.
package wsgorilla

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// Close codes beyond RFC 6455 used by graphql-transport-ws.
const (
	CloseForbidden   = 4403
	CloseInitTimeout = 4408
	// CloseTooManyConnections refuses a socket beyond a credential's bound.
	CloseTooManyConnections = 4429
	CloseGoingAway          = websocket.CloseGoingAway
)

// DefaultInitTimeout is how long a socket may stay without connection_init.
const DefaultInitTimeout = 3 * time.Second

// Options tune the adapter. Zero fields take the defaults in parentheses.
type Options struct {
	// CheckOrigin decides whether a browser origin may open a socket (same
	// origin only).
	CheckOrigin func(r *http.Request) bool
	// InitTimeout bounds the wait for connection_init (3 s, the reference
	// graphql-ws server's default): a socket that never authenticates holds
	// a goroutine and a buffer for no more than that.
	InitTimeout time.Duration
	// PingInterval is how often the server pings; a peer that answers
	// nothing for two intervals is dropped (25 s).
	PingInterval time.Duration
	// WriteTimeout bounds one write (10 s); a peer that reads nothing is dropped.
	WriteTimeout time.Duration
	// ReadBufferSize is the per-socket read buffer (512 bytes). Clients send
	// a few small messages (connection_init, subscribe, ping), so a small
	// buffer costs nothing in speed; the HTTP server's 4 KB reader, which a
	// zero size would keep for the socket's life, is released instead.
	ReadBufferSize int
}

// Defaults fills zero fields with the defaults above.
func (o Options) Defaults() Options {
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = 512
	}
	return o
}

// writeBuffers are the sockets' write buffers, shared: a socket holds one
// only while it writes a message.
var writeBuffers websocket.BufferPool = &sync.Pool{}

// Adapter is a transport.WebsocketImplementation over gorilla/websocket.
type Adapter struct {
	opts     Options
	upgrader websocket.Upgrader

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
}

var _ transport.WebsocketImplementation = (*Adapter)(nil)

// New returns an adapter.
func New(o Options) *Adapter {
	o = o.Defaults()
	return &Adapter{
		opts: o,
		upgrader: websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   o.ReadBufferSize,
			// Write buffers come from a pool and go back to it when a
			// message is written: thousands of subscribers sit idle between
			// changes and hold no write buffer meanwhile (the HTTP server's
			// 4 KB writer, which gorilla would otherwise keep per socket, is
			// released).
			WriteBufferPool: writeBuffers,
			CheckOrigin:     o.CheckOrigin,
		},
		conns: map[*Conn]struct{}{},
	}
}

// Accept implements transport.WebsocketImplementation.
func (a *Adapter) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return nil, errors.New("wsgorilla: shutting down")
	}
	up := a.upgrader
	up.Subprotocols = o.Subprotocols
	// gorilla has already answered the request when Upgrade fails; gqlgen
	// then writes its own error to the hijacked or finished writer, which
	// is harmless but noisy, so callers should refuse bad origins first.
	ws, err := up.Upgrade(w, r, o.ResponseHeader)
	if err != nil {
		return nil, err
	}
	c := &Conn{ws: ws, adapter: a, opts: a.opts, awaitingInit: true}
	if h := holderFrom(r.Context()); h != nil {
		h.set(c)
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		_ = c.CloseWith(CloseGoingAway, "server shutting down")
		return c, nil
	}
	a.conns[c] = struct{}{}
	a.mu.Unlock()
	c.start()
	return c, nil
}

// Closing reports whether Shutdown has begun.
func (a *Adapter) Closing() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// Open reports how many sockets are open.
func (a *Adapter) Open() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.conns)
}

// Shutdown refuses new sockets and closes every open one with 1001, in
// parallel, returning when all close frames are written or ctx ends.
func (a *Adapter) Shutdown(ctx context.Context) {
	a.mu.Lock()
	a.closed = true
	conns := make([]*Conn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()

	work := make(chan *Conn)
	var wg sync.WaitGroup
	for range min(len(conns), 32) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				_ = c.CloseWith(CloseGoingAway, "server shutting down")
			}
		}()
	}
feed:
	for _, c := range conns {
		select {
		case work <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}

func (a *Adapter) forget(c *Conn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
}

// Conn is one socket; it implements transport.WebsocketConn and
// transport.WebsocketReadLimiter.
type Conn struct {
	ws      *websocket.Conn
	adapter *Adapter
	opts    Options

	mu           sync.Mutex
	awaitingInit bool // no message read yet
	initTimedOut bool
	closeSent    bool
	closed       bool
	// readFailed: the read side has ended with an error, so nobody else is
	// reading and Close may drain what the peer still sends.
	readFailed bool
	pinger     *time.Timer
}

var (
	_ transport.WebsocketConn        = (*Conn)(nil)
	_ transport.WebsocketReadLimiter = (*Conn)(nil)
)

// start arms the init deadline and the pinger. Timers rather than a
// goroutine per socket keep an idle subscriber cheap.
func (c *Conn) start() {
	_ = c.ws.SetReadDeadline(time.Now().Add(c.opts.InitTimeout))
	c.ws.SetPongHandler(func(string) error {
		c.mu.Lock()
		waiting := c.awaitingInit
		c.mu.Unlock()
		if waiting {
			return nil // the init deadline stays
		}
		return c.ws.SetReadDeadline(time.Now().Add(2 * c.opts.PingInterval))
	})
	c.mu.Lock()
	c.pinger = time.AfterFunc(c.opts.PingInterval, c.ping)
	c.mu.Unlock()
}

func (c *Conn) ping() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.WriteTimeout)); err != nil {
		_ = c.Close()
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.pinger.Reset(c.opts.PingInterval)
	}
	c.mu.Unlock()
}

// NextReader implements transport.WebsocketConn: a normal close by the peer
// becomes transport.ErrWebsocketClosed.
func (c *Conn) NextReader() (int, io.Reader, error) {
	mt, r, err := c.ws.NextReader()
	if err != nil {
		c.mu.Lock()
		if c.awaitingInit {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				c.initTimedOut = true
			}
		}
		if errors.Is(err, websocket.ErrReadLimit) {
			c.closeSent = true // gorilla has sent 1009
		}
		c.readFailed = !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived, CloseForbidden, CloseInitTimeout, websocket.CloseMessageTooBig)
		c.mu.Unlock()
		if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
			return 0, nil, transport.ErrWebsocketClosed
		}
		return 0, nil, err
	}
	c.mu.Lock()
	if c.awaitingInit {
		c.awaitingInit = false
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.opts.PingInterval))
	}
	c.mu.Unlock()
	return mt, limitedReader{r: r, c: c}, nil
}

// limitedReader notices the read limit tripping inside a fragmented
// message, where gorilla has already sent 1009.
type limitedReader struct {
	r io.Reader
	c *Conn
}

func (l limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if errors.Is(err, websocket.ErrReadLimit) {
		l.c.mu.Lock()
		l.c.closeSent = true
		l.c.mu.Unlock()
	}
	return n, err
}

// WriteJSON implements transport.WebsocketConn. gqlgen serialises its writes.
func (c *Conn) WriteJSON(v any) error {
	bp := bufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			bufs.Put(bp)
		}
	}()
	b, ok := appendMessage((*bp)[:0], v)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	} else {
		*bp = b
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		_ = c.Close()
		return err
	}
	return nil
}

// WriteClose implements transport.WebsocketConn. Only the first close frame
// is sent; a failed initialisation read by timeout becomes 4408.
func (c *Conn) WriteClose(code int, message string) error {
	c.mu.Lock()
	if c.initTimedOut {
		code, message = CloseInitTimeout, "Connection initialisation timeout"
	}
	c.mu.Unlock()
	return c.writeClose(code, message)
}

func (c *Conn) writeClose(code int, message string) error {
	c.mu.Lock()
	if c.closeSent || c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closeSent = true
	c.mu.Unlock()
	if len(message) > 120 {
		message = message[:120]
	}
	return c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, message), time.Now().Add(time.Second))
}

// CloseWith sends a close frame with code and lets the peer answer it for
// up to a second; gqlgen's read loop then ends (on the answer or the
// deadline), closes the socket and cancels its subscriptions.
func (c *Conn) CloseWith(code int, message string) error {
	err := c.writeClose(code, message)
	_ = c.ws.UnderlyingConn().SetReadDeadline(time.Now().Add(time.Second))
	time.AfterFunc(2*time.Second, func() { _ = c.Close() })
	return err
}

// Close implements io.Closer. When the read side failed (an oversize frame,
// say) the peer may still be sending: closing at once would reset the
// connection and could destroy the close frame just written, so the rest is
// read and discarded briefly first.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.pinger != nil {
		c.pinger.Stop()
	}
	drain := c.readFailed && c.closeSent
	c.mu.Unlock()
	c.adapter.forget(c)
	if drain {
		go func() {
			nc := c.ws.UnderlyingConn()
			_ = nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, _ = io.Copy(io.Discard, nc)
			_ = c.ws.Close()
		}()
		return nil
	}
	return c.ws.Close()
}

// Subprotocol implements transport.WebsocketConn.
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// SetReadLimit implements transport.WebsocketReadLimiter: a bigger frame
// closes the socket with 1009.
func (c *Conn) SetReadLimit(limit int64) { c.ws.SetReadLimit(limit) }

type holderKey struct{}

type holder struct {
	mu sync.Mutex
	c  *Conn
}

func (h *holder) set(c *Conn) {
	h.mu.Lock()
	h.c = c
	h.mu.Unlock()
}

// WithConnSlot returns ctx with room for the socket that Accept will create
// for this request, so code running later with the connection's context
// (gqlgen's InitFunc) can reach it through ConnFrom.
func WithConnSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, holderKey{}, &holder{})
}

func holderFrom(ctx context.Context) *holder {
	h, _ := ctx.Value(holderKey{}).(*holder)
	return h
}

// ConnFrom returns the socket of a request prepared with WithConnSlot, or nil.
func ConnFrom(ctx context.Context) *Conn {
	h := holderFrom(ctx)
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.c
}
