package series

import (
	"context"
	"time"

	"linli/jobs"
)

// JobKind is the periodic job that extends every series' window and books
// standing sign-ups on the occurrences it makes.
const JobKind = "series.materialise"

// Every is how often the job runs.
const Every = time.Hour

// Register makes r run MaterialiseAll every hour, once across the replicas
// (jobs.Periodic). Being idempotent (the unique (series, occurrence)),
// a run cut short is finished by the next, and a replica racing it makes
// no twins.
func (s *Service) Register(r *jobs.Runner) {
	r.Periodic(JobKind, Every, func(ctx context.Context, _ *jobs.Claimed) error {
		rep, err := s.MaterialiseAll(ctx)
		if err != nil {
			return err
		}
		if rep.Created > 0 {
			s.logger.Info("series materialised", "occurrences", rep.Created)
		}
		return nil
	})
}
