package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Appointments books slots and moves appointments through their life.
type Appointments struct {
	db     *gorm.DB
	clock  models.Clock
	policy models.Policy
	audit  *Audit
	outbox *Outbox
	// payments charges for paid bookings (nil: none, see NewPayments).
	payments *Payments
}

// NewAppointments builds the appointment service.
func NewAppointments(db *gorm.DB, clock models.Clock, policy models.Policy, audit *Audit, outbox *Outbox) *Appointments {
	return &Appointments{db: db, clock: clock, policy: policy, audit: audit, outbox: outbox}
}

// Get returns the appointment to its patient, its doctor or an admin
// (audited); everyone else gets ENOTFOUND.
func (s *Appointments) Get(ctx context.Context, actor models.Actor, id string) (models.Appointment, error) {
	a, err := loadAppointment(ctx, s.db, id)
	if err != nil {
		return models.Appointment{}, err
	}
	if err := s.policy.CanViewAppointment(actor, a); err != nil {
		return models.Appointment{}, err
	}
	if actor.IsAdmin() {
		s.audit.recordAfter(ctx, actor, "appointment.read", "appointment", id, nil)
	}
	return seenBy(actor, a), nil
}

// seenBy is the appointment as actor may see it (its payment's secret is
// the patient's alone).
func seenBy(actor models.Actor, a models.Appointment) models.Appointment {
	if a.Payment != nil {
		p := a.Payment.SeenBy(actor)
		a.Payment = &p
	}
	return a
}

// Book takes a free slot for the actor (a patient). The unique index on
// active (doctor, start) decides races: the loser gets ESLOTTAKEN. When
// the doctor has a fee and payments are on, the slot is held
// (pending_payment) and the payment started at the provider after the
// commit; the provider's success books it.
func (s *Appointments) Book(ctx context.Context, actor models.Actor, in models.BookInput) (models.Appointment, error) {
	if actor.Role != models.RolePatient {
		return models.Appointment{}, models.Errorf(models.EFORBIDDEN, "only patients book appointments")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := models.Validate(in); err != nil {
		return models.Appointment{}, err
	}
	start, err := models.ParseTime("starts_at", in.StartsAt)
	if err != nil {
		return models.Appointment{}, err
	}
	now := s.clock.Now()
	id := uuid.NewString()
	var booked models.Appointment
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockPatient(ctx, tx, actor.UserID); err != nil {
			return err
		}
		slot, doctor, err := s.slotAt(ctx, tx, in.DoctorID, start, "")
		if err != nil {
			return err
		}
		if err := patientFree(ctx, tx, actor.UserID, slot, ""); err != nil {
			return err
		}
		if err := s.checkActive(ctx, tx, actor.UserID); err != nil {
			return err
		}
		fee, paid := s.payments.charges(doctor)
		status := models.StatusBooked
		if paid {
			status = models.StatusPendingPayment
		}
		row := appointmentFromModel(models.Appointment{ID: id, DoctorID: in.DoctorID, PatientID: actor.UserID, StartsAt: slot.StartsAt,
			EndsAt: slot.EndsAt, Status: status, Reason: in.Reason, CreatedAt: now, UpdatedAt: now})
		if err := tx.Omit("Doctor", "Patient", "Payment").Create(&row).Error; err != nil {
			return slotErr(err)
		}
		if paid {
			// Held, not booked: nobody is told until the payment arrives.
			if err := s.payments.hold(ctx, tx, actor, row.toModel(), fee, now); err != nil {
				return err
			}
			if err := s.audit.record(ctx, tx, actor, "appointment.hold", "appointment", id, map[string]any{"status": status, "starts_at": start}); err != nil {
				return err
			}
			booked, err = loadAppointment(ctx, tx, id)
			return err
		}
		booked, err = s.record(ctx, tx, actor, id, "appointment.book", map[string]any{"status": models.StatusBooked, "starts_at": start}, now,
			func(e models.AppointmentEvent) models.Event { return models.AppointmentBooked{AppointmentEvent: e} })
		return err
	})
	if err == nil && booked.Status == models.StatusPendingPayment {
		booked, err = s.payments.start(ctx, actor, booked)
	}
	a, err := s.committed(booked, err)
	return seenBy(actor, a), err
}

