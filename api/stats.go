package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"teleconsult/wire"
)

// adminStats answers users by role, appointments by status, sockets online
// (across nodes) and today's chat messages.
func (s *Server) adminStats(c *gin.Context) {
	st, err := s.svc.Stats.Stats(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	online := 0
	if s.socketsOnline != nil {
		if online, err = s.socketsOnline(c.Request.Context()); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.reply(c, http.StatusOK, wire.NewStats(st, online))
}
