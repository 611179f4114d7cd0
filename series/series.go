// Package series holds recurring activities, activity templates and
// recurring sign-ups.
//
// A series is a plan (title, kind, team, venue, length, windows, slots:
// schema.Plan) and an RFC 5545 recurrence rule in China time (rule.go).
// Its occurrences are ordinary activities, materialised ahead over the
// community's window (Community.series_window_weeks, default 8 weeks) when
// the series is made and by a periodic job after (job.go). Each occurrence
// carries its series and the rule's instant it stands for; a unique index
// on the two makes materialising idempotent across replicas and retries.
//
// Staff edits by scope (ONE, FOLLOWING, ALL future) change each occurrence
// through organize.UpdateActivity, the one path of activity changes (its
// checks, its notifications, capacity through the ledger); cancelling
// goes through organize.Cancel. A recurring sign-up books each occurrence
// through ledger.SignUp as the volunteer, under the same rules as any
// sign-up.
package series

import (
	"context"
	"log/slog"
	"time"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/events"
	"linli/ledger"
	"linli/organize"
	"linli/viewer"
)

// Service runs series, templates and recurring sign-ups.
type Service struct {
	client   *ent.Client
	organize *organize.Service
	ledger   *ledger.Ledger
	events   events.Publisher
	logger   *slog.Logger
	// Now is the clock (tests move it).
	Now func() time.Time
}

// New returns the service over client; activities change through org,
// seats through l.
func New(client *ent.Client, org *organize.Service, l *ledger.Ledger, pub events.Publisher, logger *slog.Logger) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{client: client, organize: org, ledger: l, events: pub, logger: logger, Now: time.Now}
}

// Audited actions.
const (
	ActionTemplateSave    = "template.save"
	ActionSeriesCreate    = "series.create"
	ActionSeriesEdit      = "series.edit"
	ActionSeriesSkip      = "series.skip"
	ActionSeriesCancel    = "series.cancel"
	ActionSeriesWindowSet = "series.window_set"
)

func requireStaff(ctx context.Context) (*viewer.Viewer, error) {
	return authz.Require(ctx, (*viewer.Viewer).IsStaff, "only coordinators may do this")
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// get reads a series as the viewer (other communities' are NOT_FOUND).
func (s *Service) get(ctx context.Context, id int) (*ent.Series, error) {
	se, err := s.client.Series.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such series")
	}
	return se, err
}
