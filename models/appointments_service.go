package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// activeStatuses hold their slot.
var activeStatuses = []AppointmentStatus{StatusBooked, StatusInProgress}

// Action is something done to an appointment.
type Action string

// Appointment actions.
const (
	ActionStart      Action = "start"
	ActionComplete   Action = "complete"
	ActionCancel     Action = "cancel"
	ActionNoShow     Action = "no_show"
	ActionReschedule Action = "reschedule"
	ActionDiagnose   Action = "diagnose"
)

// transition says from which statuses an action may be taken, what status it
// leads to, and who may take it. It is the only place these rules live.
type transition struct {
	from  []AppointmentStatus
	to    AppointmentStatus
	roles []Role // participants' roles allowed besides admins
	event EventKind
}

var transitions = map[Action]transition{
	ActionStart:      {from: []AppointmentStatus{StatusBooked}, to: StatusInProgress, roles: []Role{RoleDoctor}, event: EventAppointmentStarted},
	ActionComplete:   {from: []AppointmentStatus{StatusInProgress}, to: StatusCompleted, roles: []Role{RoleDoctor}, event: EventAppointmentCompleted},
	ActionCancel:     {from: []AppointmentStatus{StatusBooked}, to: StatusCancelled, roles: []Role{RoleDoctor, RolePatient}, event: EventAppointmentCancelled},
	ActionNoShow:     {from: []AppointmentStatus{StatusBooked}, to: StatusNoShow, roles: []Role{RoleDoctor}, event: EventAppointmentNoShow},
	ActionReschedule: {from: []AppointmentStatus{StatusBooked}, to: StatusBooked, roles: []Role{RolePatient}, event: EventAppointmentRescheduled},
	ActionDiagnose:   {from: []AppointmentStatus{StatusInProgress, StatusCompleted}, roles: []Role{RoleDoctor}, event: EventDiagnosisReady},
}

// Allowed reports whether action may be taken on an appointment in status.
func Allowed(action Action, status AppointmentStatus) bool {
	t, ok := transitions[action]
	return ok && slices.Contains(t.from, status)
}

// BookInput books a slot.
type BookInput struct {
	DoctorID string `json:"doctor_id" validate:"required,max=64"`
	StartsAt string `json:"starts_at" validate:"required"`
	Reason   string `json:"reason" validate:"omitempty,utf8,max=2000"`
}

// CancelInput cancels an appointment.
type CancelInput struct {
	Reason string `json:"reason" validate:"omitempty,utf8,max=2000"`
}

// RescheduleInput moves an appointment to another free slot.
type RescheduleInput struct {
	StartsAt string `json:"starts_at" validate:"required"`
}

// DiagnosisInput is the doctor's conclusion.
type DiagnosisInput struct {
	Summary      string  `json:"summary" validate:"required,utf8,min=1,max=10000"`
	Prescription *string `json:"prescription" validate:"omitempty,utf8,max=10000"`
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

// Appointments books slots and moves appointments through their life.
type Appointments struct {
	p *Platform
}

func newAppointments(p *Platform) *Appointments { return &Appointments{p: p} }

var errNotFound = Errorf(ENOTFOUND, "appointment not found")

// load returns an appointment with doctor and patient.
func (s *Appointments) load(ctx context.Context, db *gorm.DB, id string) (Appointment, error) {
	var a Appointment
	err := db.WithContext(ctx).Preload("Doctor.Doctor").Preload("Patient").Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Appointment{}, errNotFound
	}
	return a, err
}

// GetForParticipant returns the appointment if the actor is its patient or
// doctor, or an admin (audited); everyone else gets ENOTFOUND so ids do not leak.
func (s *Appointments) GetForParticipant(ctx context.Context, actor Actor, id string) (Appointment, error) {
	a, err := s.load(ctx, s.p.DB, id)
	if err != nil {
		return Appointment{}, err
	}
	if actor.IsAdmin() {
		s.p.Audit.Record(ctx, s.p.DB, actor, "appointment.read", "appointment", id, nil)
		return a, nil
	}
	if !a.IsParticipant(actor.UserID) {
		return Appointment{}, errNotFound
	}
	return a, nil
}

