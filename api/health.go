package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

// How long one round of dependency checks may take.
const (
	readyTimeout  = 2 * time.Second
	healthTimeout = time.Second
)

// healthz answers 200 while the process serves. It names the dependencies
// the node runs without (Degrades checks) when they are down, so an
// operator sees "redis": "degraded" without the node leaving the balancer.
func (s *Server) healthz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), healthTimeout)
	defer cancel()
	var checks map[string]string
	for _, r := range s.ready {
		if !r.Degrades {
			continue
		}
		if checks == nil {
			checks = map[string]string{}
		}
		checks[r.Name] = "ok"
		if err := r.Check(ctx); err != nil {
			checks[r.Name] = "degraded"
		}
	}
	s.reply(c, http.StatusOK, wire.Health{Status: "ok", Checks: checks})
}

// readyz answers 200 when every required dependency answers within two
// seconds; a Degrades dependency that is down shows as "degraded" and keeps
// the node ready. A required one that is down is 503 unavailable.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{}
	details := map[string]any{}
	ok := true
	for _, r := range s.ready {
		err := r.Check(ctx)
		switch {
		case err == nil:
			checks[r.Name], details[r.Name] = "ok", "ok"
		case r.Degrades:
			s.log.WarnContext(ctx, "readiness check failed; running degraded", "check", r.Name, "err", err)
			checks[r.Name], details[r.Name] = "degraded", "degraded"
		default:
			s.log.WarnContext(ctx, "readiness check failed", "check", r.Name, "err", err)
			checks[r.Name], details[r.Name] = "unavailable", "unavailable"
			ok = false
		}
	}
	if !ok {
		c.Header("Retry-After", strconv.Itoa(models.UnavailableRetryAfter))
		s.reply(c, http.StatusServiceUnavailable, wire.ErrorBody{Error: wire.Error{Code: models.EUNAVAILABLE, Message: "a dependency is unavailable", Details: details}})
		return
	}
	s.reply(c, http.StatusOK, wire.Health{Status: "ok", Checks: checks})
}
