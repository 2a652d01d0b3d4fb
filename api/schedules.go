package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
)

type doctorDTO struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Specialty   string `json:"specialty"`
	Bio         string `json:"bio"`
	TimeZone    string `json:"time_zone"`
	SlotMinutes int    `json:"slot_minutes"`
}

func toDoctor(d models.Doctor) doctorDTO {
	out := doctorDTO{ID: d.ID, Name: d.Name, TimeZone: d.ScheduleTimeZone, SlotMinutes: d.SlotMinutes}
	if d.User.Doctor != nil {
		out.Specialty, out.Bio = d.User.Doctor.Specialty, d.User.Doctor.Bio
	}
	return out
}

type slotDTO struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

type scheduleDTO struct {
	TimeZone                 string                `json:"time_zone"`
	SlotMinutes              int                   `json:"slot_minutes"`
	Rules                    []models.ScheduleRule `json:"rules"`
	UpdatedAt                *time.Time            `json:"updated_at,omitempty"`
	AppointmentsOutsideHours *int                  `json:"appointments_outside_hours,omitempty"`
}

type timeOffDTO struct {
	ID       string    `json:"id"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Reason   string    `json:"reason"`
}

func toTimeOff(t models.TimeOff) timeOffDTO {
	return timeOffDTO{ID: t.ID, StartsAt: t.StartsAt.UTC(), EndsAt: t.EndsAt.UTC(), Reason: t.Reason}
}

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
	c.JSON(http.StatusOK, toList(p, toDoctor))
}

func (s *Server) getDoctor(c *gin.Context) {
	d, err := s.svc.Schedules.Doctor(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toDoctor(d))
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
	now := s.svc.Opts.Clock.Now()
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
	out := listDTO[slotDTO]{Items: make([]slotDTO, len(slots))}
	for i, sl := range slots {
		out.Items[i] = slotDTO{StartsAt: sl.StartsAt, EndsAt: sl.EndsAt}
	}
	c.JSON(http.StatusOK, out)
}

func toSchedule(sc models.Schedule) scheduleDTO {
	u := sc.UpdatedAt.UTC()
	return scheduleDTO{TimeZone: sc.TimeZone, SlotMinutes: sc.SlotMinutes, Rules: sc.Rules, UpdatedAt: &u}
}

func (s *Server) getMySchedule(c *gin.Context) {
	sc, err := s.svc.Schedules.Get(c.Request.Context(), actor(c).UserID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		p, _ := principal(c)
		c.JSON(http.StatusOK, scheduleDTO{TimeZone: p.User.TimeZone, SlotMinutes: 30, Rules: []models.ScheduleRule{}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toSchedule(sc))
}

func (s *Server) putMySchedule(c *gin.Context) {
	var in models.ScheduleInput
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	sc, outside, err := s.svc.Schedules.Put(c.Request.Context(), actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := toSchedule(sc)
	out.AppointmentsOutsideHours = &outside
	c.JSON(http.StatusOK, out)
}

func (s *Server) listTimeOff(c *gin.Context) {
	offs, err := s.svc.Schedules.TimeOffs(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := listDTO[timeOffDTO]{Items: make([]timeOffDTO, len(offs))}
	for i, t := range offs {
		out.Items[i] = toTimeOff(t)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) addTimeOff(c *gin.Context) {
	var in models.TimeOffInput
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.svc.Schedules.AddTimeOff(c.Request.Context(), actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toTimeOff(t))
}

func (s *Server) deleteTimeOff(c *gin.Context) {
	if err := s.svc.Schedules.DeleteTimeOff(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
