package api

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	duration *prometheus.HistogramVec
	refused  *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "teleconsult_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "status"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "teleconsult_http_refusals_total",
			Help: "Requests refused as unauthorized (401), forbidden (403) or rate-limited (429), by route.",
		}, []string{"route", "status"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.refused)
	}
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.duration.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
	if refusal(status) {
		m.refused.WithLabelValues(route, strconv.Itoa(status)).Inc()
	}
}

// refusal reports whether status refuses a caller (a security event).
func refusal(status int) bool {
	return status == 401 || status == 403 || status == 429
}

func slogLevelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelInfo
}
