package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
)

type statsDTO struct {
	Users         map[models.Role]int64              `json:"users"`
	Appointments  map[models.AppointmentStatus]int64 `json:"appointments"`
	SocketsOnline int                                `json:"sockets_online"`
	MessagesToday int64                              `json:"messages_today"`
}

// adminStats answers users by role, appointments by status, sockets online
// (across nodes) and today's chat messages.
func (s *Server) adminStats(c *gin.Context) {
	st, err := s.svc.Stats(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := statsDTO{Users: st.UsersByRole, Appointments: st.AppointmentsByStatus, MessagesToday: st.MessagesToday}
	if s.socketsOnline != nil {
		n, err := s.socketsOnline(c.Request.Context())
		if err != nil {
			s.fail(c, err)
			return
		}
		out.SocketsOnline = n
	}
	c.JSON(http.StatusOK, out)
}
