package store

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Payments keeps the payments of paid bookings: it takes the payment when
// a patient books a doctor with a fee, applies the provider's events, and
// releases holds and asks for refunds in the background. Every change is
// a conditional update, so nodes racing on one payment change it once, and
// every change is audited and raises its event in its transaction.
type Payments struct {
	appts    *Appointments
	db       *gorm.DB
	provider models.PaymentProvider
	// Hold is how long a paid booking keeps its slot unpaid.
	Hold time.Duration
	log  *slog.Logger
}

var _ models.PaymentService = (*Payments)(nil)

// NewPayments builds the payment service on the appointments it charges
// for. With a nil provider bookings are confirmed at once and paid at the
// clinic.
func NewPayments(appts *Appointments, provider models.PaymentProvider, hold time.Duration, log *slog.Logger) *Payments {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if hold <= 0 {
		hold = 15 * time.Minute
	}
	p := &Payments{appts: appts, db: appts.db, provider: provider, Hold: hold, log: log}
	appts.payments = p
	return p
}

// Provider names the provider payments go to ("" when bookings are paid
// at the clinic).
func (s *Payments) Provider() string {
	if s == nil || s.provider == nil {
		return ""
	}
	return s.provider.Name()
}

// charges reports whether booking the doctor is paid online, and what.
func (s *Payments) charges(doctor models.User) (models.Fee, bool) {
	if s == nil || s.provider == nil || doctor.Doctor == nil || doctor.Doctor.Fee.Amount <= 0 {
		return models.Fee{}, false
	}
	return doctor.Doctor.Fee, true
}

type paymentRow struct {
	ID             string `gorm:"primaryKey"`
	AppointmentID  string
	PatientID      string
	DoctorID       string
	Provider       string
	ProviderRef    string
	Status         string
	Amount         int64
	Currency       string
	ClientSecret   string
	RefundedAmount int64
	RefundRef      string
	FailureReason  string
	ExpiresAt      time.Time
	PaidAt         *time.Time
	RefundedAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time

	Appointment *appointmentRow `gorm:"foreignKey:AppointmentID"`
	Doctor      *userRow        `gorm:"foreignKey:DoctorID"`
	Patient     *userRow        `gorm:"foreignKey:PatientID"`
}

func (paymentRow) TableName() string { return "payments" }

func (r *paymentRow) toModel() *models.Payment {
	if r == nil || r.ID == "" {
		return nil
	}
	p := &models.Payment{ID: r.ID, AppointmentID: r.AppointmentID, PatientID: r.PatientID, DoctorID: r.DoctorID, Provider: r.Provider,
		ProviderRef: r.ProviderRef, Status: models.PaymentStatus(r.Status), Amount: r.Amount, Currency: r.Currency, ClientSecret: r.ClientSecret,
		RefundedAmount: r.RefundedAmount, RefundRef: r.RefundRef, FailureReason: r.FailureReason, ExpiresAt: r.ExpiresAt.UTC(),
		PaidAt: utcPtr(r.PaidAt), RefundedAt: utcPtr(r.RefundedAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Doctor: r.Doctor.party(), Patient: r.Patient.party()}
	if r.Appointment != nil {
		p.StartsAt = r.Appointment.StartsAt.UTC()
	}
	return p
}

type paymentEventRow struct {
	ID         string `gorm:"primaryKey"`
	Provider   string
	Type       string
	ReceivedAt time.Time
}

func (paymentEventRow) TableName() string { return "payment_events" }

// hold stores the payment of a paid booking in the booking's transaction:
// the slot is held until the hold runs out.
func (s *Payments) hold(ctx context.Context, tx *gorm.DB, actor models.Actor, a models.Appointment, fee models.Fee, now time.Time) error {
	row := paymentRow{ID: uuid.NewString(), AppointmentID: a.ID, PatientID: a.PatientID, DoctorID: a.DoctorID, Provider: s.provider.Name(),
		Status: string(models.PayRequired), Amount: fee.Amount, Currency: fee.Currency, ExpiresAt: now.Add(s.Hold), CreatedAt: now, UpdatedAt: now}
	if err := tx.WithContext(ctx).Omit("Appointment", "Doctor", "Patient").Create(&row).Error; err != nil {
		return err
	}
	return s.appts.audit.record(ctx, tx, actor, "payment.create", "payment", row.ID,
		map[string]any{"appointment_id": a.ID, "amount": fee.Amount, "currency": fee.Currency, "expires_at": row.ExpiresAt})
}

// start asks the provider for the payment of a hold just committed. When
// the provider cannot take it the hold is undone, so nothing was booked.
func (s *Payments) start(ctx context.Context, actor models.Actor, a models.Appointment) (models.Appointment, error) {
	p := a.Payment
	if p == nil {
		return a, errors.New("payments: a hold without its payment")
	}
	who := ""
	if a.Doctor != nil {
		who = " with " + a.Doctor.Name
	}
	pp, err := s.provider.CreatePayment(ctx, models.PaymentRequest{PaymentID: p.ID, AppointmentID: a.ID, Amount: p.Amount, Currency: p.Currency,
		Description: "Consultation" + who + " on " + a.StartsAt.UTC().Format("2006-01-02 15:04 UTC")})
	if err != nil {
		s.log.WarnContext(ctx, "payment could not be created; the hold is undone", "appointment_id", a.ID, "payment_id", p.ID, "err", err)
		if uerr := s.undo(context.WithoutCancel(ctx), actor, a); uerr != nil {
			// The sweeper releases the hold when it runs out.
			s.log.ErrorContext(ctx, "undo hold", "appointment_id", a.ID, "err", uerr)
		}
		return models.Appointment{}, err
	}
	now := s.appts.clock.Now()
	err = s.db.WithContext(ctx).Model(&paymentRow{}).Where("id = ? AND status = ?", p.ID, models.PayRequired).
		Updates(map[string]any{"provider_ref": pp.Ref, "client_secret": pp.ClientSecret, "updated_at": now}).Error
	if err != nil {
		return models.Appointment{}, err
	}
	return loadAppointment(ctx, s.db, a.ID)
}

// undo removes a hold whose payment the provider never took.
func (s *Payments) undo(ctx context.Context, actor models.Actor, a models.Appointment) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND status = ? AND provider_ref = ''", a.Payment.ID, models.PayRequired).Delete(&paymentRow{})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if err := tx.Where("id = ? AND status = ?", a.ID, models.StatusPendingPayment).Delete(&appointmentRow{}).Error; err != nil {
			return err
		}
		return s.appts.audit.record(ctx, tx, actor, "payment.abandon", "payment", a.Payment.ID,
			map[string]any{"appointment_id": a.ID, "reason": "the payment service could not be reached"})
	})
}

