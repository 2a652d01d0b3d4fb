package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Domain events. An operation that raises one writes it to the outbox in
// the same transaction as its change; a dispatcher hands each stored event
// to the subscribers wired in cmd/teleconsult, at least once, and each
// subscriber is idempotent (notifications carry a unique key per event and
// recipient). One struct per kind.

// EventKind names an event type; it is stored with the event.
type EventKind string

// Event kinds.
const (
	KindAppointmentBooked      EventKind = "appointment_booked"
	KindAppointmentCancelled   EventKind = "appointment_cancelled"
	KindAppointmentRescheduled EventKind = "appointment_rescheduled"
	KindConsultationStarted    EventKind = "consultation_started"
	KindConsultationCompleted  EventKind = "consultation_completed"
	KindAppointmentNoShow      EventKind = "appointment_no_show"
	KindDiagnosisReady         EventKind = "diagnosis_ready"
	KindReminderDue            EventKind = "reminder_due"
	KindUserDisabled           EventKind = "user_disabled"
	KindPasswordChanged        EventKind = "password_changed"
	KindSessionEnded           EventKind = "session_ended"
	KindAnnouncementPosted     EventKind = "announcement_posted"
	KindMessagePosted          EventKind = "message_posted"
	KindPaymentSucceeded       EventKind = "payment_succeeded"
	KindPaymentReleased        EventKind = "payment_released"
	KindPaymentRefunded        EventKind = "payment_refunded"
)

// Event is one domain event.
type Event interface {
	EventKind() EventKind
}

// AppointmentEvent is the part every appointment event shares: the
// appointment after the change, who changed it and when.
type AppointmentEvent struct {
	Appointment Appointment
	ActorID     string
	ActorRole   Role
	At          time.Time
}

// AppointmentOf returns the appointment an event is about, if any.
func AppointmentOf(ev Event) (Appointment, bool) {
	if x, ok := ev.(interface{ appointment() Appointment }); ok {
		return x.appointment(), true
	}
	return Appointment{}, false
}

func (e AppointmentEvent) appointment() Appointment { return e.Appointment }

// AppointmentBooked: a patient took a slot.
type AppointmentBooked struct{ AppointmentEvent }

// AppointmentCancelled: the appointment was cancelled.
type AppointmentCancelled struct {
	AppointmentEvent
	Reason string
	// Unpaid: the appointment was only held awaiting payment; the doctor
	// never heard of it.
	Unpaid bool `json:",omitempty"`
}

// AppointmentRescheduled: the appointment moved to another slot.
type AppointmentRescheduled struct {
	AppointmentEvent
	PreviousStartsAt time.Time
}

// ConsultationStarted: the doctor opened the consultation.
type ConsultationStarted struct{ AppointmentEvent }

// ConsultationCompleted: the doctor closed the consultation.
type ConsultationCompleted struct{ AppointmentEvent }

// AppointmentNoShow: the patient did not come.
type AppointmentNoShow struct{ AppointmentEvent }

// DiagnosisReady: the doctor wrote (or updated) the diagnosis.
type DiagnosisReady struct{ AppointmentEvent }

// ReminderDue: an upcoming appointment's reminder is due.
type ReminderDue struct {
	AppointmentEvent
	// Offset is how long before the start the reminder is for.
	Offset time.Duration
}

// UserDisabled: an admin disabled an account; its sockets must go.
type UserDisabled struct {
	UserID  string
	ActorID string
	At      time.Time
}

// PasswordChanged: a user's password changed; every other session of
// theirs was revoked and its sockets must go.
type PasswordChanged struct {
	UserID string
	// KeepSessionID is the session that made the change (it stays).
	KeepSessionID string
	At            time.Time
}

// SessionEnded: a session signed out; its sockets must go.
type SessionEnded struct {
	UserID    string
	SessionID string
	At        time.Time
}

// AnnouncementPosted: an admin wrote to many users.
type AnnouncementPosted struct {
	Title    string
	Body     string
	Audience string
	ActorID  string
	At       time.Time
}

// MessagePosted: the room recorded a message of its own (a call that
// ended, a consultation step) or a participant's upload.
type MessagePosted struct {
	Message   Message
	PatientID string
	DoctorID  string
}

// Recipients are the participants a message is for (all but its sender).
func (e MessagePosted) Recipients() []string {
	var out []string
	for _, id := range []string{e.PatientID, e.DoctorID} {
		if id != "" && id != e.Message.SenderID {
			out = append(out, id)
		}
	}
	return out
}

// PaymentSucceeded: the patient paid; the appointment is booked (an
// AppointmentBooked is raised with it).
type PaymentSucceeded struct {
	AppointmentEvent
	Payment Payment
}

// PaymentReleased: a hold ended unpaid (the provider refused the payment,
// or it ran out); the slot is free again.
type PaymentReleased struct {
	AppointmentEvent
	Payment Payment
}

