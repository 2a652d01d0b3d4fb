package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// requestTimeout gives every REST request a deadline (Config.RequestTimeout)
// that reaches the database through the request's context, so a database
// that hangs answers 503 unavailable before a client gives up, instead of
// holding the request. Uploads get UploadReadTimeout on top. Socket.IO,
// health and the web app are not REST and keep no deadline here.
func (s *Server) requestTimeout() gin.HandlerFunc {
	return func(c *gin.Context) {
		d := s.cfg.RequestTimeout
		if d <= 0 || !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Next()
			return
		}
		if c.Request.Method == http.MethodPost && strings.HasSuffix(c.Request.URL.Path, "/attachments") {
			d += s.cfg.UploadReadTimeout
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// registerDependencyGauges exports teleconsult_dependency_up{dependency}
// (1 up, 0 down) for every readiness check, measured when scraped.
func (s *Server) registerDependencyGauges(reg *prometheus.Registry) {
	if reg == nil {
		return
	}
	for _, r := range s.ready {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "teleconsult_dependency_up",
			Help:        "Whether a dependency answers (1) or not (0), checked at scrape time.",
			ConstLabels: prometheus.Labels{"dependency": r.Name},
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
			defer cancel()
			if r.Check(ctx) != nil {
				return 0
			}
			return 1
		}))
	}
}
