package models

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Who may see or act on an appointment, in one place. Every REST and
// socket path asks Policy.Check (directly or through a service). The
// answers are the same on both edges:
//
//   - not yours (not its patient or doctor, not an admin): ENOTFOUND, so
//     ids do not leak;
//   - yours, but not for your role (a patient starting, an admin joining
//     the room): EFORBIDDEN;
//   - yours, but not in this status or at this time: ECONFLICT for the
//     lifecycle, EFORBIDDEN for a closed room (chat, calls).
//
// A database error is never turned into one of these: it stays internal
// (or unavailable).

// Relation is how an actor stands to one appointment.
type Relation string

// Relations.
const (
	Stranger   Relation = "stranger"
	ThePatient Relation = "patient"
	TheDoctor  Relation = "doctor"
	Admin      Relation = "admin"
	System     Relation = "system"
)

// RelationOf says how actor stands to a.
func RelationOf(actor Actor, a Appointment) Relation {
	switch {
	case actor.IsSystem():
		return System
	case actor.UserID != "" && actor.UserID == a.PatientID:
		return ThePatient
	case actor.UserID != "" && actor.UserID == a.DoctorID:
		return TheDoctor
	case actor.IsAdmin():
		return Admin
	}
	return Stranger
}

// Action is something done to an appointment or in its room.
type Action string

// Actions on an appointment and its room.
const (
	ActionView        Action = "view"         // read the appointment
	ActionReadHistory Action = "read_history" // read the room's messages (REST history, attachments)
	ActionJoin        Action = "join"         // enter the live room
	ActionSend        Action = "send"         // post a message or attachment
	ActionCall        Action = "call"         // ring, answer, signal
	ActionHangup      Action = "hangup"       // end a running call
	ActionStart       Action = "start"
	ActionComplete    Action = "complete"
	ActionCancel      Action = "cancel"
	ActionNoShow      Action = "no_show"
	ActionReschedule  Action = "reschedule"
	ActionDiagnose    Action = "diagnose"
	ActionConfirm     Action = "confirm" // the payment arrived: a hold becomes booked
	ActionRelease     Action = "release" // the payment failed or ran out: the hold ends
)

// Actions lists every action, for tables.
var Actions = []Action{ActionView, ActionReadHistory, ActionJoin, ActionSend, ActionCall, ActionHangup,
	ActionStart, ActionComplete, ActionCancel, ActionNoShow, ActionReschedule, ActionDiagnose, ActionConfirm, ActionRelease}

// ErrAppointmentNotFound is the answer for an appointment that does not
// exist or is not the actor's.
var ErrAppointmentNotFound = Errorf(ENOTFOUND, "appointment not found")

// Check decides whether actor may take action on a at now. It returns nil
// or the domain error to answer with.
func (p Policy) Check(actor Actor, a Appointment, action Action, now time.Time) error {
	rel := RelationOf(actor, a)
	if rel == Stranger {
		return ErrAppointmentNotFound
	}
	switch action {
	case ActionView, ActionReadHistory:
		return nil
	case ActionJoin:
		if err := participantOnly(rel); err != nil {
			return err
		}
		switch a.Status {
		case StatusCancelled:
			return Errorf(EFORBIDDEN, "this consultation was cancelled")
		case StatusPendingPayment:
			return Errorf(EFORBIDDEN, "this consultation opens once it is paid")
		}
		return nil
	case ActionSend:
		if err := participantOnly(rel); err != nil {
			return err
		}
		return p.chatOpen(a, now)
	case ActionHangup:
		// A call may outlive the consultation's status: ending it is always allowed.
		return participantOnly(rel)
	case ActionCall:
		if err := participantOnly(rel); err != nil {
			return err
		}
		if !a.Active() {
			return Errorf(EFORBIDDEN, "calls are closed for a %s consultation", a.Status)
		}
		return nil
	}
	if _, ok := Lifecycle[action]; ok {
		return p.checkTransition(rel, a, action, now)
	}
	return Errorf(EFORBIDDEN, "unknown action %q", action)
}

// CanViewAppointment: its patient, its doctor and admins (audited by the caller).
func (p Policy) CanViewAppointment(actor Actor, a Appointment) error {
	return p.Check(actor, a, ActionView, time.Time{})
}

// CanJoinRoom: its patient and doctor, unless it was cancelled.
func (p Policy) CanJoinRoom(actor Actor, a Appointment) error {
	return p.Check(actor, a, ActionJoin, time.Time{})
}

// CanSend: its patient and doctor while the chat is open.
func (p Policy) CanSend(actor Actor, a Appointment, now time.Time) error {
	return p.Check(actor, a, ActionSend, now)
}

// CanCall: its patient and doctor while it is booked or in progress.
func (p Policy) CanCall(actor Actor, a Appointment) error {
	return p.Check(actor, a, ActionCall, time.Time{})
}

// CanDiagnose: its doctor, in progress or completed.
func (p Policy) CanDiagnose(actor Actor, a Appointment, now time.Time) error {
	return p.Check(actor, a, ActionDiagnose, now)
}

func participantOnly(rel Relation) error {
	if rel == ThePatient || rel == TheDoctor {
		return nil
	}
	return Errorf(EFORBIDDEN, "only the patient and the doctor take part in a consultation")
}

// chatOpen: while booked or in progress, and for ChatWindow after completion.
func (p Policy) chatOpen(a Appointment, now time.Time) error {
	switch a.Status {
	case StatusBooked, StatusInProgress:
		return nil
	case StatusCompleted:
		if a.CompletedAt != nil && now.Before(a.CompletedAt.Add(p.ChatWindow)) {
			return nil
		}
		return Errorf(EFORBIDDEN, "the chat of this consultation has closed")
	}
	return Errorf(EFORBIDDEN, "the chat is closed for a %s consultation", a.Status)
}

// BreakGlass is the rule for an admin reading a consultation's messages:
// only with a stated reason (3 to 500 characters), which the audit log
// keeps with the read. It returns the reason as recorded.
func BreakGlass(actor Actor, reason string) (string, error) {
	if !actor.IsAdmin() {
		return "", nil
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 3 || n > 500 {
		return "", Errorf(EFORBIDDEN, "reading a consultation needs a stated reason (3 to 500 characters); the read is recorded").
			WithDetails(map[string]any{"fields": map[string]any{"reason": "is required: say why you read this consultation"}})
	}
	return reason, nil
}