// paymentOf reads an appointment's payment (nil for an unpaid booking).
func paymentOf(ctx context.Context, tx *gorm.DB, appointmentID string) (*models.Payment, error) {
	var r paymentRow
	err := tx.WithContext(ctx).Where("appointment_id = ?", appointmentID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.toModel(), nil
}

// moveIf changes a payment still in status from; false when another
// change came first.
func moveIf(ctx context.Context, tx *gorm.DB, id string, from models.PaymentStatus, upd map[string]any) (bool, error) {
	res := tx.WithContext(ctx).Model(&paymentRow{}).Where("id = ? AND status = ?", id, string(from)).Updates(upd)
	return res.RowsAffected == 1, res.Error
}

// cancelled settles the payment of an appointment cancelled in tx: an
// unpaid one is voided, a paid one is owed back when the refund rule says
// so. The returned func runs after the commit (it calls the provider).
func (s *Payments) cancelled(ctx context.Context, tx *gorm.DB, actor models.Actor, before models.Appointment, now time.Time) (func(context.Context), error) {
	p, err := paymentOf(ctx, tx, before.ID)
	if err != nil || p == nil {
		return nil, err
	}
	switch p.Status {
	case models.PayRequired:
		ok, err := moveIf(ctx, tx, p.ID, p.Status, map[string]any{"status": string(models.PayCancelled), "client_secret": "", "updated_at": now})
		if err != nil || !ok {
			return nil, err
		}
		if err := s.appts.audit.record(ctx, tx, actor, "payment.cancel", "payment", p.ID, map[string]any{"appointment_id": p.AppointmentID}); err != nil {
			return nil, err
		}
		return func(ctx context.Context) { s.void(ctx, *p) }, nil
	case models.PaySucceeded:
		rel := models.RelationOf(actor, before)
		if !s.appts.policy.RefundDue(rel, before, models.ActionCancel, now) {
			return nil, s.appts.audit.record(ctx, tx, actor, "payment.keep", "payment", p.ID,
				map[string]any{"appointment_id": p.AppointmentID, "reason": "late cancellation"})
		}
		ok, err := moveIf(ctx, tx, p.ID, p.Status, map[string]any{"status": string(models.PayRefundPending), "updated_at": now})
		if err != nil || !ok {
			return nil, err
		}
		if err := s.appts.audit.record(ctx, tx, actor, "payment.refund_due", "payment", p.ID,
			map[string]any{"appointment_id": p.AppointmentID, "amount": p.Amount, "currency": p.Currency, "cancelled_by": string(rel)}); err != nil {
			return nil, err
		}
		return func(ctx context.Context) { _, _ = s.refund(ctx, p.ID) }, nil
	}
	return nil, nil
}

// void cancels an unpaid payment at the provider (best effort: an intent
// nobody pays does nothing, and a late success is refunded).
func (s *Payments) void(ctx context.Context, p models.Payment) {
	if p.ProviderRef == "" {
		return
	}
	if err := s.provider.CancelPayment(ctx, p.ProviderRef); err != nil {
		s.log.WarnContext(ctx, "cancel payment at the provider", "payment_id", p.ID, "err", err)
	}
}

// refund asks the provider to pay a refund_pending payment back and
// records it. It reports whether this call recorded the refund.
func (s *Payments) refund(ctx context.Context, id string) (bool, error) {
	var r paymentRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return false, err
	}
	p := r.toModel()
	if p.Status != models.PayRefundPending {
		return false, nil
	}
	ref, err := s.provider.Refund(ctx, models.RefundRequest{PaymentID: p.ID, Ref: p.ProviderRef, Amount: p.Amount})
	if err != nil {
		s.log.WarnContext(ctx, "refund not done yet; it is retried", "payment_id", p.ID, "err", err)
		return false, err
	}
	now := s.appts.clock.Now()
	done := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ok, err := moveIf(ctx, tx, p.ID, models.PayRefundPending, map[string]any{"status": string(models.PayRefunded), "refunded_amount": p.Amount,
			"refund_ref": ref, "refunded_at": now, "updated_at": now})
		if err != nil || !ok {
			return err
		}
		done = true
		p.Status, p.RefundedAmount, p.RefundRef, p.RefundedAt = models.PayRefunded, p.Amount, ref, &now
		if err := s.appts.audit.record(ctx, tx, models.SystemActor, "payment.refunded", "payment", p.ID,
			map[string]any{"appointment_id": p.AppointmentID, "amount": p.Amount, "currency": p.Currency, "refund_ref": ref}); err != nil {
			return err
		}
		return s.raise(ctx, tx, p.AppointmentID, now, func(e models.AppointmentEvent) models.Event {
			return models.PaymentRefunded{AppointmentEvent: e, Payment: *p}
		})
	})
	if err == nil && done {
		s.appts.outbox.Kick()
	}
	return done, err
}