// record ends a change inside its transaction: the audit entry, the
// appointment as it now is, and the event the change raises.
func (s *Appointments) record(ctx context.Context, tx *gorm.DB, actor models.Actor, id, auditAction string, details map[string]any,
	now time.Time, raise func(models.AppointmentEvent) models.Event) (models.Appointment, error) {
	if err := s.audit.record(ctx, tx, actor, auditAction, "appointment", id, details); err != nil {
		return models.Appointment{}, err
	}
	after, err := loadAppointment(ctx, tx, id)
	if err != nil {
		return models.Appointment{}, err
	}
	return after, s.outbox.add(tx, raise(models.AppointmentEvent{Appointment: after, ActorID: actor.UserID, ActorRole: actor.Role, At: now}))
}

// committed wakes the dispatcher after a change committed.
func (s *Appointments) committed(a models.Appointment, err error) (models.Appointment, error) {
	if err != nil {
		return models.Appointment{}, err
	}
	s.outbox.Kick()
	return a, nil
}

// updateIf applies upd to the appointment if it is still in status from;
// otherwise the change lost a race and the answer is a conflict.
func updateIf(ctx context.Context, tx *gorm.DB, id string, from models.AppointmentStatus, action models.Action, upd map[string]any) error {
	res := tx.WithContext(ctx).Model(&appointmentRow{}).Where("id = ? AND status = ?", id, string(from)).Updates(upd)
	if res.Error != nil {
		return slotErr(res.Error)
	}
	if res.RowsAffected == 0 {
		fresh, err := loadBare(ctx, tx, id)
		if err != nil {
			return err
		}
		return models.StatusConflict(fresh, action)
	}
	return nil
}

// slotAt checks that start is a free slot of the doctor's grid and returns it.
func (s *Appointments) slotAt(ctx context.Context, tx *gorm.DB, doctorID string, start time.Time, exceptID string) (models.Slot, models.User, error) {
	// Every read goes through tx: on SQLite a second pooled connection
	// would wait behind this transaction's own write lock.
	doctor, err := enabledDoctor(ctx, tx, doctorID)
	if err != nil {
		return models.Slot{}, doctor, err
	}
	if err := s.policy.CheckBookable(start, s.clock.Now()); err != nil {
		return models.Slot{}, doctor, err
	}
	sched, err := getSchedule(ctx, tx, doctorID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return models.Slot{}, doctor, models.InvalidFields(map[string]any{"starts_at": "is not one of the doctor's free slots"})
	}
	if err != nil {
		return models.Slot{}, doctor, err
	}
	onGrid := sched.Grid(start, start.Add(time.Second))
	if len(onGrid) == 0 || !onGrid[0].StartsAt.Equal(start) {
		return models.Slot{}, doctor, models.InvalidFields(map[string]any{"starts_at": "is not one of the doctor's free slots"})
	}
	slot := onGrid[0]
	offs, busy, err := blockers(ctx, tx, doctorID, slot.StartsAt, slot.EndsAt, exceptID)
	if err != nil {
		return models.Slot{}, doctor, err
	}
	if models.OverlapsAny(slot, offs, models.TimeOffSpan) {
		return models.Slot{}, doctor, models.InvalidFields(map[string]any{"starts_at": "falls in the doctor's time off"})
	}
	if models.OverlapsAny(slot, busy, models.AppointmentSpan) {
		return models.Slot{}, doctor, models.Errorf(models.ESLOTTAKEN, "this slot is no longer free")
	}
	return slot, doctor, nil
}

// lockPatient serialises the bookings and reschedules of one patient: on
// Postgres their user row is locked for the transaction, so the overlap
// check and the active-appointment cap see each other's result (SQLite
// serialises writers by itself).
func lockPatient(ctx context.Context, tx *gorm.DB, patientID string) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	var id string
	return tx.WithContext(ctx).Raw("SELECT id FROM users WHERE id = ? FOR UPDATE", patientID).Scan(&id).Error
}

