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
	out := wire.Stats{Users: st.UsersByRole, Appointments: st.AppointmentsByStatus, MessagesToday: st.MessagesToday}
	if s.socketsOnline != nil {
		n, err := s.socketsOnline(c.Request.Context())
		if err != nil {
			s.fail(c, err)
			return
		}
		out.SocketsOnline = n
	}
	s.reply(c, http.StatusOK, out)
}
