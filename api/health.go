package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

func (s *Server) healthz(c *gin.Context) {
	s.reply(c, http.StatusOK, wire.Health{Status: "ok"})
}

// readyz answers 200 when every dependency answers within two seconds.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	details := map[string]any{}
	ok := true
	for _, r := range s.ready {
		if err := r.Check(ctx); err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "check", r.Name, "err", err)
			checks[r.Name], details[r.Name] = "unavailable", "unavailable"
			ok = false
		} else {
			checks[r.Name], details[r.Name] = "ok", "ok"
		}
	}
	if !ok {
		s.reply(c, http.StatusServiceUnavailable, wire.ErrorBody{Error: wire.Error{Code: models.EUNAVAILABLE, Message: "a dependency is unavailable", Details: details}})
		return
	}
	s.reply(c, http.StatusOK, wire.Health{Status: "ok", Checks: checks})
}
