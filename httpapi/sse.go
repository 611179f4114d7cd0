package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// SSE serves GraphQL over Server-Sent Events (the graphql-sse protocol) in
// both of its modes, through the same executor, and so the same limits,
// trusted documents and timeouts, as every other transport:
//
//   - distinct connections: a POST with a JSON body, or a GET with the
//     operation in the query string (a browser's EventSource), and
//     Accept: text/event-stream; the stream carries that one operation.
//     POST goes through gqlgen's transport.SSE, with the body decoded
//     first: transport.SSE answers a body it cannot decode with the whole
//     body, in the response and in the process log.
//   - single connection (with Streams): PUT reserves a stream, a GET (or
//     bodiless POST) with the reservation's token opens it, operations are
//     POSTed with the token and answered on the stream, DELETE stops one.
type SSE struct {
	transport.SSE
	// Streams serves the single-connection mode; nil turns it off.
	Streams *Streams
}

// StreamTokenHeader carries a single-connection stream's token.
const StreamTokenHeader = "X-GraphQL-Event-Stream-Token"

// StreamToken is the stream token a request names: the header, or (for an
// EventSource, which cannot send headers) the token query parameter of a
// GET asking for an event stream.
func StreamToken(r *http.Request) string {
	if t := r.Header.Get(StreamTokenHeader); t != "" {
		return t
	}
	if r.Method == http.MethodGet && AcceptsEventStream(r) {
		return r.URL.Query().Get("token")
	}
	return ""
}

// noStore is the Cache-Control of every answer no cache may keep: event
// streams, stream reservations, and anything asked for with a token in the
// URL (an EventSource's reservation), which a shared cache keyed by URL
// must never replay.
const noStore = "no-store, private"

// tokenInURL reports whether the request carries a stream token in its URL.
func tokenInURL(r *http.Request) bool { return r.URL.Query().Has("token") }

// fromURL reports whether the stream token came in the URL, as only an
// EventSource, which can send no header, has reason to send it: only then
// may a request without a credential use a reservation.
func fromURL(r *http.Request) bool { return r.Header.Get(StreamTokenHeader) == "" }

func (t SSE) Supports(r *http.Request) bool {
	// An upload is the upload transport's whatever its headers: it decides
	// who may send a body that large before reading it.
	if r.Header.Get("Upgrade") != "" || IsUpload(r) {
		return false
	}
	if t.Streams != nil && (r.Method == http.MethodPut || r.Method == http.MethodDelete || StreamToken(r) != "") {
		return true
	}
	if r.Method == http.MethodGet {
		return AcceptsEventStream(r)
	}
	return transport.POST{}.Supports(r) && AcceptsEventStream(r)
}

func (t SSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// Every answer here is personal or a credential (a stream, a
	// reservation's token) and must not be kept by any cache.
	w.Header().Set("Cache-Control", noStore)
	if s := t.Streams; s != nil {
		switch token := StreamToken(r); {
		case r.Method == http.MethodPut:
			s.reserve(w, r)
			return
		case r.Method == http.MethodDelete:
			s.stop(w, r, token)
			return
		case token != "" && r.Method == http.MethodGet && r.URL.Query().Get("query") != "":
			// Distinct mode with a reservation as the EventSource's
			// ticket: below.
		case token != "":
			s.serve(w, r, token, exec)
			return
		}
	}
	var params *graphql.RawParams
	var refusal string
	start := graphql.Now()
	if r.Method == http.MethodGet {
		params, refusal = parseQueryString(r.URL.RawQuery)
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			status, code, msg := BodyError(err)
			writeError(w, status, code, msg)
			return
		}
		params, refusal = parseBody(body)
	}
	if refusal != "" {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, refusal)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.distinct(w, r, exec, params)
}