// raise adds a payment event about an appointment to the outbox.
func (s *Payments) raise(ctx context.Context, tx *gorm.DB, appointmentID string, now time.Time, ev func(models.AppointmentEvent) models.Event) error {
	a, err := loadAppointment(ctx, tx, appointmentID)
	if err != nil {
		return err
	}
	return s.appts.outbox.add(tx, ev(models.AppointmentEvent{Appointment: a, ActorID: models.SystemActor.UserID, ActorRole: models.SystemActor.Role, At: now}))
}

// HandleWebhook verifies a webhook request and handles its event.
func (s *Payments) HandleWebhook(ctx context.Context, payload []byte, header func(string) string) error {
	if s.provider == nil {
		return models.Errorf(models.ENOTFOUND, "payments are not enabled")
	}
	ev, err := s.provider.ParseEvent(payload, header)
	if err != nil {
		return err
	}
	return s.HandleEvent(ctx, ev)
}

// errSeen rolls back a transaction for an event already handled.
var errSeen = errors.New("payment event already handled")

// HandleEvent applies a verified provider event once. Events may come
// late, twice or out of order: each change applies only from the status
// it expects, and a success that arrives after the hold was released is
// refunded.
func (s *Payments) HandleEvent(ctx context.Context, ev models.ProviderEvent) error {
	if s.provider == nil {
		return models.Errorf(models.ENOTFOUND, "payments are not enabled")
	}
	if ev.Type == models.ProviderIgnored {
		return nil
	}
	now := s.appts.clock.Now()
	var after func(context.Context)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		seen := paymentEventRow{ID: ev.ID, Provider: s.provider.Name(), Type: string(ev.Type), ReceivedAt: now}
		if err := tx.Create(&seen).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return errSeen
			}
			return err
		}
		q := tx.Where("provider = ?", s.provider.Name())
		if ev.PaymentID != "" {
			q = q.Where("id = ?", ev.PaymentID)
		} else {
			q = q.Where("provider_ref = ?", ev.Ref)
		}
		var r paymentRow
		if err := q.Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			s.log.WarnContext(ctx, "payment event for an unknown payment", "event_id", ev.ID, "type", ev.Type)
			return nil
		} else if err != nil {
			return err
		}
		p := r.toModel()
		if ev.Ref != "" && p.ProviderRef != "" && ev.Ref != p.ProviderRef {
			s.log.WarnContext(ctx, "payment event names another provider payment", "event_id", ev.ID, "payment_id", p.ID)
			return nil
		}
		var err error
		switch ev.Type {
		case models.ProviderPaymentSucceeded:
			after, err = s.succeeded(ctx, tx, p, ev, now)
		case models.ProviderPaymentFailed, models.ProviderPaymentCanceled:
			err = s.release(ctx, tx, p, models.PayFailed, ev.Reason, now)
		}
		return err
	})
	if errors.Is(err, errSeen) {
		return nil
	}
	if err != nil {
		return err
	}
	s.appts.outbox.Kick()
	if after != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		after(sctx)
		cancel()
	}
	return nil
}

