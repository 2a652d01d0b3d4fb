package models

import "time"

// AppointmentStatus is where an appointment is in its life.
type AppointmentStatus string

// Appointment statuses.
const (
	StatusBooked     AppointmentStatus = "booked"
	StatusInProgress AppointmentStatus = "in_progress"
	StatusCompleted  AppointmentStatus = "completed"
	StatusCancelled  AppointmentStatus = "cancelled"
	StatusNoShow     AppointmentStatus = "no_show"
)

// Appointment is one booked slot with a doctor; it is also a consultation room.
type Appointment struct {
	ID                    string `gorm:"primaryKey"`
	DoctorID              string
	PatientID             string
	StartsAt              time.Time
	EndsAt                time.Time
	Status                AppointmentStatus
	Reason                string
	CancelReason          string
	CancelledBy           string
	LastSeq               int64
	DiagnosisSummary      *string
	DiagnosisPrescription *string
	DiagnosedAt           *time.Time
	DiagnosisUpdatedAt    *time.Time
	StartedAt             *time.Time
	CompletedAt           *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time

	Doctor  *User `gorm:"foreignKey:DoctorID"`
	Patient *User `gorm:"foreignKey:PatientID"`
}

// IsParticipant reports whether userID is the appointment's patient or doctor.
func (a *Appointment) IsParticipant(userID string) bool {
	return userID != "" && (a.PatientID == userID || a.DoctorID == userID)
}

// Active reports whether the appointment still holds its slot.
func (a *Appointment) Active() bool {
	return a.Status == StatusBooked || a.Status == StatusInProgress
}