// distinct serves the distinct-connections mode, over POST (a JSON body) or
// GET (the operation in the query string, decoded as for GET queries): the
// operation's results (or the errors that kept it from running) as next
// events, then complete. A mutation over GET is refused: GET must not
// change anything. An EventSource cannot send the bearer token, and the
// token never goes in a URL: such a client first reserves a stream with its
// token (PUT) and passes the reservation, single-use and short-lived, as
// ?token= (or the header); the operation then runs as the reservation's
// credential. Without one it runs anonymously.
//
// A client that accepts both an event stream and JSON but ranks JSON
// higher (urql sends every operation so) gets a stream for a subscription
// only: its queries and mutations are answered as GraphQL over HTTP.
func (t SSE) distinct(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams) {
	ctx := r.Context()
	if token := StreamToken(r); r.Method == http.MethodGet && token != "" && t.Streams != nil {
		st := t.Streams.claim(r, token)
		if st == nil {
			writeError(w, http.StatusNotFound, apperr.NotFound, "no such event stream reservation")
			return
		}
		defer st.cancel()
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(st.ctx, cancel)
		defer stop()
		ctx = st.owner.Operation(ctx)
	}
	oc, errs := exec.CreateOperationContext(ctx, params)
	if !PrefersEventStream(r) && (errs != nil || oc.Operation.Operation != ast.Subscription) {
		if media := negotiate(acceptHeader(r)); media != "" {
			answer(w, r, exec, ctx, params, oc, errs, media, nil)
			return
		}
	}
	out, ok := openEvents(w)
	if !ok {
		return
	}
	stop := out.keepAlive(ctx, t.KeepAlivePingInterval)
	defer stop()
	switch {
	case errs != nil:
		out.next(exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
	case oc.Operation.Operation == ast.Mutation && r.Method != http.MethodPost:
		out.next(codedResponse(apperr.ValidationFailed, "GET runs queries and subscriptions only; send mutations with POST"))
	default:
		responses, ctx := exec.DispatchOperation(graphql.WithOperationContext(ctx, oc), oc)
		for resp := responses(ctx); resp != nil; resp = responses(ctx) {
			if !out.next(resp) {
				return
			}
		}
	}
	// With an empty data line: an EventSource dispatches no event without
	// one, and its page needs to see complete to close it (else it
	// reconnects and runs the operation again).
	out.write([]byte("event: complete\ndata:\n\n"))
}

func codedResponse(code apperr.Code, msg string) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(code)}}}}
}

// events writes one event stream.
type events struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
	ok bool
}

func openEvents(w http.ResponseWriter) (*events, bool) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", noStore)
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	e := &events{w: w, rc: http.NewResponseController(w), ok: true}
	return e, e.write([]byte(":\n\n"))
}

func (e *events) write(b []byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.ok {
		return false
	}
	if _, err := e.w.Write(b); err != nil || e.rc.Flush() != nil {
		e.ok = false
	}
	return e.ok
}

func (e *events) next(resp *graphql.Response) bool {
	return e.write(fmt.Appendf(nil, "event: next\ndata: %s\n\n", encodeResponse(resp)))
}

// keepAlive writes a comment every interval until ctx ends or stop is called.
func (e *events) keepAlive(ctx context.Context, every time.Duration) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !e.write([]byte(": ping\n\n")) {
					return
				}
			}
		}
	}()
	return cancel
}

func encodeResponse(resp *graphql.Response) []byte {
	var b bytes.Buffer
	writeResponse(&b, resp)
	return b.Bytes()
}

// StreamGate admits single-connection streams: the app decides who may
// reserve one, keeps it to its credential and ends it with the credential.
type StreamGate interface {
	// Reserve admits a reservation for the request's credential, or
	// refuses it with an *apperr.Error. end ends the reservation (and its
	// stream and operations); Release is called when it has ended.
	Reserve(r *http.Request, end func()) (StreamOwner, error)
}

