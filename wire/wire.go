// Package wire holds the JSON shapes that REST responses and Socket.IO
// events share, so an appointment or a message looks the same on both.
package wire

import (
	"time"

	"teleconsult/models"
)

// Person is a doctor or patient as others see them.
type Person struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Specialty string `json:"specialty,omitempty"`
}

// Diagnosis is a consultation's outcome.
type Diagnosis struct {
	Summary      string    `json:"summary"`
	Prescription *string   `json:"prescription"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Appointment is one appointment (and consultation room).
type Appointment struct {
	ID           string                   `json:"id"`
	DoctorID     string                   `json:"doctor_id"`
	PatientID    string                   `json:"patient_id"`
	Doctor       *Person                  `json:"doctor"`
	Patient      *Person                  `json:"patient"`
	StartsAt     time.Time                `json:"starts_at"`
	EndsAt       time.Time                `json:"ends_at"`
	Status       models.AppointmentStatus `json:"status"`
	Reason       string                   `json:"reason"`
	CancelReason string                   `json:"cancel_reason"`
	Diagnosis    *Diagnosis               `json:"diagnosis"`
	LastSeq      int64                    `json:"last_seq"`
	CreatedAt    time.Time                `json:"created_at"`
	UpdatedAt    time.Time                `json:"updated_at"`
}

// NewAppointment shapes an appointment for clients.
func NewAppointment(a models.Appointment) Appointment {
	d := Appointment{ID: a.ID, DoctorID: a.DoctorID, PatientID: a.PatientID, StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC(),
		Status: a.Status, Reason: a.Reason, CancelReason: a.CancelReason, LastSeq: a.LastSeq,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.Doctor != nil {
		d.Doctor = &Person{ID: a.Doctor.ID, Name: a.Doctor.Name}
		if a.Doctor.Doctor != nil {
			d.Doctor.Specialty = a.Doctor.Doctor.Specialty
		}
	}
	if a.Patient != nil {
		d.Patient = &Person{ID: a.Patient.ID, Name: a.Patient.Name}
	}
	if a.DiagnosisSummary != nil {
		d.Diagnosis = &Diagnosis{Summary: *a.DiagnosisSummary, Prescription: a.DiagnosisPrescription}
		if a.DiagnosedAt != nil {
			d.Diagnosis.CreatedAt = a.DiagnosedAt.UTC()
		}
		if a.DiagnosisUpdatedAt != nil {
			d.Diagnosis.UpdatedAt = a.DiagnosisUpdatedAt.UTC()
		}
	}
	return d
}

// Attachment is a file shared in a room; URL streams it to members.
type Attachment struct {
	ID          string `json:"id"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// Message is one chat message.
type Message struct {
	ID            string      `json:"id"`
	AppointmentID string      `json:"appointment_id"`
	Seq           int64       `json:"seq"`
	SenderID      string      `json:"sender_id"`
	Text          string      `json:"text"`
	Attachment    *Attachment `json:"attachment"`
	ClientMsgID   string      `json:"client_msg_id"`
	CreatedAt     time.Time   `json:"created_at"`
}

// NewMessage shapes a message for clients.
func NewMessage(m models.Message) Message {
	out := Message{ID: m.ID, AppointmentID: m.AppointmentID, Seq: m.Seq, SenderID: m.SenderID, Text: m.Text,
		ClientMsgID: m.ClientMsgID, CreatedAt: m.CreatedAt.UTC()}
	if a := m.Attachment; a != nil {
		out.Attachment = &Attachment{ID: a.ID, FileName: a.FileName, ContentType: a.ContentType, Size: a.SizeBytes,
			URL: "/api/v1/attachments/" + a.ID}
	}
	return out
}

// NewMessages shapes a list of messages.
func NewMessages(ms []models.Message) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, NewMessage(m))
	}
	return out
}

// Notification is one stored notification.
type Notification struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Title     string         `json:"title"`
	Body      string         `json:"body"`
	Data      map[string]any `json:"data"`
	ReadAt    *time.Time     `json:"read_at"`
	CreatedAt time.Time      `json:"created_at"`
}

// NewNotification shapes a notification for clients.
func NewNotification(n models.Notification) Notification {
	out := Notification{ID: n.ID, Kind: string(n.Kind), Title: n.Title, Body: n.Body, Data: n.DataMap(), CreatedAt: n.CreatedAt.UTC()}
	if n.ReadAt != nil {
		t := n.ReadAt.UTC()
		out.ReadAt = &t
	}
	return out
}
