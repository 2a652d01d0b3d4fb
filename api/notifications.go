package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

func (s *Server) notificationRoutes(public, authed, admin *gin.RouterGroup) {
	authed.GET("/notifications", s.listNotifications)
	authed.GET("/notifications/unread-count", s.unreadCount)
	authed.POST("/notifications/read-all", s.readAllNotifications)
	authed.POST("/notifications/:id/read", s.readNotification)
	admin.POST("/announcements", s.announce)
	admin.GET("/announcements", s.listAnnouncements)
}

// listAnnouncements is the history of announcements, newest first: each
// is recorded in the audit log with what was sent.
func (s *Server) listAnnouncements(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.Audit.List(c.Request.Context(), actor(c), models.AuditFilter{Action: models.AuditAnnouncement, Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewAnnouncement))
}

func (s *Server) listNotifications(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	unread := c.Query("unread")
	if unread != "" && unread != "true" && unread != "false" {
		s.fail(c, models.InvalidFields(map[string]any{"unread": "must be true or false"}))
		return
	}
	p, err := s.svc.Notifications.List(c.Request.Context(), actor(c), models.NotificationFilter{
		UnreadOnly: unread == "true", Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewNotification))
}

func (s *Server) unreadCount(c *gin.Context) {
	n, err := s.svc.Notifications.UnreadCount(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.UnreadCount{Count: n})
}

func (s *Server) readNotification(c *gin.Context) {
	n, err := s.svc.Notifications.MarkRead(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewNotification(n))
}

func (s *Server) readAllNotifications(c *gin.Context) {
	if _, err := s.svc.Notifications.MarkAllRead(c.Request.Context(), actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) announce(c *gin.Context) {
	var in wire.AnnouncementRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.svc.Notifications.Announce(c.Request.Context(), actor(c), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusAccepted, wire.Recipients{Recipients: n})
}
