// Package readlog keeps the sensitive-read log: every read of a full phone
// number, a household's care tags or a health sign-up by someone other than
// the person it is about (staff, in practice) is recorded — who, when, whose,
// through which path (a GraphQL field path or an export's URL).
//
// Reads are noted where the value is unmasked (mask.Phone, the household
// resolvers, the Registration interceptor HealthSignups) and written in
// batches: a Writer collects them, keeps one entry per reader, kind, subject
// and path within its flush interval (a list of 50 phones read is 50 entries,
// however many times each field resolves), and writes them with one bulk
// insert a second. Close flushes what is left, so a graceful shutdown loses
// nothing.
package readlog

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"linli/reqlog"
	"linli/viewer"
)

// Kind is what was read (the SensitiveRead kind enum).
type Kind string

// Kinds of sensitive read.
const (
	Phone        Kind = "PHONE"
	CareTags     Kind = "CARE_TAGS"
	HealthSignup Kind = "HEALTH_SIGNUP"
)

// Subject types.
const (
	Person       = "Person"
	Household    = "Household"
	Registration = "Registration"
)

// Defaults of a Writer.
const (
	FlushEvery = time.Second
	// flushAt wakes the flusher early when this many reads wait.
	flushAt = 2000
	// maxPending bounds what waits while the database refuses writes;
	// past it new reads are counted as dropped and logged.
	maxPending = 200000
	// chunk is the rows of one INSERT.
	chunk = 500
)

type key struct {
	actor     int
	kind      Kind
	subject   string
	subjectID int
	path      string
}

type read struct {
	community int
	addr      string
	at        time.Time
}

// Read is one entry of the log.
type Read struct {
	CommunityID, ActorID int
	Kind                 Kind
	SubjectType          string
	SubjectID            int
	Path, ClientAddress  string
	At                   time.Time
}

// Sink writes a batch of reads (readlog/entlog.Sink: one bulk insert).
type Sink func(ctx context.Context, reads []Read) error

// Writer batches reads into a Sink.
type Writer struct {
	sink   Sink
	log    *slog.Logger
	every  time.Duration
	mu     sync.Mutex
	order  []key
	reads  map[key]read
	drops  int
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// New starts a writer flushing into sink every interval (FlushEvery when 0).
func New(sink Sink, logger *slog.Logger, every time.Duration) *Writer {
	if every <= 0 {
		every = FlushEvery
	}
	if logger == nil {
		logger = slog.Default()
	}
	w := &Writer{sink: sink, log: logger.With(slog.String("component", "readlog")), every: every,
		reads: map[key]read{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		case <-w.wake:
		}
		if err := w.Flush(reqlog.Background(context.Background())); err != nil {
			w.log.Error("writing the sensitive-read log", slog.String("error", err.Error()))
		}
	}
}

// Close stops the flusher and writes what waits (bounded by ctx's own
// deadline of ten seconds).
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	ctx, cancel := context.WithTimeout(reqlog.Background(context.Background()), 10*time.Second)
	defer cancel()
	return w.Flush(ctx)
}

// add notes one read.
func (w *Writer) add(k key, r read) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.reads[k]; ok {
		return
	}
	if len(w.order) >= maxPending {
		w.drops++
		return
	}
	w.reads[k] = r
	w.order = append(w.order, k)
	if len(w.order) == flushAt {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Flush writes every read noted so far. What fails to write is kept for
// the next flush (up to maxPending).
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	order, reads, drops := w.order, w.reads, w.drops
	w.order, w.reads, w.drops = nil, map[key]read{}, 0
	w.mu.Unlock()
	if drops > 0 {
		w.log.Error("sensitive-read log full: reads not recorded", slog.Int("dropped", drops))
	}
	for len(order) > 0 {
		n := min(chunk, len(order))
		if err := w.write(ctx, order[:n], reads); err != nil {
			w.mu.Lock()
			for _, k := range order {
				if _, ok := w.reads[k]; !ok && len(w.order) < maxPending {
					w.reads[k] = reads[k]
					w.order = append(w.order, k)
				}
			}
			w.mu.Unlock()
			return err
		}
		order = order[n:]
	}
	return nil
}

func (w *Writer) write(ctx context.Context, keys []key, reads map[key]read) error {
	batch := make([]Read, len(keys))
	for i, k := range keys {
		r := reads[k]
		batch[i] = Read{CommunityID: r.community, ActorID: k.actor, Kind: k.kind, SubjectType: k.subject,
			SubjectID: k.subjectID, Path: k.path, ClientAddress: r.addr, At: r.at}
	}
	return w.sink(ctx, batch)
}

type writerKey struct{}
type pathKey struct{}

// NewContext returns ctx carrying w: reads noted under it are written by w.
func NewContext(ctx context.Context, w *Writer) context.Context {
	return context.WithValue(ctx, writerKey{}, w)
}

// FromContext returns the writer of ctx, or nil.
func FromContext(ctx context.Context) *Writer {
	w, _ := ctx.Value(writerKey{}).(*Writer)
	return w
}

// WithPath names the path reads under ctx come through when it is not a
// GraphQL field (an export: "export:sign-in-sheet").
func WithPath(ctx context.Context, path string) context.Context {
	return context.WithValue(ctx, pathKey{}, path)
}

// Middleware gives every request the writer, and the request's method and
// URL path as the path of reads that happen outside a GraphQL field.
func Middleware(w *Writer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx := WithPath(NewContext(r.Context(), w), r.Method+" "+r.URL.Path)
		next.ServeHTTP(rw, r.WithContext(ctx))
	})
}

// Note records that the viewer of ctx read kind of subject (subjectType,
// subjectID, of community communityID) in full. Reads by the person
// themselves (subjectType Person), by the system and by anyone without a
// person (kiosks, which see masked values) are not recorded.
func Note(ctx context.Context, communityID int, kind Kind, subjectType string, subjectID int) {
	FromContext(ctx).Note(ctx, communityID, kind, subjectType, subjectID)
}

// Note is the package's Note through w (a nil w notes nothing).
func (w *Writer) Note(ctx context.Context, communityID int, kind Kind, subjectType string, subjectID int) {
	v := viewer.FromContext(ctx)
	if w == nil || v == nil || v.IsSystem() || v.PersonID == 0 || subjectType == Person && subjectID == v.PersonID {
		return
	}
	w.add(key{actor: v.PersonID, kind: kind, subject: subjectType, subjectID: subjectID, path: truncate(Path(ctx), 300)},
		read{community: communityID, addr: truncate(reqlog.ClientAddr(ctx), 100), at: time.Now().UTC()})
}

// Path names how a read under ctx happens: graphql:<the field's path,
// without list indexes> inside a GraphQL field, else the path WithPath set.
func Path(ctx context.Context) string {
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		var b strings.Builder
		b.WriteString("graphql:")
		first := true
		for _, p := range fc.Path() {
			if name, ok := p.(ast.PathName); ok {
				if !first {
					b.WriteByte('.')
				}
				first = false
				b.WriteString(string(name))
			}
		}
		return b.String()
	}
	p, _ := ctx.Value(pathKey{}).(string)
	return p
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
