package models

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// NotificationKind names what a notification is about.
type NotificationKind string

// Notification kinds.
const (
	NotifyBooked       NotificationKind = "appointment_booked"
	NotifyCancelled    NotificationKind = "appointment_cancelled"
	NotifyRescheduled  NotificationKind = "appointment_rescheduled"
	NotifyReminder     NotificationKind = "appointment_reminder"
	NotifyStarted      NotificationKind = "consultation_started"
	NotifyDiagnosis    NotificationKind = "diagnosis_ready"
	NotifyAnnouncement NotificationKind = "announcement"
	// A paid booking's receipt, its release when unpaid, and its refund.
	NotifyPaymentReceived NotificationKind = "payment_received"
	NotifyPaymentFailed   NotificationKind = "payment_failed"
	NotifyPaymentRefunded NotificationKind = "payment_refunded"
)

// Notification is a stored message to one user; it is pushed live after it
// is stored, so one missed while offline is still in the list.
type Notification struct {
	ID        string
	UserID    string
	Kind      NotificationKind
	Title     string
	Body      string
	Data      map[string]any
	ReadAt    *time.Time
	CreatedAt time.Time
	// Key is unique per event and recipient: storing a notification twice
	// for one event stores it once.
	Key string
}

// Audiences of an announcement.
const (
	AudienceAll      = "all"
	AudiencePatients = "patients"
	AudienceDoctors  = "doctors"
)

// AnnouncementInput is an admin's message to many users.
type AnnouncementInput struct {
	Title    string `field:"title" validate:"required,utf8,min=1,max=200"`
	Body     string `field:"body" validate:"required,utf8,min=1,max=4000"`
	Audience string `field:"audience" validate:"required,oneof=all patients doctors"`
}

// NotificationFilter selects a user's notifications.
type NotificationFilter struct {
	UnreadOnly bool
	Limit      int
	Cursor     string
}

// NotificationService stores, lists and marks notifications, and turns
// events into them.
type NotificationService interface {
	// List returns the actor's notifications, newest first. Returns EINVALID.
	List(ctx context.Context, actor Actor, f NotificationFilter) (Page[Notification], error)
	// UnreadCount counts the actor's unread notifications.
	UnreadCount(ctx context.Context, actor Actor) (int64, error)
	// MarkRead marks one of the actor's notifications read. Returns ENOTFOUND
	// (also for another user's).
	MarkRead(ctx context.Context, actor Actor, id string) (Notification, error)
	// MarkAllRead marks every unread notification of the actor read.
	MarkAllRead(ctx context.Context, actor Actor) (int64, error)
	// Announce raises AnnouncementPosted for the audience and returns how
	// many users it reaches. Returns EFORBIDDEN or EINVALID.
	Announce(ctx context.Context, actor Actor, in AnnouncementInput) (int, error)
	// Record stores the notifications an event raises, once per event and
	// recipient however often it is called, and returns them.
	Record(ctx context.Context, env Envelope) ([]Notification, error)
	// SendReminders raises ReminderDue for the reminders that are due, each
	// once across nodes, and returns how many.
	SendReminders(ctx context.Context) (int, error)
}

// Mailable reports whether a notification kind also goes out by mail to
// those who opted in: the changes to their appointments, reminders and
// diagnoses (not announcements, which may reach everyone at once).
func Mailable(k NotificationKind) bool {
	if AlwaysMailed(k) {
		return true
	}
	switch k {
	case NotifyBooked, NotifyCancelled, NotifyRescheduled, NotifyReminder, NotifyStarted, NotifyDiagnosis:
		return true
	}
	return false
}

// AlwaysMailed reports whether a notification kind goes by mail whenever
// mail is configured, opted in or not: what happened to someone's money
// (a receipt, a refund, a paid booking that was not made).
func AlwaysMailed(k NotificationKind) bool {
	switch k {
	case NotifyPaymentReceived, NotifyPaymentFailed, NotifyPaymentRefunded:
		return true
	}
	return false
}

