package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"teleconsult/wire"
)

func (s *Server) callRoutes(public, authed, admin *gin.RouterGroup) {
	authed.GET("/rtc/ice-servers", s.iceServers)
}

// iceServers hands out STUN servers, and short-lived TURN credentials to a
// caller in a ringing or active call.
func (s *Server) iceServers(c *gin.Context) {
	inCall := false
	if s.svc.Calls != nil {
		var err error
		if inCall, err = s.svc.Calls.InCall(c.Request.Context(), actor(c)); err != nil {
			s.fail(c, err)
			return
		}
	}
	servers, ttl := s.svc.ICE.ICEFor(actor(c), inCall, s.svc.Clock.Now())
	c.Header("Cache-Control", "no-store")
	s.reply(c, http.StatusOK, wire.NewICEServers(servers, ttl))
}