// Book takes a free slot for the actor (a patient). The unique index on
// active (doctor, start) decides races: the loser gets ESLOTTAKEN.
func (s *Appointments) Book(ctx context.Context, actor Actor, in BookInput) (Appointment, error) {
	if actor.Role != RolePatient {
		return Appointment{}, Errorf(EFORBIDDEN, "only patients book appointments")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := Validate(in); err != nil {
		return Appointment{}, err
	}
	start, err := ParseTime("starts_at", in.StartsAt)
	if err != nil {
		return Appointment{}, err
	}
	now := s.p.Opts.Clock.Now()
	a := Appointment{ID: uuid.NewString(), DoctorID: in.DoctorID, PatientID: actor.UserID, StartsAt: start,
		Status: StatusBooked, Reason: in.Reason, CreatedAt: now, UpdatedAt: now}
	err = s.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		slot, err := s.slotAt(ctx, tx, in.DoctorID, start, "")
		if err != nil {
			return err
		}
		a.EndsAt = slot.EndsAt
		if err := s.patientFree(ctx, tx, actor.UserID, slot, ""); err != nil {
			return err
		}
		if err := tx.Omit("Doctor", "Patient").Create(&a).Error; err != nil {
			return slotErr(err)
		}
		return s.p.Audit.RecordTx(ctx, tx, actor, "appointment.book", "appointment", a.ID, map[string]any{"status": StatusBooked, "starts_at": start})
	})
	if err != nil {
		return Appointment{}, err
	}
	return s.publish(ctx, actor, EventAppointmentBooked, a.ID, time.Time{})
}

// slotAt checks that start is a free slot of the doctor's grid and returns it.
func (s *Appointments) slotAt(ctx context.Context, tx *gorm.DB, doctorID string, start time.Time, exceptID string) (Slot, error) {
	// Every read goes through tx: on SQLite a second pooled connection
	// would wait behind this transaction's own write lock.
	if _, err := s.p.Schedules.doctorIn(ctx, tx, doctorID); err != nil {
		return Slot{}, err
	}
	if start.Before(s.p.Opts.Clock.Now().Add(s.p.Opts.MinLeadTime)) {
		return Slot{}, InvalidFields(map[string]any{"starts_at": "lies in the past or too soon to book"})
	}
	sched, err := s.p.Schedules.get(ctx, tx, doctorID)
	if ErrorCode(err) == ENOTFOUND {
		return Slot{}, InvalidFields(map[string]any{"starts_at": "is not one of the doctor's free slots"})
	}
	if err != nil {
		return Slot{}, err
	}
	onGrid := sched.grid(start, start.Add(time.Second))
	if len(onGrid) == 0 || !onGrid[0].StartsAt.Equal(start) {
		return Slot{}, InvalidFields(map[string]any{"starts_at": "is not one of the doctor's free slots"})
	}
	slot := onGrid[0]
	offs, busy, err := s.p.Schedules.blockers(ctx, tx, doctorID, slot.StartsAt, slot.EndsAt, exceptID)
	if err != nil {
		return Slot{}, err
	}
	if overlapsAny(slot, offs, timeOffSpan) {
		return Slot{}, InvalidFields(map[string]any{"starts_at": "falls in the doctor's time off"})
	}
	if overlapsAny(slot, busy, appointmentSpan) {
		return Slot{}, Errorf(ESLOTTAKEN, "this slot is no longer free")
	}
	return slot, nil
}

// patientFree refuses a second active appointment of the patient overlapping slot.
func (s *Appointments) patientFree(ctx context.Context, tx *gorm.DB, patientID string, slot Slot, exceptID string) error {
	var n int64
	q := tx.WithContext(ctx).Model(&Appointment{}).
		Where("patient_id = ? AND status IN ? AND starts_at < ? AND ends_at > ?", patientID, activeStatuses, slot.EndsAt, slot.StartsAt)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return Errorf(ECONFLICT, "you already have an appointment at that time")
	}
	return nil
}

