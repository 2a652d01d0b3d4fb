package api

import "github.com/gin-gonic/gin"

func (s *Server) callRoutes(public, authed, admin *gin.RouterGroup) {}
