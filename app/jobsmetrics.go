package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"linli/jobs"
)

var (
	jobsQueuedDesc  = prometheus.NewDesc("linli_jobs_queued", "Background jobs waiting (due or scheduled).", nil, nil)
	jobsDueDesc     = prometheus.NewDesc("linli_jobs_due", "Background jobs due now and not running.", nil, nil)
	jobsRunningDesc = prometheus.NewDesc("linli_jobs_running", "Background jobs claimed under a live lease (all replicas).", nil, nil)
	jobsFailedDesc  = prometheus.NewDesc("linli_jobs_failed", "Background jobs that ran out of attempts, kept for staff.", nil, nil)
	jobsOldestDesc  = prometheus.NewDesc("linli_jobs_oldest_due_seconds", "How long the oldest due background job has waited.", nil, nil)
	jobsDoneDesc    = prometheus.NewDesc("linli_jobs_completed_total", "Background jobs this process completed.", nil, nil)
	jobsRetriedDesc = prometheus.NewDesc("linli_jobs_retried_total", "Background job attempts that failed and were retried, in this process.", nil, nil)
	jobsFailsDesc   = prometheus.NewDesc("linli_jobs_failed_total", "Background jobs this process marked FAILED.", nil, nil)
)

// jobsCollector reports the job table (read when scraped, from the first
// running App's database) and this process's runners' counts.
type jobsCollector struct{}

func (jobsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{jobsQueuedDesc, jobsDueDesc, jobsRunningDesc, jobsFailedDesc, jobsOldestDesc, jobsDoneDesc, jobsRetriedDesc, jobsFailsDesc} {
		ch <- d
	}
}

func (jobsCollector) Collect(ch chan<- prometheus.Metric) {
	liveApps.Lock()
	var first *App
	var done, retried, failed int64
	for a := range liveApps.m {
		if a.Jobs == nil {
			continue
		}
		if first == nil {
			first = a
		}
		c := a.Jobs.Counts()
		done += c.Completed.Load()
		retried += c.Retried.Load()
		failed += c.Failed.Load()
	}
	liveApps.Unlock()
	ch <- prometheus.MustNewConstMetric(jobsDoneDesc, prometheus.CounterValue, float64(done))
	ch <- prometheus.MustNewConstMetric(jobsRetriedDesc, prometheus.CounterValue, float64(retried))
	ch <- prometheus.MustNewConstMetric(jobsFailsDesc, prometheus.CounterValue, float64(failed))
	if first == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := jobs.ReadStats(ctx, first.DB.Client)
	if err != nil {
		return // the database is away: /readyz says so
	}
	ch <- prometheus.MustNewConstMetric(jobsQueuedDesc, prometheus.GaugeValue, float64(s.Queued))
	ch <- prometheus.MustNewConstMetric(jobsDueDesc, prometheus.GaugeValue, float64(s.Due))
	ch <- prometheus.MustNewConstMetric(jobsRunningDesc, prometheus.GaugeValue, float64(s.Running))
	ch <- prometheus.MustNewConstMetric(jobsFailedDesc, prometheus.GaugeValue, float64(s.Failed))
	ch <- prometheus.MustNewConstMetric(jobsOldestDesc, prometheus.GaugeValue, s.OldestDue.Seconds())
}

func init() { prometheus.MustRegister(jobsCollector{}) }