// checkActive applies the cap on a patient's active appointments (under
// lockPatient).
func (s *Appointments) checkActive(ctx context.Context, tx *gorm.DB, patientID string) error {
	if s.policy.MaxActiveAppointments <= 0 {
		return nil
	}
	var n int64
	if err := tx.WithContext(ctx).Model(&appointmentRow{}).Where("patient_id = ? AND status IN ?", patientID, models.ActiveStatuses).Count(&n).Error; err != nil {
		return err
	}
	return s.policy.CheckActiveCount(n)
}

// patientFree refuses a second active appointment of the patient overlapping slot.
func patientFree(ctx context.Context, tx *gorm.DB, patientID string, slot models.Slot, exceptID string) error {
	var n int64
	q := tx.WithContext(ctx).Model(&appointmentRow{}).
		Where("patient_id = ? AND status IN ? AND starts_at < ? AND ends_at > ?", patientID, models.ActiveStatuses, slot.EndsAt, slot.StartsAt)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.ECONFLICT, "you already have an appointment at that time")
	}
	return nil
}

func slotErr(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.Errorf(models.ESLOTTAKEN, "someone else has just booked this slot")
	}
	return err
}

// Start moves a booked appointment to in_progress.
func (s *Appointments) Start(ctx context.Context, actor models.Actor, id string) (models.Appointment, error) {
	return s.transition(ctx, actor, id, models.ActionStart, nil, func(e models.AppointmentEvent) models.Event {
		return models.ConsultationStarted{AppointmentEvent: e}
	})
}

// Complete ends a consultation in progress.
func (s *Appointments) Complete(ctx context.Context, actor models.Actor, id string) (models.Appointment, error) {
	return s.transition(ctx, actor, id, models.ActionComplete, nil, func(e models.AppointmentEvent) models.Event {
		return models.ConsultationCompleted{AppointmentEvent: e}
	})
}

// NoShow marks a booked appointment whose patient did not come.
func (s *Appointments) NoShow(ctx context.Context, actor models.Actor, id string) (models.Appointment, error) {
	return s.transition(ctx, actor, id, models.ActionNoShow, nil, func(e models.AppointmentEvent) models.Event {
		return models.AppointmentNoShow{AppointmentEvent: e}
	})
}

// Cancel cancels a booked appointment; patients only until the cutoff.
func (s *Appointments) Cancel(ctx context.Context, actor models.Actor, id string, in models.CancelInput) (models.Appointment, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if err := models.Validate(in); err != nil {
		return models.Appointment{}, err
	}
	return s.transition(ctx, actor, id, models.ActionCancel, map[string]any{"cancel_reason": in.Reason, "cancelled_by": actor.UserID},
		func(e models.AppointmentEvent) models.Event {
			return models.AppointmentCancelled{AppointmentEvent: e, Reason: in.Reason}
		})
}

// settleTimeout bounds how long a cancellation waits for the provider
// before leaving the refund to the sweeper.
const settleTimeout = 5 * time.Second

// unpaidCancel marks the cancellation of a hold: nobody but the patient
// knew of it, so nobody else is told.
func unpaidCancel(ev models.Event, before models.Appointment) models.Event {
	if c, ok := ev.(models.AppointmentCancelled); ok && before.Status == models.StatusPendingPayment {
		c.Unpaid = true
		return c
	}
	return ev
}

