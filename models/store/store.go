// Package store is the GORM implementation of the models service
// interfaces, on Postgres and on the embedded SQLite. Row types are
// unexported and converted explicitly; every rule it applies is asked of
// the models package (Policy, Lifecycle, slot grids); every event it raises
// is written to the outbox in the same transaction as the change.
package store

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"gorm.io/gorm"

	"teleconsult/models"
)

// Compile-time checks: each service implements its interface.
var (
	_ models.UserService         = (*Users)(nil)
	_ models.AuthService         = (*Auth)(nil)
	_ models.ScheduleService     = (*Schedules)(nil)
	_ models.AppointmentService  = (*Appointments)(nil)
	_ models.ChatService         = (*Chat)(nil)
	_ models.CallService         = (*Calls)(nil)
	_ models.NotificationService = (*Notifications)(nil)
	_ models.AuditService        = (*Audit)(nil)
	_ models.StatsService        = (*Stats)(nil)
)

func discardIfNil(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// loadAppointment reads an appointment with its doctor and patient through
// db (which may be a transaction). Returns ErrAppointmentNotFound.
func loadAppointment(ctx context.Context, db *gorm.DB, id string) (models.Appointment, error) {
	var r appointmentRow
	// One statement: the people are joined, not preloaded.
	err := db.WithContext(ctx).Joins("Patient").Joins("Doctor.Doctor").Joins("Payment").Where("appointments.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Appointment{}, models.ErrAppointmentNotFound
	}
	if err != nil {
		return models.Appointment{}, err
	}
	return r.toModel(), nil
}

// loadBare reads an appointment without its people (cheaper, for checks).
func loadBare(ctx context.Context, db *gorm.DB, id string) (models.Appointment, error) {
	var r appointmentRow
	err := db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Appointment{}, models.ErrAppointmentNotFound
	}
	if err != nil {
		return models.Appointment{}, err
	}
	return r.toModel(), nil
}

// escapeLike escapes LIKE wildcards in user input.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