// NotificationsFor renders the notifications an appointment event raises,
// in the recipient's time zone. Announcements are rendered per recipient by
// AnnouncementFor.
func NotificationsFor(env Envelope) []Notification {
	var out []Notification
	add := func(to string, kind NotificationKind, title, body string, data map[string]any) {
		out = append(out, Notification{UserID: to, Kind: kind, Title: title, Body: body, Data: data,
			CreatedAt: env.CreatedAt.UTC(), Key: env.ID + ":" + to})
	}
	a, ok := AppointmentOf(env.Event)
	if !ok {
		return nil
	}
	data := func() map[string]any {
		return map[string]any{"appointment_id": a.ID, "starts_at": a.StartsAt.UTC().Format(time.RFC3339)}
	}
	// Each recipient reads it in their language and time zone.
	reader := func(to string) (Text, string) {
		if p := a.PartyByID(to); p != nil {
			return TextIn(p.Locale), p.TimeZone
		}
		return TextIn(""), ""
	}
	switch ev := env.Event.(type) {
	case AppointmentBooked:
		t, zone := reader(a.DoctorID)
		add(a.DoctorID, NotifyBooked, t.T("New appointment"), t.T("%s booked %s.", partyName(a.Patient, t.T("A patient")), t.When(a.StartsAt, zone)), data())
	case AppointmentCancelled:
		if ev.Unpaid {
			break
		}
		for _, to := range otherParties(a, ev.ActorID) {
			t, zone := reader(to)
			d := data()
			body := t.T("The appointment of %s was cancelled.", t.When(a.StartsAt, zone))
			if ev.ActorRole == RoleAdmin {
				body = t.T("The appointment of %s was cancelled by the clinic.", t.When(a.StartsAt, zone))
				d["cancelled_by"] = "clinic"
			}
			if ev.Reason != "" {
				d["reason"] = ev.Reason
				body += " " + t.T("Reason: %s", ev.Reason)
			}
			add(to, NotifyCancelled, t.T("Appointment cancelled"), body, d)
		}
	case AppointmentRescheduled:
		for _, to := range otherParties(a, ev.ActorID) {
			t, zone := reader(to)
			d := data()
			d["previous_starts_at"] = ev.PreviousStartsAt.UTC().Format(time.RFC3339)
			add(to, NotifyRescheduled, t.T("Appointment moved"), t.T("Your appointment moved from %s to %s.",
				t.When(ev.PreviousStartsAt, zone), t.When(a.StartsAt, zone)), d)
		}
	case ConsultationStarted:
		t, _ := reader(a.PatientID)
		add(a.PatientID, NotifyStarted, t.T("Your consultation has started"), t.T("%s is waiting for you in the consultation room.", partyName(a.Doctor, t.T("Your doctor"))), data())
	case DiagnosisReady:
		t, _ := reader(a.PatientID)
		add(a.PatientID, NotifyDiagnosis, t.T("Your diagnosis is ready"), t.T("%s has written up your consultation.", partyName(a.Doctor, t.T("your doctor"))), data())
	case PaymentSucceeded:
		t, zone := reader(a.PatientID)
		add(a.PatientID, NotifyPaymentReceived, t.T("Payment received"), t.T("We received %s for your consultation with %s on %s. Receipt %s.",
			FormatMoney(ev.Payment.Amount, ev.Payment.Currency), partyName(a.Doctor, t.T("your doctor")), t.When(a.StartsAt, zone),
			ev.Payment.ReceiptNumber()), paymentData(data(), ev.Payment))
	case PaymentReleased:
		t, zone := reader(a.PatientID)
		body := t.T("The payment for your appointment of %s did not go through, so the slot was released.", t.When(a.StartsAt, zone))
		if ev.Payment.Status == PayExpired {
			body = t.T("The payment for your appointment of %s was not completed in time, so the slot was released.", t.When(a.StartsAt, zone))
		}
		add(a.PatientID, NotifyPaymentFailed, t.T("Appointment not booked"), body, paymentData(data(), ev.Payment))
	case PaymentRefunded:
		t, zone := reader(a.PatientID)
		add(a.PatientID, NotifyPaymentRefunded, t.T("Refund issued"), t.T("%s was refunded for your appointment of %s. It reaches your account in a few days.",
			FormatMoney(ev.Payment.RefundedAmount, ev.Payment.Currency), t.When(a.StartsAt, zone)), paymentData(data(), ev.Payment))
	case ReminderDue:
		for _, r := range []struct {
			to, fallback string
			of           *Party
		}{{a.PatientID, "your doctor", a.Doctor}, {a.DoctorID, "a patient", a.Patient}} {
			t, zone := reader(r.to)
			d := data()
			d["offset_seconds"] = int64(ev.Offset / time.Second)
			add(r.to, NotifyReminder, t.T("Upcoming consultation"), t.T("Your consultation with %s starts %s: %s.",
				partyName(r.of, t.T(r.fallback)), t.In(a.StartsAt.Sub(ev.At)), t.When(a.StartsAt, zone)), d)
		}
	}
	return out
}

// paymentData adds a payment's figures to a notification's data.
func paymentData(d map[string]any, p Payment) map[string]any {
	d["payment_id"], d["amount"], d["currency"], d["status"], d["receipt_number"] = p.ID, p.Amount, p.Currency, string(p.Status), p.ReceiptNumber()
	return d
}

// AnnouncementFor renders an announcement for one recipient.
func AnnouncementFor(env Envelope, userID string) Notification {
	ev, _ := env.Event.(AnnouncementPosted)
	return Notification{UserID: userID, Kind: NotifyAnnouncement, Title: ev.Title, Body: ev.Body,
		Data: map[string]any{"audience": ev.Audience}, CreatedAt: env.CreatedAt.UTC(), Key: env.ID + ":" + userID}
}

// AudienceRole is the role an announcement audience is limited to ("" for all).
func AudienceRole(audience string) Role {
	switch audience {
	case AudiencePatients:
		return RolePatient
	case AudienceDoctors:
		return RoleDoctor
	}
	return ""
}

// EncodeData serialises notification data for storage.
func EncodeData(d map[string]any) string {
	if d == nil {
		return "{}"
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// DecodeData reads stored notification data.
func DecodeData(s string) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

func partyName(p *Party, fallback string) string {
	if p == nil || p.Name == "" {
		return fallback
	}
	return p.Name
}

// otherParties are the participants that did not act themselves.
func otherParties(a Appointment, actorID string) []string {
	var out []string
	for _, id := range []string{a.PatientID, a.DoctorID} {
		if id != actorID {
			out = append(out, id)
		}
	}
	return out
}

// DueReminder picks, for an appointment and the configured offsets, the
// offsets whose reminder time has come (and that were still ahead when it
// was booked), nearest first. Empty when none is due.
func DueReminder(a Appointment, offsets []time.Duration, now time.Time) []time.Duration {
	var due []time.Duration
	offsets = slices.Clone(offsets)
	slices.Sort(offsets)
	for _, off := range offsets {
		at := a.StartsAt.Add(-off)
		if at.After(now) || a.CreatedAt.After(at) {
			continue
		}
		due = append(due, off)
	}
	return due
}