// transition applies a lifecycle action with a conditional update, so that
// two concurrent changes cannot both win, and raises its event.
func (s *Appointments) transition(ctx context.Context, actor models.Actor, id string, action models.Action, extra map[string]any,
	raise func(models.AppointmentEvent) models.Event) (models.Appointment, error) {
	now := s.clock.Now()
	var after models.Appointment
	var settle func(context.Context)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := loadBare(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.policy.Check(actor, a, action, now); err != nil {
			return err
		}
		to := models.NextStatus(a, action)
		upd := map[string]any{"status": string(to), "updated_at": now}
		switch to {
		case models.StatusInProgress:
			upd["started_at"] = now
		case models.StatusCompleted:
			upd["completed_at"] = now
		}
		for k, v := range extra {
			upd[k] = v
		}
		if err := updateIf(ctx, tx, id, a.Status, action, upd); err != nil {
			return err
		}
		if ev, ok := models.SystemEventFor(action); ok {
			m := recordRow(id, actor.UserID, now, nil, &models.SystemRecord{Event: ev})
			if err := recordMessage(ctx, tx, s.outbox, &m); err != nil {
				return err
			}
		}
		if to == models.StatusCancelled && s.payments != nil {
			if settle, err = s.payments.cancelled(ctx, tx, actor, a, now); err != nil {
				return err
			}
		}
		after, err = s.record(ctx, tx, actor, id, "appointment."+string(action), map[string]any{"from": a.Status, "to": to}, now,
			func(e models.AppointmentEvent) models.Event { return unpaidCancel(raise(e), a) })
		return err
	})
	after, err = s.committed(after, err)
	if err == nil && settle != nil {
		// The refund (or the voided payment) is asked for now, briefly;
		// the sweeper retries what the provider does not answer.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		settle(sctx)
		cancel()
		if fresh, ferr := loadAppointment(ctx, s.db, id); ferr == nil {
			after = fresh
		}
	}
	return seenBy(actor, after), err
}

// Reschedule moves a booked appointment to another free slot in one
// transaction: the new slot is taken and the old one released together, or
// nothing changes. The new time gets its own reminders.
func (s *Appointments) Reschedule(ctx context.Context, actor models.Actor, id string, in models.RescheduleInput) (models.Appointment, error) {
	if err := models.Validate(in); err != nil {
		return models.Appointment{}, err
	}
	start, err := models.ParseTime("starts_at", in.StartsAt)
	if err != nil {
		return models.Appointment{}, err
	}
	now := s.clock.Now()
	var after models.Appointment
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := loadBare(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.policy.Check(actor, a, models.ActionReschedule, now); err != nil {
			return err
		}
		if a.StartsAt.Equal(start) {
			return models.InvalidFields(map[string]any{"starts_at": "is the current time of this appointment"})
		}
		if err := lockPatient(ctx, tx, a.PatientID); err != nil {
			return err
		}
		slot, _, err := s.slotAt(ctx, tx, a.DoctorID, start, a.ID)
		if err != nil {
			return err
		}
		if err := patientFree(ctx, tx, a.PatientID, slot, a.ID); err != nil {
			return err
		}
		upd := map[string]any{"starts_at": slot.StartsAt, "ends_at": slot.EndsAt, "updated_at": now}
		if err := updateIf(ctx, tx, id, a.Status, models.ActionReschedule, upd); err != nil {
			return err
		}
		if err := tx.Where("appointment_id = ?", id).Delete(&reminderClaimRow{}).Error; err != nil {
			return err
		}
		after, err = s.record(ctx, tx, actor, id, "appointment.reschedule", map[string]any{"from": a.StartsAt, "to": slot.StartsAt}, now,
			func(e models.AppointmentEvent) models.Event {
				return models.AppointmentRescheduled{AppointmentEvent: e, PreviousStartsAt: a.StartsAt}
			})
		return err
	})
	return s.committed(after, err)
}

// SetDiagnosis stores the doctor's diagnosis (again: it updates) on an
// appointment in progress or completed.
func (s *Appointments) SetDiagnosis(ctx context.Context, actor models.Actor, id string, in models.DiagnosisInput) (models.Appointment, error) {
	in.Summary = strings.TrimSpace(in.Summary)
	if err := models.Validate(in); err != nil {
		return models.Appointment{}, err
	}
	now := s.clock.Now()
	var after models.Appointment
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := loadBare(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.policy.CanDiagnose(actor, a, now); err != nil {
			return err
		}
		upd := map[string]any{"diagnosis_summary": in.Summary, "diagnosis_prescription": in.Prescription, "diagnosis_updated_at": now, "updated_at": now}
		if a.DiagnosedAt == nil {
			upd["diagnosed_at"] = now
		}
		if err := updateIf(ctx, tx, id, a.Status, models.ActionDiagnose, upd); err != nil {
			return err
		}
		after, err = s.record(ctx, tx, actor, id, "appointment.diagnosis", nil, now,
			func(e models.AppointmentEvent) models.Event { return models.DiagnosisReady{AppointmentEvent: e} })
		return err
	})
	return s.committed(after, err)
}

