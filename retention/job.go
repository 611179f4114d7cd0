package retention

import (
	"context"
	"log/slog"
	"time"

	"linli/ent"
	"linli/jobs"
)

// JobKind is the daily purge's periodic job.
const JobKind = "retention.purge"

// Every is how often the purge runs: daily (periods are days).
const Every = 24 * time.Hour

// Register makes r run Purge daily, once across the replicas (jobs.Periodic:
// at start too when a day has passed, e.g. while linli was down). A failed
// purge is retried with the runner's backoff; being idempotent, a purge cut
// short is finished by the next.
func Register(r *jobs.Runner, client *ent.Client, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	r.Periodic(JobKind, Every, func(ctx context.Context, _ *jobs.Claimed) error {
		rep, err := Purge(ctx, client, time.Now())
		if err != nil {
			return err
		}
		logger.Info("retention purge", slog.Int("communities", rep.Communities), slog.String("purged", rep.String()))
		return nil
	})
}