// StreamOwner is the credential behind one reservation.
type StreamOwner interface {
	// Owns reports whether the request may use the reservation: it carries
	// the credential that reserved it, or, where anonymousAllowed (an
	// EventSource opening the stream with the token in the URL), no
	// credential at all.
	Owns(r *http.Request, anonymousAllowed bool) bool
	// Operation prepares the context an operation on the stream runs in.
	Operation(ctx context.Context) context.Context
	Release()
}

// Streams are the single-connection mode's reservations and streams.
type Streams struct {
	Gate StreamGate
	// Expiry ends a reservation whose stream is not opened in time (30 s).
	Expiry time.Duration
	// KeepAlive is the interval of keep-alive comments on a stream.
	KeepAlive time.Duration
	// MaxOperations bounds the operations in flight on one stream (100).
	MaxOperations int

	mu sync.Mutex
	m  map[string]*stream
}

// stream is one reservation and, once opened, its event stream.
type stream struct {
	owner  StreamOwner
	ctx    context.Context
	cancel context.CancelFunc
	frames chan []byte

	mu     sync.Mutex
	opened bool
	ops    map[string]context.CancelFunc
}

func (s *Streams) reserve(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(context.Background())
	st := &stream{ctx: ctx, cancel: cancel, frames: make(chan []byte), ops: map[string]context.CancelFunc{}}
	owner, err := s.Gate.Reserve(r, cancel)
	if err != nil {
		cancel()
		e, ok := apperr.As(err)
		if !ok {
			e = apperr.New(apperr.Internal, "internal error")
		}
		writeError(w, apperr.HTTPStatus(e.Code), e.Code, e.Message)
		return
	}
	st.owner = owner
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]*stream{}
	}
	s.m[token] = st
	s.mu.Unlock()
	expiry := s.Expiry
	if expiry <= 0 {
		expiry = 30 * time.Second
	}
	timer := time.AfterFunc(expiry, func() {
		st.mu.Lock()
		opened := st.opened
		st.mu.Unlock()
		if !opened {
			cancel()
		}
	})
	context.AfterFunc(ctx, func() {
		timer.Stop()
		s.mu.Lock()
		delete(s.m, token)
		s.mu.Unlock()
		owner.Release()
	})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, token)
}

// lookup finds the live reservation behind token that the request may use.
func (s *Streams) lookup(r *http.Request, token string, anonymousAllowed bool) *stream {
	s.mu.Lock()
	st := s.m[token]
	s.mu.Unlock()
	if st == nil || st.ctx.Err() != nil || !st.owner.Owns(r, anonymousAllowed) {
		return nil
	}
	return st
}

// claim takes an unopened reservation as the ticket of one distinct-mode
// stream (an EventSource's): it is then used up.
func (s *Streams) claim(r *http.Request, token string) *stream {
	st := s.lookup(r, token, fromURL(r))
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.opened {
		return nil
	}
	st.opened = true
	return st
}

var errNoStream = errors.New("no such event stream")

func (s *Streams) serve(w http.ResponseWriter, r *http.Request, token string, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, "could not read the request body")
		return
	}
	open := AcceptsEventStream(r) && (r.Method == http.MethodGet || r.Method == http.MethodPost && len(bytes.TrimSpace(body)) == 0)
	st := s.lookup(r, token, open && fromURL(r))
	if st == nil {
		writeError(w, http.StatusNotFound, apperr.NotFound, errNoStream.Error())
		return
	}
	switch {
	case open:
		s.open(w, r, st)
	case r.Method == http.MethodPost:
		s.execute(w, r, st, body, exec)
	default:
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, apperr.ValidationFailed, "open the event stream with GET and send operations with POST")
	}
}

// open streams a reservation's events until the client leaves or the
// reservation ends; the reservation ends with its stream.
func (s *Streams) open(w http.ResponseWriter, r *http.Request, st *stream) {
	st.mu.Lock()
	if st.opened {
		st.mu.Unlock()
		writeError(w, http.StatusConflict, apperr.Conflict, "the event stream of this reservation is already open")
		return
	}
	st.opened = true
	st.mu.Unlock()
	defer st.cancel()
	out, ok := openEvents(w)
	if !ok {
		return
	}
	stop := out.keepAlive(st.ctx, s.KeepAlive)
	defer stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-st.ctx.Done():
			return
		case f := <-st.frames:
			if !out.write(f) {
				return
			}
		}
	}
}

