package models

import (
	"context"
	"time"
)

// Stats is the admin's overview of the platform.
type Stats struct {
	UsersByRole          map[Role]int64
	AppointmentsByStatus map[AppointmentStatus]int64
	// MessagesToday counts chat messages since midnight UTC.
	MessagesToday int64
}

// Stats counts users, appointments and today's messages. Admins only.
func (p *Platform) Stats(ctx context.Context, actor Actor) (Stats, error) {
	if !actor.IsAdmin() {
		return Stats{}, Errorf(EFORBIDDEN, "admins only")
	}
	s := Stats{
		UsersByRole:          map[Role]int64{RolePatient: 0, RoleDoctor: 0, RoleAdmin: 0},
		AppointmentsByStatus: map[AppointmentStatus]int64{StatusBooked: 0, StatusInProgress: 0, StatusCompleted: 0, StatusCancelled: 0, StatusNoShow: 0},
	}
	db := p.DB.WithContext(ctx)
	var roles []struct {
		Role Role
		N    int64
	}
	if err := db.Model(&User{}).Select("role, COUNT(*) AS n").Group("role").Scan(&roles).Error; err != nil {
		return Stats{}, err
	}
	for _, r := range roles {
		s.UsersByRole[r.Role] = r.N
	}
	var statuses []struct {
		Status AppointmentStatus
		N      int64
	}
	if err := db.Model(&Appointment{}).Select("status, COUNT(*) AS n").Group("status").Scan(&statuses).Error; err != nil {
		return Stats{}, err
	}
	for _, r := range statuses {
		s.AppointmentsByStatus[r.Status] = r.N
	}
	now := p.Opts.Clock.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if err := db.Table("messages").Where("created_at >= ?", midnight).Count(&s.MessagesToday).Error; err != nil {
		return Stats{}, err
	}
	return s, nil
}