func slotErr(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Errorf(ESLOTTAKEN, "someone else has just booked this slot")
	}
	return err
}

// conflict is the answer to an action the current status does not allow.
func conflict(a Appointment, action Action) error {
	return Errorf(ECONFLICT, "cannot %s an appointment that is %s", strings.ReplaceAll(string(action), "_", "-"), a.Status).
		WithDetails(map[string]any{"status": a.Status})
}

// authorize checks that actor may take action on a (already known to be visible).
func (s *Appointments) authorize(actor Actor, a Appointment, action Action) error {
	t := transitions[action]
	if actor.IsAdmin() {
		return nil
	}
	if !slices.Contains(t.roles, actor.Role) {
		return Errorf(EFORBIDDEN, "a %s cannot %s an appointment", actor.Role, action)
	}
	if !slices.Contains(t.from, a.Status) {
		return conflict(a, action)
	}
	now := s.p.Opts.Clock.Now()
	switch {
	case actor.Role == RolePatient && (action == ActionCancel || action == ActionReschedule):
		if now.After(a.StartsAt.Add(-s.p.Opts.CancelCutoff)) {
			return Errorf(ECONFLICT, "appointments can be changed only until %s before they start", s.p.Opts.CancelCutoff).
				WithDetails(map[string]any{"status": a.Status, "cutoff": s.p.Opts.CancelCutoff.String()})
		}
	case action == ActionStart:
		if now.Before(a.StartsAt.Add(-s.p.Opts.StartEarly)) {
			return Errorf(ECONFLICT, "the consultation can start at most %s before its time", s.p.Opts.StartEarly).
				WithDetails(map[string]any{"status": a.Status})
		}
	case action == ActionNoShow:
		if now.Before(a.StartsAt) {
			return Errorf(ECONFLICT, "a patient can be marked absent only after the start time").WithDetails(map[string]any{"status": a.Status})
		}
	}
	return nil
}

// visible loads the appointment for an actor: participants and admins only.
func (s *Appointments) visible(ctx context.Context, tx *gorm.DB, actor Actor, id string) (Appointment, error) {
	a, err := s.load(ctx, tx, id)
	if err != nil {
		return Appointment{}, err
	}
	if !actor.IsAdmin() && !a.IsParticipant(actor.UserID) && actor.UserID != SystemActor.UserID {
		return Appointment{}, errNotFound
	}
	return a, nil
}

// Start moves a booked appointment to in_progress (its doctor, from StartEarly before the start).
func (s *Appointments) Start(ctx context.Context, actor Actor, id string) (Appointment, error) {
	return s.transition(ctx, actor, id, ActionStart, nil)
}

// Complete ends a consultation in progress.
func (s *Appointments) Complete(ctx context.Context, actor Actor, id string) (Appointment, error) {
	return s.transition(ctx, actor, id, ActionComplete, nil)
}

// NoShow marks a booked appointment whose patient did not come.
func (s *Appointments) NoShow(ctx context.Context, actor Actor, id string) (Appointment, error) {
	return s.transition(ctx, actor, id, ActionNoShow, nil)
}

// Cancel cancels a booked appointment; patients only until the cutoff.
func (s *Appointments) Cancel(ctx context.Context, actor Actor, id string, in CancelInput) (Appointment, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if err := Validate(in); err != nil {
		return Appointment{}, err
	}
	return s.transition(ctx, actor, id, ActionCancel, map[string]any{"cancel_reason": in.Reason, "cancelled_by": actor.UserID})
}

