package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"teleconsult/models"
)

// Stats counts for the admin's overview.
type Stats struct {
	db    *gorm.DB
	clock models.Clock
}

// NewStats builds the stats service.
func NewStats(db *gorm.DB, clock models.Clock) *Stats { return &Stats{db: db, clock: clock} }

// Stats counts users, appointments and today's messages. Admins only.
func (s *Stats) Stats(ctx context.Context, actor models.Actor) (models.Stats, error) {
	if !actor.IsAdmin() {
		return models.Stats{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	out := models.Stats{
		UsersByRole:          map[models.Role]int64{models.RolePatient: 0, models.RoleDoctor: 0, models.RoleAdmin: 0},
		AppointmentsByStatus: map[models.AppointmentStatus]int64{},
	}
	for _, st := range models.Statuses {
		out.AppointmentsByStatus[st] = 0
	}
	db := s.db.WithContext(ctx)
	var roles []struct {
		Role string
		N    int64
	}
	if err := db.Model(&userRow{}).Select("role, COUNT(*) AS n").Group("role").Scan(&roles).Error; err != nil {
		return models.Stats{}, err
	}
	for _, r := range roles {
		out.UsersByRole[models.Role(r.Role)] = r.N
	}
	var statuses []struct {
		Status string
		N      int64
	}
	if err := db.Model(&appointmentRow{}).Select("status, COUNT(*) AS n").Group("status").Scan(&statuses).Error; err != nil {
		return models.Stats{}, err
	}
	for _, r := range statuses {
		out.AppointmentsByStatus[models.AppointmentStatus(r.Status)] = r.N
	}
	now := s.clock.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if err := db.Model(&messageRow{}).Where("created_at >= ?", midnight).Count(&out.MessagesToday).Error; err != nil {
		return models.Stats{}, err
	}
	return out, nil
}
