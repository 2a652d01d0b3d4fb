package api

import "github.com/gin-gonic/gin"

func (s *Server) chatRoutes(public, authed, admin *gin.RouterGroup) {}
