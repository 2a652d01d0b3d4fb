package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

func (s *Server) scheduleRoutes(public, authed, admin *gin.RouterGroup) {
	public.GET("/doctors", s.listDoctors)
	public.GET("/doctors/:id", s.getDoctor)
	public.GET("/doctors/:id/slots", s.doctorSlots)

	doc := authed.Group("/doctors/me", s.requireRole(models.RoleDoctor))
	doc.GET("/schedule", s.getMySchedule)
	doc.PUT("/schedule", s.putMySchedule)
	doc.GET("/time-off", s.listTimeOff)
	doc.POST("/time-off", s.addTimeOff)
	doc.DELETE("/time-off/:id", s.deleteTimeOff)
}

func (s *Server) listDoctors(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.Schedules.Doctors(c.Request.Context(), models.DoctorFilter{
		Specialty: c.Query("specialty"), Query: c.Query("q"), Limit: limit, Cursor: c.Query("cursor"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewDoctor))
}

func (s *Server) getDoctor(c *gin.Context) {
	d, err := s.svc.Schedules.Doctor(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewDoctor(d))
}

// queryTime parses an optional RFC 3339 query parameter.
func queryTime(c *gin.Context, name string, def time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	t, err := models.ParseTime(name, v)
	if err != nil {
		return time.Time{}, malformed("a query parameter is not a time", models.AsError(err).Details)
	}
	return t, nil
}

func (s *Server) doctorSlots(c *gin.Context) {
	now := s.svc.Clock.Now()
	from, err := queryTime(c, "from", now)
	if err != nil {
		s.fail(c, err)
		return
	}
	to, err := queryTime(c, "to", from.Add(7*24*time.Hour))
	if err != nil {
		s.fail(c, err)
		return
	}
	slots, err := s.svc.Schedules.FreeSlots(c.Request.Context(), c.Param("id"), from, to)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.ListOf(slots, wire.NewSlot))
}

func (s *Server) getMySchedule(c *gin.Context) {
	sc, err := s.svc.Schedules.Get(c.Request.Context(), actor(c).UserID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		p, _ := principal(c)
		s.reply(c, http.StatusOK, wire.Schedule{TimeZone: p.User.TimeZone, SlotMinutes: 30, Rules: []wire.ScheduleRule{}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewSchedule(sc))
}

func (s *Server) putMySchedule(c *gin.Context) {
	var in wire.ScheduleRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	sc, outside, err := s.svc.Schedules.Put(c.Request.Context(), actor(c), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := wire.NewSchedule(sc)
	out.AppointmentsOutsideHours = &outside
	s.reply(c, http.StatusOK, out)
}

func (s *Server) listTimeOff(c *gin.Context) {
	offs, err := s.svc.Schedules.TimeOffs(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.ListOf(offs, wire.NewTimeOff))
}

func (s *Server) addTimeOff(c *gin.Context) {
	var in wire.TimeOffRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.svc.Schedules.AddTimeOff(c.Request.Context(), actor(c), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusCreated, wire.NewTimeOff(t))
}

func (s *Server) deleteTimeOff(c *gin.Context) {
	if err := s.svc.Schedules.DeleteTimeOff(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
