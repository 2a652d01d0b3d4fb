package realtime

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	connected prometheus.Gauge
	events    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	unknown   prometheus.Counter
	refused   *prometheus.CounterVec
	// droppedBroadcasts counts live updates dropped while the broadcast
	// queue was full (Redis stalled).
	droppedBroadcasts prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "teleconsult_sockets_connected", Help: "Socket.IO connections on this node."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teleconsult_socket_events_total",
			Help: "Client events handled, by event and result code."}, []string{"event", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "teleconsult_socket_event_duration_seconds",
			Help: "Time to handle a client event.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}, []string{"event"}),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{Name: "teleconsult_socket_unknown_events_total", Help: "Client events with no handler (ignored)."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teleconsult_socket_refused_total",
			Help: "Connections refused or closed by the server, by reason."}, []string{"reason"}),
		droppedBroadcasts: prometheus.NewCounter(prometheus.CounterOpts{Name: "teleconsult_socket_broadcasts_dropped_total",
			Help: "Live updates dropped while the broadcast queue was full (clients catch up with chat:sync)."}),
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.events, m.duration, m.unknown, m.refused, m.droppedBroadcasts)
	}
	return m
}
