package models

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy holds the time rules of appointments and their rooms. Its methods
// are pure: every decision about who may do what, and when, is made here
// (see access.go and Lifecycle below) from an actor, an appointment and the
// time.
type Policy struct {
	// MinLeadTime is the earliest bookable slot from now.
	MinLeadTime time.Duration
	// CancelCutoff: patients cancel or reschedule up to this before the start.
	CancelCutoff time.Duration
	// StartEarly is how early a doctor may start a consultation.
	StartEarly time.Duration
	// NoShowAfter: a booked appointment untouched this long after its end
	// becomes no_show.
	NoShowAfter time.Duration
	// ChatWindow is how long the chat stays open after completion.
	ChatWindow time.Duration
	// BookingHorizon is how far ahead a slot may be booked (0: no limit).
	BookingHorizon time.Duration
	// MaxActiveAppointments is how many booked or in-progress appointments
	// one patient may hold at once (0: no limit).
	MaxActiveAppointments int
}

// CheckBookable says whether a slot starting at start may be booked now:
// not in the past, not sooner than MinLeadTime, not beyond BookingHorizon.
func (p Policy) CheckBookable(start, now time.Time) error {
	if start.Before(now.Add(p.MinLeadTime)) {
		return InvalidFields(map[string]any{"starts_at": "lies in the past or too soon to book"})
	}
	if p.BookingHorizon > 0 && start.After(now.Add(p.BookingHorizon)) {
		return InvalidFields(map[string]any{"starts_at": fmt.Sprintf("lies more than %s ahead; appointments can be booked up to %s in advance",
			humanDays(p.BookingHorizon), humanDays(p.BookingHorizon))})
	}
	return nil
}

// BookableUntil is the latest start that may be booked now (zero: no limit).
func (p Policy) BookableUntil(now time.Time) time.Time {
	if p.BookingHorizon <= 0 {
		return time.Time{}
	}
	return now.Add(p.BookingHorizon)
}

// CheckActiveCount refuses a booking when the patient already holds active
// appointments up to the limit.
func (p Policy) CheckActiveCount(active int64) error {
	if p.MaxActiveAppointments > 0 && active >= int64(p.MaxActiveAppointments) {
		return Errorf(ECONFLICT, "you already have %d upcoming appointments; cancel one or wait until one is over", active).
			WithDetails(map[string]any{"max_active_appointments": p.MaxActiveAppointments})
	}
	return nil
}

func humanDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return d.String()
}

// Timing is when, relative to the appointment, a transition may happen.
type Timing int

// Timings of the lifecycle.
const (
	// Anytime has no time rule.
	Anytime Timing = iota
	// PatientBeforeCutoff: a patient only until CancelCutoff before the
	// start; the doctor and admins at any time.
	PatientBeforeCutoff
	// FromStartWindow: from StartEarly before the start (admins any time).
	FromStartWindow
	// AfterStart: only once the start time has passed.
	AfterStart
)

// Transition is one row of the lifecycle: from which statuses an action
// may be taken, the status it leads to ("" keeps the status), and who may
// take it when.
type Transition struct {
	From []AppointmentStatus
	To   AppointmentStatus
	By   []Relation
	When Timing
}

// Lifecycle is the only place that says which status may follow which, for
// whom and when. The services ask Policy.Check, which reads it.
var Lifecycle = map[Action]Transition{
	ActionStart:      {From: []AppointmentStatus{StatusBooked}, To: StatusInProgress, By: []Relation{TheDoctor, Admin}, When: FromStartWindow},
	ActionComplete:   {From: []AppointmentStatus{StatusInProgress}, To: StatusCompleted, By: []Relation{TheDoctor, Admin}},
	ActionConfirm:    {From: []AppointmentStatus{StatusPendingPayment}, To: StatusBooked, By: []Relation{System}},
	ActionRelease:    {From: []AppointmentStatus{StatusPendingPayment}, To: StatusCancelled, By: []Relation{System}},
	ActionCancel:     {From: []AppointmentStatus{StatusPendingPayment, StatusBooked}, To: StatusCancelled, By: []Relation{ThePatient, TheDoctor, Admin}, When: PatientBeforeCutoff},
	ActionNoShow:     {From: []AppointmentStatus{StatusBooked}, To: StatusNoShow, By: []Relation{TheDoctor, Admin, System}, When: AfterStart},
	ActionReschedule: {From: []AppointmentStatus{StatusBooked}, To: StatusBooked, By: []Relation{ThePatient, Admin}, When: PatientBeforeCutoff},
	ActionDiagnose:   {From: []AppointmentStatus{StatusInProgress, StatusCompleted}, By: []Relation{TheDoctor}},
}

// checkTransition applies the Lifecycle row of action to rel.
func (p Policy) checkTransition(rel Relation, a Appointment, action Action, now time.Time) error {
	t := Lifecycle[action]
	if !slices.Contains(t.By, rel) && !(rel == System && slices.Contains(t.By, Admin)) {
		return Errorf(EFORBIDDEN, "a %s cannot %s this appointment", rel, actionVerb(action))
	}
	if !slices.Contains(t.From, a.Status) {
		return StatusConflict(a, action)
	}
	switch t.When {
	case PatientBeforeCutoff:
		if rel == ThePatient && now.After(a.StartsAt.Add(-p.CancelCutoff)) {
			return Errorf(ECONFLICT, "appointments can be changed only until %s before they start", p.CancelCutoff).
				WithDetails(map[string]any{"status": a.Status, "cutoff": p.CancelCutoff.String()})
		}
	case FromStartWindow:
		if rel != Admin && rel != System && now.Before(a.StartsAt.Add(-p.StartEarly)) {
			return Errorf(ECONFLICT, "the consultation can start at most %s before its time", p.StartEarly).
				WithDetails(map[string]any{"status": a.Status, "opens_at": a.StartsAt.Add(-p.StartEarly).UTC().Format(time.RFC3339)})
		}
	case AfterStart:
		if now.Before(a.StartsAt) {
			return Errorf(ECONFLICT, "a patient can be marked absent only after the start time").WithDetails(map[string]any{"status": a.Status})
		}
	}
	return nil
}

// StatusConflict is the answer to an action the current status does not allow.
func StatusConflict(a Appointment, action Action) error {
	return Errorf(ECONFLICT, "cannot %s an appointment that is %s", actionVerb(action), a.Status).
		WithDetails(map[string]any{"status": a.Status})
}

// NextStatus is the status action leads to from a.
func NextStatus(a Appointment, action Action) AppointmentStatus {
	if to := Lifecycle[action].To; to != "" {
		return to
	}
	return a.Status
}

// NoShowDue reports whether a booked appointment should become no_show now.
func (p Policy) NoShowDue(a Appointment, now time.Time) bool {
	return a.Status == StatusBooked && a.EndsAt.Before(now.Add(-p.NoShowAfter))
}

func actionVerb(a Action) string { return strings.ReplaceAll(string(a), "_", "-") }