// List returns appointments ordered by start: patients and doctors see
// their own, admins everything (audited).
func (s *Appointments) List(ctx context.Context, actor models.Actor, f models.AppointmentFilter) (models.Page[models.Appointment], error) {
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.Appointment]{}, err
	}
	cur, err := models.DecodeCursor(f.Cursor)
	if err != nil {
		return models.Page[models.Appointment]{}, err
	}
	q := s.db.WithContext(ctx).Model(&appointmentRow{}).Preload("Doctor.Doctor").Preload("Patient").Preload("Payment")
	switch actor.Role {
	case models.RolePatient:
		q = q.Where("patient_id = ?", actor.UserID)
	case models.RoleDoctor:
		// A doctor may narrow their own list to one patient (their
		// earlier consultations with them).
		q = q.Where("doctor_id = ?", actor.UserID)
		if f.PatientID != "" {
			q = q.Where("patient_id = ?", f.PatientID)
		}
	case models.RoleAdmin:
		if f.DoctorID != "" {
			q = q.Where("doctor_id = ?", f.DoctorID)
		}
		if f.PatientID != "" {
			q = q.Where("patient_id = ?", f.PatientID)
		}
	default:
		return models.Page[models.Appointment]{}, models.Errorf(models.EFORBIDDEN, "unknown role")
	}
	if f.Status != "" {
		if !slices.Contains(models.Statuses, f.Status) {
			return models.Page[models.Appointment]{}, models.InvalidFields(map[string]any{"status": "must be one of booked, in_progress, completed, cancelled, no_show"})
		}
		q = q.Where("status = ?", string(f.Status))
	}
	if f.From != "" {
		from, err := models.ParseTime("from", f.From)
		if err != nil {
			return models.Page[models.Appointment]{}, err
		}
		q = q.Where("ends_at > ?", from)
	}
	if f.To != "" {
		to, err := models.ParseTime("to", f.To)
		if err != nil {
			return models.Page[models.Appointment]{}, err
		}
		q = q.Where("starts_at < ?", to)
	}
	if cur != nil {
		q = q.Where("(starts_at > ? OR (starts_at = ? AND id > ?))", cur.At, cur.At, cur.ID)
	}
	var rows []appointmentRow
	if err := q.Order("starts_at, id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Page[models.Appointment]{}, err
	}
	if actor.IsAdmin() {
		s.audit.recordAfter(ctx, actor, "appointment.list", "appointment", "*",
			map[string]any{"doctor_id": f.DoctorID, "patient_id": f.PatientID, "status": f.Status})
	}
	items := make([]models.Appointment, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		items[i] = seenBy(actor, r.toModel())
		ids[i] = r.ID
	}
	if !actor.IsAdmin() {
		unread, err := unreadFor(ctx, s.db, actor.UserID, ids)
		if err != nil {
			return models.Page[models.Appointment]{}, err
		}
		for i := range items {
			u := unread[items[i].ID]
			items[i].Unread = &u
		}
	}
	return models.PageOf(items, limit, func(a models.Appointment) (time.Time, string) { return a.StartsAt, a.ID }), nil
}

// SweepNoShows marks booked appointments whose end passed more than
// NoShowAfter ago as no_show. Each row changes by a conditional update, so
// several nodes may sweep at once.
func (s *Appointments) SweepNoShows(ctx context.Context) (int, error) {
	cutoff := s.clock.Now().Add(-s.policy.NoShowAfter)
	var ids []string
	if err := s.db.WithContext(ctx).Model(&appointmentRow{}).Where("status = ? AND ends_at < ?", models.StatusBooked, cutoff).
		Limit(500).Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		_, err := s.NoShow(ctx, models.SystemActor, id)
		if models.ErrorCode(err) == models.ECONFLICT {
			continue // someone else changed it first
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
