package models

import (
	"context"
	"time"
)

// AppointmentStatus is where an appointment is in its life.
type AppointmentStatus string

// Appointment statuses.
const (
	// StatusPendingPayment holds the slot while the patient pays (paid
	// bookings only); the payment's success books it.
	StatusPendingPayment AppointmentStatus = "pending_payment"
	StatusBooked         AppointmentStatus = "booked"
	StatusInProgress     AppointmentStatus = "in_progress"
	StatusCompleted      AppointmentStatus = "completed"
	StatusCancelled      AppointmentStatus = "cancelled"
	StatusNoShow         AppointmentStatus = "no_show"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []AppointmentStatus{StatusPendingPayment, StatusBooked, StatusInProgress, StatusCompleted, StatusCancelled, StatusNoShow}

// ActiveStatuses hold their slot (a hold awaiting payment too).
var ActiveStatuses = []AppointmentStatus{StatusPendingPayment, StatusBooked, StatusInProgress}

// Party is a participant of an appointment as the appointment shows them.
type Party struct {
	ID        string
	Name      string
	TimeZone  string
	Locale    string
	Specialty string
}

// Appointment is one booked slot with a doctor; it is also a consultation room.
type Appointment struct {
	ID                    string
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

	// Doctor and Patient are set when loaded with the appointment.
	Doctor  *Party
	Patient *Party
	// Unread is the viewer's unread state of the room, set in a
	// participant's list (never for admins: the text is the patient's).
	Unread *Unread
	// Payment is the appointment's payment, for a paid booking.
	Payment *Payment
}

// IsParticipant reports whether userID is the appointment's patient or doctor.
func (a Appointment) IsParticipant(userID string) bool {
	return userID != "" && (a.PatientID == userID || a.DoctorID == userID)
}

// Active reports whether the appointment is confirmed and not over: its
// room is open for calls. (A hold awaiting payment is not.)
func (a Appointment) Active() bool {
	return a.Status == StatusBooked || a.Status == StatusInProgress
}

// PartyByID returns the doctor or patient with id, if loaded.
func (a Appointment) PartyByID(id string) *Party {
	switch {
	case a.Doctor != nil && a.Doctor.ID == id:
		return a.Doctor
	case a.Patient != nil && a.Patient.ID == id:
		return a.Patient
	}
	return nil
}

// BookInput books a slot.
type BookInput struct {
	DoctorID string `field:"doctor_id" validate:"required,max=64"`
	StartsAt string `field:"starts_at" validate:"required"`
	Reason   string `field:"reason" validate:"omitempty,utf8,max=2000"`
}

// CancelInput cancels an appointment.
type CancelInput struct {
	Reason string `field:"reason" validate:"omitempty,utf8,max=2000"`
}

// RescheduleInput moves an appointment to another free slot.
type RescheduleInput struct {
	StartsAt string `field:"starts_at" validate:"required"`
}

// DiagnosisInput is the doctor's conclusion.
type DiagnosisInput struct {
	Summary      string  `field:"summary" validate:"required,utf8,min=1,max=10000"`
	Prescription *string `field:"prescription" validate:"omitempty,utf8,max=10000"`
}

// AppointmentFilter narrows a listing.
type AppointmentFilter struct {
	Status    AppointmentStatus
	From, To  string
	DoctorID  string
	PatientID string
	Limit     int
	Cursor    string
}

// AppointmentService books slots and moves appointments through their
// life. Who may do what is decided by Policy.Check; an appointment the
// actor may not see is ENOTFOUND everywhere, so ids do not leak.
type AppointmentService interface {
	// Get returns an appointment to its participants and to admins
	// (audited). Returns ENOTFOUND.
	Get(ctx context.Context, actor Actor, id string) (Appointment, error)
	// Book takes a free slot for the actor (a patient) and raises
	// AppointmentBooked. Returns EFORBIDDEN for other roles, EINVALID for a
	// slot that is not free or lies in the past, ENOTFOUND for an unknown
	// doctor, ESLOTTAKEN when someone holds it and ECONFLICT when the
	// patient is busy then.
	Book(ctx context.Context, actor Actor, in BookInput) (Appointment, error)
	// Start, Complete, NoShow and Cancel apply the lifecycle action of their
	// name. Each returns ENOTFOUND, EFORBIDDEN (wrong role), ECONFLICT
	// (status or time does not allow it) or EINVALID.
	Start(ctx context.Context, actor Actor, id string) (Appointment, error)
	Complete(ctx context.Context, actor Actor, id string) (Appointment, error)
	NoShow(ctx context.Context, actor Actor, id string) (Appointment, error)
	Cancel(ctx context.Context, actor Actor, id string, in CancelInput) (Appointment, error)
	// Reschedule moves a booked appointment to another free slot atomically.
	// Returns what Book and Cancel return.
	Reschedule(ctx context.Context, actor Actor, id string, in RescheduleInput) (Appointment, error)
	// SetDiagnosis stores (or updates) the doctor's diagnosis and raises
	// DiagnosisReady. Returns ENOTFOUND, EFORBIDDEN, ECONFLICT or EINVALID.
	SetDiagnosis(ctx context.Context, actor Actor, id string, in DiagnosisInput) (Appointment, error)
	// List returns the actor's appointments by start (admins: all,
	// audited). Returns EINVALID.
	List(ctx context.Context, actor Actor, f AppointmentFilter) (Page[Appointment], error)
	// SweepNoShows marks booked appointments long past their end as no_show.
	SweepNoShows(ctx context.Context) (int, error)
}
