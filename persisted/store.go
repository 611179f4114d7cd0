// Package persisted holds the store of automatic persisted queries: the
// operation documents clients registered by their sha256 (Apollo's
// PersistedQueryLink), kept in the database so that a document registered
// through one replica is found by every other, with a small LRU in each
// process in front of it. trusted.Extension decides when to look documents
// up and when to register them; this package only keeps them, bounded.
package persisted

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"

	"linli/ent"
	"linli/ent/persistedquery"
	"linli/reqlog"
	"linli/trusted"
	"linli/viewer"
)

// Options bound a Store. Zero fields take the defaults.
type Options struct {
	// MaxDocuments caps the rows in the database (5,000): past it the
	// least recently used tenth is deleted. An evicted document costs its
	// clients one retry with the full text.
	MaxDocuments int
	// MaxDocumentBytes is the largest document kept (32 KB, the largest
	// GET query string; at most the body limit): larger ones still run,
	// sent in full, but are not registered.
	MaxDocumentBytes int
	// LocalDocuments is the size of the per-process LRU (500).
	LocalDocuments int
	// TouchEvery is how stale a document's last use in the database may
	// get before a hit refreshes it (1 h): eviction order is that coarse,
	// and a hot document costs one write an hour per replica, not one per
	// request.
	TouchEvery time.Duration
	// Timeout bounds each database statement of the store (5 s), whatever
	// the request's own deadline (a websocket's has none).
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxDocuments <= 0 {
		o.MaxDocuments = 5000
	}
	if o.MaxDocumentBytes <= 0 {
		o.MaxDocumentBytes = 32 << 10
	}
	if o.LocalDocuments <= 0 {
		o.LocalDocuments = 500
	}
	if o.TouchEvery <= 0 {
		o.TouchEvery = time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return o
}

// Store is the shared store of persisted queries. It is a trusted.Registry.
type Store struct {
	client *ent.Client
	opts   Options
	local  *lru.LRU[*entry]
	now    func() time.Time
}

// entry is a document this process knows, and when it last told the
// database it was used (unix nanoseconds).
type entry struct {
	document string
	touched  atomic.Int64
}

var _ trusted.Registry = (*Store)(nil)

// New returns a store over client's database.
func New(client *ent.Client, o Options) *Store {
	o = o.withDefaults()
	return &Store{client: client, opts: o, local: lru.New[*entry](o.LocalDocuments), now: time.Now}
}

// Options returns the store's bounds, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// Document implements trusted.Documents. A database that cannot be read
// answers "not found" (and is logged): the client then sends the document
// in full, which needs no store.
func (s *Store) Document(ctx context.Context, hash string) (string, bool) {
	if e, ok := s.local.Get(ctx, hash); ok {
		s.touch(ctx, hash, e)
		return e.document, true
	}
	ctx, cancel := s.system(ctx)
	defer cancel()
	row, err := s.client.PersistedQuery.Query().Where(persistedquery.Hash(hash)).Only(ctx)
	if err != nil {
		if !ent.IsNotFound(err) {
			reqlog.From(ctx).Warn("read persisted query", "hash", hash, "error", err.Error())
		}
		return "", false
	}
	if trusted.Hash(row.Document) != hash {
		return "", false // not what the client asked for, whatever wrote it
	}
	e := &entry{document: row.Document}
	e.touched.Store(row.LastUsedAt.UnixNano())
	s.local.Add(ctx, hash, e)
	s.touch(ctx, hash, e)
	return e.document, true
}

// Register implements trusted.Registry: it keeps document under hash
// unless this process already knows it or it is too large, and then keeps
// the table within MaxDocuments.
func (s *Store) Register(ctx context.Context, hash, document string) error {
	if len(document) > s.opts.MaxDocumentBytes || trusted.Hash(document) != hash {
		return nil
	}
	if _, ok := s.local.Get(ctx, hash); ok {
		return nil
	}
	ctx, cancel := s.system(ctx)
	defer cancel()
	now := s.now().UTC()
	err := s.client.PersistedQuery.Create().SetHash(hash).SetDocument(document).SetLastUsedAt(now).
		OnConflictColumns(persistedquery.FieldHash).UpdateLastUsedAt().Exec(ctx)
	if err != nil {
		return err
	}
	e := &entry{document: document}
	e.touched.Store(now.UnixNano())
	s.local.Add(ctx, hash, e)
	return s.evict(ctx)
}

// evict deletes the least recently used documents once the table holds
// more than MaxDocuments, down to nine tenths of it, so that a flood of
// new documents costs one count per registration and one delete per tenth.
func (s *Store) evict(ctx context.Context) error {
	n, err := s.client.PersistedQuery.Query().Count(ctx)
	if err != nil || n <= s.opts.MaxDocuments {
		return err
	}
	keep := s.opts.MaxDocuments - s.opts.MaxDocuments/10
	ids, err := s.client.PersistedQuery.Query().
		Order(persistedquery.ByLastUsedAt(), persistedquery.ByID()).
		Limit(n - keep).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = s.client.PersistedQuery.Delete().Where(persistedquery.IDIn(ids...)).Exec(ctx)
	return err
}

// touch records a use of hash in the database when the last one recorded
// is older than TouchEvery. Only one request per process and interval
// writes; a failure is logged and retried at the next use.
func (s *Store) touch(ctx context.Context, hash string, e *entry) {
	now := s.now()
	last := e.touched.Load()
	if now.Sub(time.Unix(0, last)) < s.opts.TouchEvery || !e.touched.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	ctx, cancel := s.system(ctx)
	defer cancel()
	if err := s.client.PersistedQuery.Update().Where(persistedquery.Hash(hash)).SetLastUsedAt(now.UTC()).Exec(ctx); err != nil {
		e.touched.CompareAndSwap(now.UnixNano(), last)
		reqlog.From(ctx).Warn("touch persisted query", "hash", hash, "error", err.Error())
	}
}

func (s *Store) system(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(viewer.System(ctx), s.opts.Timeout)
}