// succeeded books the held appointment, or owes the money back when the
// hold had already ended.
func (s *Payments) succeeded(ctx context.Context, tx *gorm.DB, p *models.Payment, ev models.ProviderEvent, now time.Time) (func(context.Context), error) {
	details := map[string]any{"appointment_id": p.AppointmentID, "amount": p.Amount, "currency": p.Currency, "event_id": ev.ID}
	switch p.Status {
	case models.PayRequired:
		a, err := loadBare(ctx, tx, p.AppointmentID)
		if err != nil {
			return nil, err
		}
		if err := s.appts.policy.Check(models.SystemActor, a, models.ActionConfirm, now); err != nil {
			return nil, err
		}
		if ok, err := moveIf(ctx, tx, p.ID, p.Status, map[string]any{"status": string(models.PaySucceeded), "paid_at": now,
			"client_secret": "", "updated_at": now}); err != nil || !ok {
			return nil, err
		}
		if err := updateIf(ctx, tx, a.ID, a.Status, models.ActionConfirm, map[string]any{"status": string(models.StatusBooked), "updated_at": now}); err != nil {
			return nil, err
		}
		if err := s.appts.audit.record(ctx, tx, models.SystemActor, "payment.succeeded", "payment", p.ID, details); err != nil {
			return nil, err
		}
		p.Status, p.PaidAt, p.ClientSecret = models.PaySucceeded, &now, ""
		// The booking as today (the doctor is told), and the receipt.
		if _, err := s.appts.record(ctx, tx, models.SystemActor, a.ID, "appointment.confirm", map[string]any{"from": a.Status, "to": models.StatusBooked}, now,
			func(e models.AppointmentEvent) models.Event { return models.AppointmentBooked{AppointmentEvent: e} }); err != nil {
			return nil, err
		}
		return nil, s.raise(ctx, tx, a.ID, now, func(e models.AppointmentEvent) models.Event {
			return models.PaymentSucceeded{AppointmentEvent: e, Payment: *p}
		})
	case models.PayFailed, models.PayExpired, models.PayCancelled:
		// Paid after the slot was let go: the money goes back.
		if ok, err := moveIf(ctx, tx, p.ID, p.Status, map[string]any{"status": string(models.PayRefundPending), "paid_at": now,
			"client_secret": "", "updated_at": now}); err != nil || !ok {
			return nil, err
		}
		details["was"] = p.Status
		if err := s.appts.audit.record(ctx, tx, models.SystemActor, "payment.late_success", "payment", p.ID, details); err != nil {
			return nil, err
		}
		id := p.ID
		return func(ctx context.Context) { _, _ = s.refund(ctx, id) }, nil
	}
	return nil, nil
}

// release ends an unpaid hold: the payment is failed or expired, the slot
// free again, and the patient told.
func (s *Payments) release(ctx context.Context, tx *gorm.DB, p *models.Payment, to models.PaymentStatus, reason string, now time.Time) error {
	if p.Status != models.PayRequired {
		return nil
	}
	if ok, err := moveIf(ctx, tx, p.ID, p.Status, map[string]any{"status": string(to), "failure_reason": reason, "client_secret": "",
		"updated_at": now}); err != nil || !ok {
		return err
	}
	a, err := loadBare(ctx, tx, p.AppointmentID)
	if err != nil {
		return err
	}
	if err := s.appts.policy.Check(models.SystemActor, a, models.ActionRelease, now); err != nil {
		return err
	}
	why := "the payment did not go through"
	if to == models.PayExpired {
		why = "the payment was not completed in time"
	}
	if err := updateIf(ctx, tx, a.ID, a.Status, models.ActionRelease, map[string]any{"status": string(models.StatusCancelled),
		"cancel_reason": why, "updated_at": now}); err != nil {
		return err
	}
	if err := s.appts.audit.record(ctx, tx, models.SystemActor, "payment."+string(to), "payment", p.ID,
		map[string]any{"appointment_id": p.AppointmentID, "reason": reason}); err != nil {
		return err
	}
	p.Status, p.FailureReason, p.ClientSecret = to, reason, ""
	_, err = s.appts.record(ctx, tx, models.SystemActor, a.ID, "appointment.release", map[string]any{"from": a.Status, "to": models.StatusCancelled}, now,
		func(e models.AppointmentEvent) models.Event {
			return models.PaymentReleased{AppointmentEvent: e, Payment: *p}
		})
	return err
}

