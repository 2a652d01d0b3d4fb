package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

func (s *Server) appointmentRoutes(public, authed, admin *gin.RouterGroup) {
	authed.POST("/appointments", s.throttle("book", s.cfg.BookingsPerHour, time.Hour, func(c *gin.Context) string { return actor(c).UserID },
		"too many bookings in a short time; try again later"), s.bookAppointment)
	authed.GET("/appointments", s.listAppointments)
	authed.GET("/appointments/:id", s.getAppointment)
	authed.POST("/appointments/:id/cancel", s.cancelAppointment)
	authed.POST("/appointments/:id/reschedule", s.rescheduleAppointment)
	authed.POST("/appointments/:id/start", s.appointmentAction(models.AppointmentService.Start))
	authed.POST("/appointments/:id/complete", s.appointmentAction(models.AppointmentService.Complete))
	authed.POST("/appointments/:id/no-show", s.appointmentAction(models.AppointmentService.NoShow))
	authed.POST("/appointments/:id/diagnosis", s.setDiagnosis)
	admin.GET("/appointments", s.listAppointments)
}

func (s *Server) bookAppointment(c *gin.Context) {
	var in wire.BookRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.svc.Appointments.Book(c.Request.Context(), actor(c), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusCreated, wire.NewAppointment(a))
}

func (s *Server) listAppointments(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.Appointments.List(c.Request.Context(), actor(c), models.AppointmentFilter{
		Status: models.AppointmentStatus(c.Query("status")), From: c.Query("from"), To: c.Query("to"),
		DoctorID: c.Query("doctor_id"), PatientID: c.Query("patient_id"), Limit: limit, Cursor: c.Query("cursor"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewAppointmentItem))
}

func (s *Server) getAppointment(c *gin.Context) {
	a, err := s.svc.Appointments.Get(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewAppointment(a))
}

// appointmentAction serves the body-less lifecycle actions.
func (s *Server) appointmentAction(op func(models.AppointmentService, context.Context, models.Actor, string) (models.Appointment, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > 0 {
			var empty wire.Empty
			if err := decodeJSON(c, &empty); err != nil {
				s.fail(c, err)
				return
			}
		}
		a, err := op(s.svc.Appointments, c.Request.Context(), actor(c), c.Param("id"))
		if err != nil {
			s.fail(c, err)
			return
		}
		s.reply(c, http.StatusOK, wire.NewAppointment(a))
	}
}

func (s *Server) cancelAppointment(c *gin.Context) {
	var in wire.CancelRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	a, err := s.svc.Appointments.Cancel(c.Request.Context(), actor(c), c.Param("id"), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewAppointment(a))
}

func (s *Server) rescheduleAppointment(c *gin.Context) {
	var in wire.RescheduleRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.svc.Appointments.Reschedule(c.Request.Context(), actor(c), c.Param("id"), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewAppointment(a))
}

func (s *Server) setDiagnosis(c *gin.Context) {
	var in wire.DiagnosisRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.svc.Appointments.SetDiagnosis(c.Request.Context(), actor(c), c.Param("id"), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewAppointment(a))
}
