package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 when every dependency answers within two seconds.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	for _, r := range s.ready {
		if err := r.Check(ctx); err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "check", r.Name, "err", err)
			checks[r.Name] = "unavailable"
			ok = false
		} else {
			checks[r.Name] = "ok"
		}
	}
	if !ok {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": errorPayload{Code: models.EUNAVAILABLE, Message: "a dependency is unavailable", Details: checks}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": checks})
}

func toAuditEntry(e models.AuditEntry) auditEntryDTO {
	d := auditEntryDTO{ID: e.ID, ActorID: e.ActorID, ActorRole: e.ActorRole, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, RequestID: e.RequestID, CreatedAt: e.CreatedAt.UTC()}
	if e.Details != nil {
		var v any
		if json.Unmarshal([]byte(*e.Details), &v) == nil {
			d.Details = v
		}
	}
	return d
}
