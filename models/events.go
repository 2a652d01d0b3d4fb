package models

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// EventKind names something that happened in the domain.
type EventKind string

// Domain events. Operations publish them after their transaction commits.
const (
	EventAppointmentBooked      EventKind = "appointment_booked"
	EventAppointmentCancelled   EventKind = "appointment_cancelled"
	EventAppointmentRescheduled EventKind = "appointment_rescheduled"
	EventAppointmentStarted     EventKind = "appointment_started"
	EventAppointmentCompleted   EventKind = "appointment_completed"
	EventAppointmentNoShow      EventKind = "appointment_no_show"
	EventDiagnosisReady         EventKind = "diagnosis_ready"
	EventUserDisabled           EventKind = "user_disabled"
	EventChatMessage            EventKind = "chat_message"
	EventChatRead               EventKind = "chat_read"
	EventNotified               EventKind = "notified"
	EventCallSignal             EventKind = "call_signal"
)

// Event describes one domain change.
type Event struct {
	Kind EventKind
	// Actor did it; empty for the system (scheduler).
	Actor Actor
	// Appointment is the appointment after the change, for appointment events.
	Appointment *Appointment
	// PreviousStartsAt is the old start of a rescheduled appointment.
	PreviousStartsAt time.Time
	// Message is the stored message of chat events.
	Message *Message
	// ReadSeq is how far UserID has read, for chat_read.
	ReadSeq int64
	// Notifications were just stored, for notified; Audience is set for
	// an announcement ("all", "patients", "doctors").
	Notifications []Notification
	Audience      string
	// UserID is the subject of user events.
	UserID string
	At     time.Time
}

// EventHandler reacts to a committed domain event. Handlers must not block
// for long; they get the publishing request's context values but not its
// cancellation.
type EventHandler func(ctx context.Context, ev Event)

// Events delivers domain events to subscribers in process. It lets one
// domain tell another what happened without importing it.
type Events struct {
	mu   sync.RWMutex
	subs []EventHandler
	log  *slog.Logger
}

// NewEvents returns an empty dispatcher.
func NewEvents(log *slog.Logger) *Events { return &Events{log: log} }

// Subscribe adds h; it receives every later event.
func (e *Events) Subscribe(h EventHandler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.subs = append(e.subs, h)
}

// Publish calls every subscriber in order. A panicking subscriber is logged
// and does not stop the others.
func (e *Events) Publish(ctx context.Context, ev Event) {
	if e == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	e.mu.RLock()
	subs := append([]EventHandler(nil), e.subs...)
	e.mu.RUnlock()
	for _, h := range subs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					e.log.ErrorContext(ctx, "event handler panicked", "kind", ev.Kind, "panic", r)
				}
			}()
			h(ctx, ev)
		}()
	}
}
