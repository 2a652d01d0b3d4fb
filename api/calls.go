package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

type iceServerDTO struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

func (s *Server) callRoutes(public, authed, admin *gin.RouterGroup) {
	authed.GET("/rtc/ice-servers", s.iceServers)
}

// iceServers hands out STUN/TURN servers with short-lived TURN credentials.
func (s *Server) iceServers(c *gin.Context) {
	servers, ttl := s.svc.Calls.ICEServers(actor(c))
	out := make([]iceServerDTO, 0, len(servers))
	for _, sv := range servers {
		out = append(out, iceServerDTO{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"ice_servers": out, "ttl": int64(ttl.Seconds())})
}
