package live

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	droppedEvents = promauto.NewCounter(prometheus.CounterOpts{
		Name: "linli_live_dropped_events_total",
		Help: "Feed and registration events dropped because a subscriber fell a full buffer behind.",
	})
	notifies = promauto.NewCounter(prometheus.CounterOpts{
		Name: "linli_live_notifies_total",
		Help: "NOTIFY statements sent (each carries a batch of events).",
	})
	listenerReconnects = promauto.NewCounter(prometheus.CounterOpts{
		Name: "linli_live_listener_reconnects_total",
		Help: "Times the LISTEN connection came back after a loss.",
	})
)
