package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"teleconsult/models"
	"teleconsult/wire"
)

func (s *Server) routes() {
	e := s.engine
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if s.gatherer != nil && (s.cfg.MetricsToken != "" || !s.cfg.Production) {
		e.GET("/metrics", s.metricsAuth(), gin.WrapH(promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})))
	}
	if s.realtime != nil {
		e.Any("/socket.io/*any", gin.WrapH(s.realtime))
	}

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", s.openAPI)
	v1.POST("/auth/register", s.throttle("register", s.cfg.RegisterPerHour, time.Hour, func(c *gin.Context) string { return c.ClientIP() },
		"too many sign-ups from this network; try again later"), s.register)
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", s.logout)
	v1.POST("/auth/password/forgot", s.throttle("password_forgot", s.cfg.RegisterPerHour, time.Hour, func(c *gin.Context) string { return c.ClientIP() },
		"too many reset requests from this network; try again later"), s.forgotPassword)
	v1.POST("/auth/password/reset", s.resetPassword)

	authed := v1.Group("", s.authenticate())
	authed.GET("/me", s.getMe)
	authed.PATCH("/me", s.patchMe)
	authed.GET("/me/sessions", s.listSessions)
	authed.DELETE("/me/sessions/:id", s.endSession)
	authed.GET("/me/export", s.exportMe)
	authed.POST("/me/deletion-request", s.requestDeletion)

	admin := authed.Group("/admin", s.requireRole(models.RoleAdmin))
	admin.GET("/users", s.adminListUsers)
	admin.POST("/users", s.adminCreateUser)
	admin.GET("/users/:id", s.adminGetUser)
	admin.PATCH("/users/:id", s.adminUpdateUser)
	admin.POST("/users/:id/password-reset", s.adminSendReset)
	admin.POST("/users/:id/anonymise", s.adminAnonymise)
	admin.GET("/audit-log", s.adminAuditLog)
	admin.GET("/stats", s.adminStats)

	// Each area registers its own routes.
	s.scheduleRoutes(v1, authed, admin)
	s.appointmentRoutes(v1, authed, admin)
	s.chatRoutes(v1, authed, admin)
	s.notificationRoutes(v1, authed, admin)
	s.callRoutes(v1, authed, admin)
	s.paymentRoutes(v1, authed, admin)

	e.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, wire.ErrorBody{Error: wire.Error{Code: models.EINVALID, Message: "this endpoint does not take that method"}})
	})
	e.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/socket.io") {
			s.fail(c, models.Errorf(models.ENOTFOUND, "no such endpoint"))
			return
		}
		s.serveWeb(c)
	})
}
