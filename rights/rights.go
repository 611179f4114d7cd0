// Package rights holds residents' rights under the Personal Information
// Protection Law: downloading everything linli holds about oneself (arts.
// 45), correcting it (art. 46), deleting the account (art. 47), consents to
// sensitive processing (arts. 14, 29) and minors' guardians (art. 31).
//
// Other packages that keep personal data in tables of their own take part
// through two lists they register into from an init function:
//
//   - RegisterAnonymiser: a step run inside every account deletion's
//     transaction (notifications, calendar tokens, webhooks …), so the
//     deletion leaves nothing of the person behind in that table;
//   - RegisterExporter: a section of the person's data download (myData).
package rights

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"linli/auth"
	"linli/ent"
	"linli/events"
	"linli/store"
)

// Service runs the rights.
type Service struct {
	DB     *store.DB
	Client *ent.Client
	Auth   *auth.Service
	Events events.Publisher
	// ExportLimits bounds data downloads per person (nil: unbounded).
	ExportLimits *auth.Limiter
	now          func() time.Time
}

// New returns a Service; exportsPerHour bounds each person's data
// downloads (a burst of that many, refilled over an hour; 0: unbounded).
func New(db *store.DB, a *auth.Service, ev events.Publisher, exportsPerHour int) *Service {
	s := &Service{DB: db, Client: db.Client, Auth: a, Events: ev, now: func() time.Time { return time.Now().UTC() }}
	if exportsPerHour > 0 {
		s.ExportLimits = auth.NewLimiter(float64(exportsPerHour)/60, exportsPerHour)
	}
	if s.Events == nil {
		s.Events = events.Discard{}
	}
	return s
}

// Deleted is the person an anonymiser anonymises: their row is already
// anonymised when it runs; the old name and phone are what to look for.
type Deleted struct {
	PersonID, CommunityID int
	OldName, OldPhone     string
	// Pseudonym is the name the person's rows now carry (已注销用户…).
	Pseudonym string
	At        time.Time
}

// Anonymiser removes or anonymises, in tx, what its package holds about
// a deleted person. It must keep every statistic as it was.
type Anonymiser func(ctx context.Context, tx *ent.Tx, d Deleted) error

// Exporter returns its package's section of a person's data download
// (rows read as the system: the person is the one asking). The value is
// encoded as JSON, and as one sheet of the XLSX when it is a []map[string]any
// or a slice of structs.
type Exporter func(ctx context.Context, c *ent.Client, personID int) (any, error)

var (
	hooksMu     sync.RWMutex
	anonymisers = map[string]Anonymiser{}
	exporters   = map[string]Exporter{}
)

// RegisterAnonymiser adds a deletion step under a unique name (the
// package's, e.g. "notifications"); registering a name twice panics.
func RegisterAnonymiser(name string, fn Anonymiser) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	if _, dup := anonymisers[name]; dup {
		panic(fmt.Sprintf("rights: anonymiser %q registered twice", name))
	}
	anonymisers[name] = fn
}

// RegisterExporter adds a section (its key in the JSON, its sheet in the
// XLSX, e.g. "notifications") to every person's data download;
// registering a name twice panics.
func RegisterExporter(name string, fn Exporter) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	if _, dup := exporters[name]; dup {
		panic(fmt.Sprintf("rights: exporter %q registered twice", name))
	}
	exporters[name] = fn
}

func sortedKeys[T any](m map[string]T) []string {
	hooksMu.RLock()
	defer hooksMu.RUnlock()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func anonymiser(name string) Anonymiser {
	hooksMu.RLock()
	defer hooksMu.RUnlock()
	return anonymisers[name]
}

func exporter(name string) Exporter {
	hooksMu.RLock()
	defer hooksMu.RUnlock()
	return exporters[name]
}

// DefaultMyDataPerHour is how many downloads of their data a person may
// make an hour: enough to retry, too few to make the download a load.
const DefaultMyDataPerHour = 5