// send queues one event for the stream, waiting for it to be written (or
// for the stream to be opened); false when the reservation ended.
func (st *stream) send(name, id string, payload *graphql.Response) bool {
	type message struct {
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	m := message{ID: id}
	if payload != nil {
		m.Payload = encodeResponse(payload)
	}
	data, err := json.Marshal(m)
	if err != nil {
		data, _ = json.Marshal(message{ID: id, Payload: encodeResponse(codedResponse(apperr.Internal, "internal error"))})
	}
	select {
	case st.frames <- fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, data):
		return true
	case <-st.ctx.Done():
		return false
	}
}

// execute runs an operation POSTed to a reservation: refusals answer the
// POST as GraphQL over HTTP does, an accepted operation answers 202 and its
// results go to the stream as next events with its id, then complete.
func (s *Streams) execute(w http.ResponseWriter, r *http.Request, st *stream, body []byte, exec graphql.GraphExecutor) {
	params, ok := decodeParams(w, body)
	if !ok {
		return
	}
	id, _ := params.Extensions["operationId"].(string)
	if id == "" || len(id) > 256 {
		apperr.WriteHTTP(w, http.StatusBadRequest, apperr.Invalid("extensions.operationId", "an operation on an event stream needs extensions.operationId (at most 256 bytes)"))
		return
	}
	params.Headers = r.Header
	oc, errs := exec.CreateOperationContext(r.Context(), params)
	if errs != nil {
		w.Header().Set("Content-Type", mediaJSON)
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(r.Context(), oc), errs))
		return
	}
	// The operation outlives this request (a subscription) and ends with
	// the reservation or its DELETE.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	unbind := context.AfterFunc(st.ctx, cancel)
	limit := s.MaxOperations
	if limit <= 0 {
		limit = 100
	}
	st.mu.Lock()
	_, dup := st.ops[id]
	full := len(st.ops) >= limit
	if !dup && !full {
		st.ops[id] = cancel
	}
	st.mu.Unlock()
	if dup || full {
		unbind()
		cancel()
		if dup {
			writeError(w, http.StatusConflict, apperr.Conflict, "an operation with this operationId is running on the stream")
		} else {
			writeError(w, http.StatusTooManyRequests, apperr.RateLimited, fmt.Sprintf("at most %d operations may run on one event stream", limit))
		}
		return
	}
	w.WriteHeader(http.StatusAccepted)
	go func() {
		defer func() {
			st.mu.Lock()
			delete(st.ops, id)
			st.mu.Unlock()
			unbind()
			cancel()
		}()
		ctx := graphql.WithOperationContext(st.owner.Operation(ctx), oc)
		responses, ctx := exec.DispatchOperation(ctx, oc)
		for resp := responses(ctx); resp != nil; resp = responses(ctx) {
			if !st.send("next", id, resp) {
				return
			}
		}
		if ctx.Err() == nil {
			st.send("complete", id, nil)
		}
	}()
}

// stop ends one operation of a reservation (DELETE ?operationId=).
func (s *Streams) stop(w http.ResponseWriter, r *http.Request, token string) {
	st := s.lookup(r, token, false)
	if st == nil {
		writeError(w, http.StatusNotFound, apperr.NotFound, errNoStream.Error())
		return
	}
	id := r.URL.Query().Get("operationId")
	if id == "" {
		apperr.WriteHTTP(w, http.StatusBadRequest, apperr.Invalid("operationId", "DELETE needs ?operationId="))
		return
	}
	st.mu.Lock()
	cancel := st.ops[id]
	st.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	w.WriteHeader(http.StatusOK)
}