// PaymentRefunded: a payment was paid back in full.
type PaymentRefunded struct {
	AppointmentEvent
	Payment Payment
}

// EventKind implementations.
func (AppointmentBooked) EventKind() EventKind      { return KindAppointmentBooked }
func (AppointmentCancelled) EventKind() EventKind   { return KindAppointmentCancelled }
func (AppointmentRescheduled) EventKind() EventKind { return KindAppointmentRescheduled }
func (ConsultationStarted) EventKind() EventKind    { return KindConsultationStarted }
func (ConsultationCompleted) EventKind() EventKind  { return KindConsultationCompleted }
func (AppointmentNoShow) EventKind() EventKind      { return KindAppointmentNoShow }
func (DiagnosisReady) EventKind() EventKind         { return KindDiagnosisReady }
func (ReminderDue) EventKind() EventKind            { return KindReminderDue }
func (UserDisabled) EventKind() EventKind           { return KindUserDisabled }
func (PasswordChanged) EventKind() EventKind        { return KindPasswordChanged }
func (SessionEnded) EventKind() EventKind           { return KindSessionEnded }
func (AnnouncementPosted) EventKind() EventKind     { return KindAnnouncementPosted }
func (MessagePosted) EventKind() EventKind          { return KindMessagePosted }
func (PaymentSucceeded) EventKind() EventKind       { return KindPaymentSucceeded }
func (PaymentReleased) EventKind() EventKind        { return KindPaymentReleased }
func (PaymentRefunded) EventKind() EventKind        { return KindPaymentRefunded }

// eventTypes decodes stored events by kind.
var eventTypes = map[EventKind]func() Event{
	KindAppointmentBooked:      func() Event { return &AppointmentBooked{} },
	KindAppointmentCancelled:   func() Event { return &AppointmentCancelled{} },
	KindAppointmentRescheduled: func() Event { return &AppointmentRescheduled{} },
	KindConsultationStarted:    func() Event { return &ConsultationStarted{} },
	KindConsultationCompleted:  func() Event { return &ConsultationCompleted{} },
	KindAppointmentNoShow:      func() Event { return &AppointmentNoShow{} },
	KindDiagnosisReady:         func() Event { return &DiagnosisReady{} },
	KindReminderDue:            func() Event { return &ReminderDue{} },
	KindUserDisabled:           func() Event { return &UserDisabled{} },
	KindPasswordChanged:        func() Event { return &PasswordChanged{} },
	KindSessionEnded:           func() Event { return &SessionEnded{} },
	KindAnnouncementPosted:     func() Event { return &AnnouncementPosted{} },
	KindMessagePosted:          func() Event { return &MessagePosted{} },
	KindPaymentSucceeded:       func() Event { return &PaymentSucceeded{} },
	KindPaymentReleased:        func() Event { return &PaymentReleased{} },
	KindPaymentRefunded:        func() Event { return &PaymentRefunded{} },
}

// EncodeEvent serialises an event for the outbox.
func EncodeEvent(ev Event) (EventKind, []byte, error) {
	b, err := json.Marshal(ev)
	return ev.EventKind(), b, err
}

// DecodeEvent reads an event stored by EncodeEvent. It returns the value
// type (AppointmentBooked, not *AppointmentBooked).
func DecodeEvent(kind EventKind, payload []byte) (Event, error) {
	mk, ok := eventTypes[kind]
	if !ok {
		return nil, fmt.Errorf("unknown event kind %q", kind)
	}
	p := mk()
	if err := json.Unmarshal(payload, p); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", kind, err)
	}
	switch v := p.(type) {
	case *AppointmentBooked:
		return *v, nil
	case *AppointmentCancelled:
		return *v, nil
	case *AppointmentRescheduled:
		return *v, nil
	case *ConsultationStarted:
		return *v, nil
	case *ConsultationCompleted:
		return *v, nil
	case *AppointmentNoShow:
		return *v, nil
	case *DiagnosisReady:
		return *v, nil
	case *ReminderDue:
		return *v, nil
	case *UserDisabled:
		return *v, nil
	case *PasswordChanged:
		return *v, nil
	case *SessionEnded:
		return *v, nil
	case *AnnouncementPosted:
		return *v, nil
	case *MessagePosted:
		return *v, nil
	case *PaymentSucceeded:
		return *v, nil
	case *PaymentReleased:
		return *v, nil
	case *PaymentRefunded:
		return *v, nil
	}
	return nil, fmt.Errorf("unknown event kind %q", kind)
}

// Envelope is a stored event as the dispatcher hands it out.
type Envelope struct {
	// ID is unique per event; subscribers key their effects on it.
	ID        string
	Event     Event
	CreatedAt time.Time
	// Attempt counts deliveries, from 1.
	Attempt int
}

// EventHandler reacts to a committed event. A returned error makes the
// dispatcher try the event again later (every subscriber again), so
// handlers must be idempotent.
type EventHandler func(ctx context.Context, env Envelope) error
