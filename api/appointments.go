package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
)

type personDTO struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Specialty string `json:"specialty,omitempty"`
}

type diagnosisDTO struct {
	Summary      string    `json:"summary"`
	Prescription *string   `json:"prescription"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type appointmentDTO struct {
	ID           string                   `json:"id"`
	DoctorID     string                   `json:"doctor_id"`
	PatientID    string                   `json:"patient_id"`
	Doctor       *personDTO               `json:"doctor"`
	Patient      *personDTO               `json:"patient"`
	StartsAt     time.Time                `json:"starts_at"`
	EndsAt       time.Time                `json:"ends_at"`
	Status       models.AppointmentStatus `json:"status"`
	Reason       string                   `json:"reason"`
	CancelReason string                   `json:"cancel_reason"`
	Diagnosis    *diagnosisDTO            `json:"diagnosis"`
	LastSeq      int64                    `json:"last_seq"`
	CreatedAt    time.Time                `json:"created_at"`
	UpdatedAt    time.Time                `json:"updated_at"`
}

func toAppointment(a models.Appointment) appointmentDTO {
	d := appointmentDTO{ID: a.ID, DoctorID: a.DoctorID, PatientID: a.PatientID, StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC(),
		Status: a.Status, Reason: a.Reason, CancelReason: a.CancelReason, LastSeq: a.LastSeq,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.Doctor != nil {
		d.Doctor = &personDTO{ID: a.Doctor.ID, Name: a.Doctor.Name}
		if a.Doctor.Doctor != nil {
			d.Doctor.Specialty = a.Doctor.Doctor.Specialty
		}
	}
	if a.Patient != nil {
		d.Patient = &personDTO{ID: a.Patient.ID, Name: a.Patient.Name}
	}
	if a.DiagnosisSummary != nil {
		d.Diagnosis = &diagnosisDTO{Summary: *a.DiagnosisSummary, Prescription: a.DiagnosisPrescription}
		if a.DiagnosedAt != nil {
			d.Diagnosis.CreatedAt = a.DiagnosedAt.UTC()
		}
		if a.DiagnosisUpdatedAt != nil {
			d.Diagnosis.UpdatedAt = a.DiagnosisUpdatedAt.UTC()
		}
	}
	return d
}

func (s *Server) appointmentRoutes(public, authed, admin *gin.RouterGroup) {
	authed.POST("/appointments", s.bookAppointment)
	authed.GET("/appointments", s.listAppointments)
	authed.GET("/appointments/:id", s.getAppointment)
	authed.POST("/appointments/:id/cancel", s.cancelAppointment)
	authed.POST("/appointments/:id/reschedule", s.rescheduleAppointment)
	authed.POST("/appointments/:id/start", s.appointmentAction((*models.Appointments).Start))
	authed.POST("/appointments/:id/complete", s.appointmentAction((*models.Appointments).Complete))
	authed.POST("/appointments/:id/no-show", s.appointmentAction((*models.Appointments).NoShow))
	authed.POST("/appointments/:id/diagnosis", s.setDiagnosis)
	admin.GET("/appointments", s.listAppointments)
}

func (s *Server) bookAppointment(c *gin.Context) {
	var in models.BookInput
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.svc.Appointments.Book(c.Request.Context(), actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toAppointment(a))
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
	c.JSON(http.StatusOK, toList(p, toAppointment))
}

func (s *Server) getAppointment(c *gin.Context) {
	a, err := s.svc.Appointments.GetForParticipant(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAppointment(a))
}

// appointmentAction serves the body-less lifecycle actions.
func (s *Server) appointmentAction(op func(*models.Appointments, context.Context, models.Actor, string) (models.Appointment, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > 0 {
			var empty struct{}
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
		c.JSON(http.StatusOK, toAppointment(a))
	}
}

func (s *Server) cancelAppointment(c *gin.Context) {
	var in models.CancelInput
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	a, err := s.svc.Appointments.Cancel(c.Request.Context(), actor(c), c.Param("id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAppointment(a))
}

func (s *Server) rescheduleAppointment(c *gin.Context) {
	var in models.RescheduleInput
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.svc.Appointments.Reschedule(c.Request.Context(), actor(c), c.Param("id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAppointment(a))
}

func (s *Server) setDiagnosis(c *gin.Context) {
	var in models.DiagnosisInput
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.svc.Appointments.SetDiagnosis(c.Request.Context(), actor(c), c.Param("id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toAppointment(a))
}