// Sweep releases the holds that ran out (and voids them at the provider)
// and retries the refunds still owed.
func (s *Payments) Sweep(ctx context.Context) (int, error) {
	if s.provider == nil {
		return 0, nil
	}
	now := s.appts.clock.Now()
	moved := 0
	var due []paymentRow
	if err := s.db.WithContext(ctx).Where("status = ? AND expires_at < ?", models.PayRequired, now).Order("expires_at").Limit(100).Find(&due).Error; err != nil {
		return 0, err
	}
	var firstErr error
	for _, r := range due {
		p := r.toModel()
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return s.release(ctx, tx, p, models.PayExpired, "hold expired", now)
		})
		if err != nil {
			s.log.ErrorContext(ctx, "release an expired hold", "payment_id", p.ID, "err", err)
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if p.Status == models.PayExpired {
			moved++
			s.void(ctx, *p)
		}
	}
	if moved > 0 {
		s.appts.outbox.Kick()
	}
	var owed []string
	if err := s.db.WithContext(ctx).Model(&paymentRow{}).Where("status = ?", models.PayRefundPending).Order("updated_at").Limit(100).Pluck("id", &owed).Error; err != nil {
		return moved, err
	}
	for _, id := range owed {
		done, err := s.refund(ctx, id)
		if models.ErrorCode(err) == models.EUNAVAILABLE {
			break // the provider is down: next sweep
		}
		if done {
			moved++
		}
	}
	return moved, firstErr
}

// Get returns a payment to its patient, its doctor or an admin.
func (s *Payments) Get(ctx context.Context, actor models.Actor, id string) (models.Payment, error) {
	var r paymentRow
	err := s.db.WithContext(ctx).Preload("Appointment").Preload("Doctor.Doctor").Preload("Patient").Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Payment{}, models.Errorf(models.ENOTFOUND, "payment not found")
	}
	if err != nil {
		return models.Payment{}, err
	}
	p := r.toModel()
	if !actor.IsAdmin() && actor.UserID != p.PatientID && actor.UserID != p.DoctorID {
		return models.Payment{}, models.Errorf(models.ENOTFOUND, "payment not found")
	}
	return p.SeenBy(actor), nil
}

// List returns the actor's payments, newest first.
func (s *Payments) List(ctx context.Context, actor models.Actor, f models.PaymentFilter) (models.Page[models.Payment], error) {
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.Payment]{}, err
	}
	cur, err := models.DecodeCursor(f.Cursor)
	if err != nil {
		return models.Page[models.Payment]{}, err
	}
	q := s.db.WithContext(ctx).Model(&paymentRow{}).Preload("Appointment").Preload("Doctor.Doctor").Preload("Patient")
	switch actor.Role {
	case models.RolePatient:
		q = q.Where("patient_id = ?", actor.UserID)
	case models.RoleDoctor:
		q = q.Where("doctor_id = ?", actor.UserID)
	case models.RoleAdmin:
	default:
		return models.Page[models.Payment]{}, models.Errorf(models.EFORBIDDEN, "unknown role")
	}
	if f.Status != "" {
		if !slices.Contains(models.PaymentStatuses, f.Status) {
			return models.Page[models.Payment]{}, models.InvalidFields(map[string]any{"status": "is not a payment status"})
		}
		q = q.Where("status = ?", string(f.Status))
	}
	if cur != nil {
		q = q.Where("(created_at < ?) OR (created_at = ? AND id < ?)", cur.At, cur.At, cur.ID)
	}
	var rows []paymentRow
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Page[models.Payment]{}, err
	}
	items := make([]models.Payment, len(rows))
	for i := range rows {
		items[i] = rows[i].toModel().SeenBy(actor)
	}
	if actor.IsAdmin() {
		s.appts.audit.recordAfter(ctx, actor, "payment.list", "payment", "", nil)
	}
	return models.PageOf(items, limit, func(x models.Payment) (time.Time, string) { return x.CreatedAt, x.ID }), nil
}