// transition applies action with a conditional update, so that two
// concurrent changes cannot both win.
func (s *Appointments) transition(ctx context.Context, actor Actor, id string, action Action, extra map[string]any) (Appointment, error) {
	t := transitions[action]
	now := s.p.Opts.Clock.Now()
	err := s.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.authorize(actor, a, action); err != nil {
			return err
		}
		if !slices.Contains(t.from, a.Status) {
			return conflict(a, action)
		}
		upd := map[string]any{"status": t.to, "updated_at": now}
		switch t.to {
		case StatusInProgress:
			upd["started_at"] = now
		case StatusCompleted:
			upd["completed_at"] = now
		}
		for k, v := range extra {
			upd[k] = v
		}
		res := tx.Model(&Appointment{}).Where("id = ? AND status = ?", id, a.Status).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			fresh, err := s.load(ctx, tx, id)
			if err != nil {
				return err
			}
			return conflict(fresh, action)
		}
		return s.p.Audit.RecordTx(ctx, tx, actor, "appointment."+string(action), "appointment", id, map[string]any{"from": a.Status, "to": t.to})
	})
	if err != nil {
		return Appointment{}, err
	}
	return s.publish(ctx, actor, t.event, id, time.Time{})
}

// Reschedule moves a booked appointment to another free slot in one
// transaction: the new slot is taken and the old one released together, or
// nothing changes.
func (s *Appointments) Reschedule(ctx context.Context, actor Actor, id string, in RescheduleInput) (Appointment, error) {
	if err := Validate(in); err != nil {
		return Appointment{}, err
	}
	start, err := ParseTime("starts_at", in.StartsAt)
	if err != nil {
		return Appointment{}, err
	}
	var previous time.Time
	err = s.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.authorize(actor, a, ActionReschedule); err != nil {
			return err
		}
		if !Allowed(ActionReschedule, a.Status) {
			return conflict(a, ActionReschedule)
		}
		if a.StartsAt.Equal(start) {
			return InvalidFields(map[string]any{"starts_at": "is the current time of this appointment"})
		}
		slot, err := s.slotAt(ctx, tx, a.DoctorID, start, a.ID)
		if err != nil {
			return err
		}
		if err := s.patientFree(ctx, tx, a.PatientID, slot, a.ID); err != nil {
			return err
		}
		previous = a.StartsAt
		res := tx.Model(&Appointment{}).Where("id = ? AND status = ?", id, StatusBooked).
			Updates(map[string]any{"starts_at": slot.StartsAt, "ends_at": slot.EndsAt, "updated_at": s.p.Opts.Clock.Now()})
		if res.Error != nil {
			return slotErr(res.Error)
		}
		if res.RowsAffected == 0 {
			fresh, err := s.load(ctx, tx, id)
			if err != nil {
				return err
			}
			return conflict(fresh, ActionReschedule)
		}
		return s.p.Audit.RecordTx(ctx, tx, actor, "appointment.reschedule", "appointment", id, map[string]any{"from": previous, "to": slot.StartsAt})
	})
	if err != nil {
		return Appointment{}, err
	}
	return s.publish(ctx, actor, EventAppointmentRescheduled, id, previous)
}

