package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"teleconsult/wire"
)

func (s *Server) callRoutes(public, authed, admin *gin.RouterGroup) {
	authed.GET("/rtc/ice-servers", s.iceServers)
}

// iceServers hands out STUN/TURN servers with short-lived TURN credentials.
func (s *Server) iceServers(c *gin.Context) {
	servers, ttl := s.svc.ICE.Servers(actor(c), s.svc.Clock.Now())
	c.Header("Cache-Control", "no-store")
	s.reply(c, http.StatusOK, wire.NewICEServers(servers, ttl))
}
