package api

import "github.com/gin-gonic/gin"

func (s *Server) notificationRoutes(public, authed, admin *gin.RouterGroup) {}