// SetDiagnosis stores the doctor's diagnosis (again: it updates) on an
// appointment in progress or completed.
func (s *Appointments) SetDiagnosis(ctx context.Context, actor Actor, id string, in DiagnosisInput) (Appointment, error) {
	in.Summary = strings.TrimSpace(in.Summary)
	if err := Validate(in); err != nil {
		return Appointment{}, err
	}
	now := s.p.Opts.Clock.Now()
	err := s.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := s.visible(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.authorize(actor, a, ActionDiagnose); err != nil {
			return err
		}
		if !Allowed(ActionDiagnose, a.Status) {
			return conflict(a, ActionDiagnose)
		}
		upd := map[string]any{"diagnosis_summary": in.Summary, "diagnosis_prescription": in.Prescription, "diagnosis_updated_at": now, "updated_at": now}
		if a.DiagnosedAt == nil {
			upd["diagnosed_at"] = now
		}
		if err := tx.Model(&Appointment{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		return s.p.Audit.RecordTx(ctx, tx, actor, "appointment.diagnosis", "appointment", id, nil)
	})
	if err != nil {
		return Appointment{}, err
	}
	return s.publish(ctx, actor, EventDiagnosisReady, id, time.Time{})
}

// publish reloads the appointment after commit and announces the event.
func (s *Appointments) publish(ctx context.Context, actor Actor, kind EventKind, id string, previous time.Time) (Appointment, error) {
	a, err := s.load(ctx, s.p.DB, id)
	if err != nil {
		return Appointment{}, err
	}
	s.p.Events.Publish(ctx, Event{Kind: kind, Actor: actor, Appointment: &a, PreviousStartsAt: previous, At: s.p.Opts.Clock.Now()})
	return a, nil
}

// List returns appointments ordered by start: patients and doctors see
// their own, admins everything (audited).
func (s *Appointments) List(ctx context.Context, actor Actor, f AppointmentFilter) (Page[Appointment], error) {
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return Page[Appointment]{}, err
	}
	cur, err := DecodeCursor(f.Cursor)
	if err != nil {
		return Page[Appointment]{}, err
	}
	q := s.p.DB.WithContext(ctx).Model(&Appointment{}).Preload("Doctor.Doctor").Preload("Patient")
	switch actor.Role {
	case RolePatient:
		q = q.Where("patient_id = ?", actor.UserID)
	case RoleDoctor:
		q = q.Where("doctor_id = ?", actor.UserID)
	case RoleAdmin:
		if f.DoctorID != "" {
			q = q.Where("doctor_id = ?", f.DoctorID)
		}
		if f.PatientID != "" {
			q = q.Where("patient_id = ?", f.PatientID)
		}
	default:
		return Page[Appointment]{}, Errorf(EFORBIDDEN, "unknown role")
	}
	if f.Status != "" {
		valid := []AppointmentStatus{StatusBooked, StatusInProgress, StatusCompleted, StatusCancelled, StatusNoShow}
		if !slices.Contains(valid, f.Status) {
			return Page[Appointment]{}, InvalidFields(map[string]any{"status": "must be one of booked, in_progress, completed, cancelled, no_show"})
		}
		q = q.Where("status = ?", f.Status)
	}
	if f.From != "" {
		from, err := ParseTime("from", f.From)
		if err != nil {
			return Page[Appointment]{}, err
		}
		q = q.Where("ends_at > ?", from)
	}
	if f.To != "" {
		to, err := ParseTime("to", f.To)
		if err != nil {
			return Page[Appointment]{}, err
		}
		q = q.Where("starts_at < ?", to)
	}
	if cur != nil {
		q = q.Where("(starts_at > ? OR (starts_at = ? AND id > ?))", cur.At, cur.At, cur.ID)
	}
	var rows []Appointment
	if err := q.Order("starts_at, id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return Page[Appointment]{}, err
	}
	if actor.IsAdmin() {
		s.p.Audit.Record(ctx, s.p.DB, actor, "appointment.list", "appointment", "*",
			map[string]any{"doctor_id": f.DoctorID, "patient_id": f.PatientID, "status": f.Status})
	}
	return pageOf(rows, limit, func(a Appointment) (time.Time, string) { return a.StartsAt, a.ID }), nil
}

// SweepNoShows marks booked appointments whose end passed more than
// NoShowAfter ago as no_show. Each row changes by a conditional update, so
// several nodes may sweep at once.
func (s *Appointments) SweepNoShows(ctx context.Context) (int, error) {
	cutoff := s.p.Opts.Clock.Now().Add(-s.p.Opts.NoShowAfter)
	var ids []string
	if err := s.p.DB.WithContext(ctx).Model(&Appointment{}).Where("status = ? AND ends_at < ?", StatusBooked, cutoff).
		Limit(500).Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		_, err := s.transition(ctx, SystemActor, id, ActionNoShow, nil)
		if ErrorCode(err) == ECONFLICT {
			continue // someone else changed it first
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
