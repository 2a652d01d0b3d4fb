package models_test

import (
	"strings"
	"testing"
	"time"

	"teleconsult/models"
)

func TestRefundDue(t *testing.T) {
	a := appt(models.StatusBooked, t0)
	cutoff := a.StartsAt.Add(-policy.CancelCutoff)
	for _, c := range []struct {
		name   string
		rel    models.Relation
		action models.Action
		now    time.Time
		want   bool
	}{
		{"the doctor cancels", models.TheDoctor, models.ActionCancel, a.StartsAt.Add(-time.Minute), true},
		{"the clinic cancels", models.Admin, models.ActionCancel, a.StartsAt.Add(time.Hour), true},
		{"the system cancels", models.System, models.ActionCancel, a.StartsAt, true},
		{"the patient, a day ahead", models.ThePatient, models.ActionCancel, a.StartsAt.Add(-24 * time.Hour), true},
		{"the patient, at the cutoff", models.ThePatient, models.ActionCancel, cutoff, true},
		{"the patient, after the cutoff", models.ThePatient, models.ActionCancel, cutoff.Add(time.Second), false},
		{"a no-show", models.TheDoctor, models.ActionNoShow, a.StartsAt.Add(time.Hour), false},
		{"a stranger", models.Stranger, models.ActionCancel, a.StartsAt.Add(-24 * time.Hour), false},
	} {
		if got := policy.RefundDue(c.rel, a, c.action, c.now); got != c.want {
			t.Errorf("%s: refund %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		amount int64
		code   string
		want   string
	}{{4500, "EUR", "45.00 EUR"}, {5, "USD", "0.05 USD"}, {3000, "JPY", "3000 JPY"}, {1234, "KWD", "1.234 KWD"}, {-250, "CNY", "-2.50 CNY"}} {
		if got := models.FormatMoney(c.amount, c.code); got != c.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", c.amount, c.code, got, c.want)
		}
	}
}

func TestClientSecretIsThePatientsWhileUnpaid(t *testing.T) {
	p := models.Payment{ID: "0f8e7d6c-5b4a-3210-fedc-ba9876543210", PatientID: patientID, Status: models.PayRequired, ClientSecret: "pi_1_secret_2"}
	if p.SeenBy(thePatient).ClientSecret == "" {
		t.Fatal("the patient cannot complete their own payment")
	}
	for _, a := range []models.Actor{theDoctor, anAdmin, strangerPatient} {
		if p.SeenBy(a).ClientSecret != "" {
			t.Errorf("%s sees the client secret", a.Role)
		}
	}
	p.Status = models.PaySucceeded
	if p.SeenBy(thePatient).ClientSecret != "" {
		t.Error("the secret outlives the payment")
	}
	if got := p.ReceiptNumber(); got != "TC-0F8E7D6C5B4A" {
		t.Errorf("receipt number %q", got)
	}
}

func TestPaymentNotifications(t *testing.T) {
	a := notifyAppt()
	pay := models.Payment{ID: "pay-1", PatientID: patientID, Status: models.PaySucceeded, Amount: 4500, Currency: "EUR", RefundedAmount: 4500}
	ev := models.AppointmentEvent{Appointment: a, At: t0}
	for _, c := range []struct {
		ev   models.Event
		kind models.NotificationKind
		body string
	}{
		{models.PaymentSucceeded{AppointmentEvent: ev, Payment: pay}, models.NotifyPaymentReceived, "We received 45.00 EUR for your consultation with Dr Doc on " + startsForPatient},
		{models.PaymentReleased{AppointmentEvent: ev, Payment: models.Payment{Status: models.PayFailed}}, models.NotifyPaymentFailed, "did not go through"},
		{models.PaymentReleased{AppointmentEvent: ev, Payment: models.Payment{Status: models.PayExpired}}, models.NotifyPaymentFailed, "was not completed in time"},
		{models.PaymentRefunded{AppointmentEvent: ev, Payment: pay}, models.NotifyPaymentRefunded, "45.00 EUR was refunded"},
	} {
		got := models.NotificationsFor(envelope(c.ev))
		if len(got) != 1 || got[0].UserID != patientID || got[0].Kind != c.kind || !strings.Contains(got[0].Body, c.body) {
			t.Errorf("%T: %+v, want one %s for the patient saying %q", c.ev, got, c.kind, c.body)
			continue
		}
		if !models.Mailable(c.kind) {
			t.Errorf("%s is not mailed", c.kind)
		}
	}
	// A cancelled hold tells the doctor nothing: they never heard of it.
	if got := models.NotificationsFor(envelope(models.AppointmentCancelled{AppointmentEvent: models.AppointmentEvent{Appointment: a, ActorID: patientID,
		ActorRole: models.RolePatient}, Unpaid: true})); len(got) != 0 {
		t.Errorf("cancelled hold notifies %+v", got)
	}
	// In Chinese too.
	a.Patient.Locale = "zh"
	got := models.NotificationsFor(envelope(models.PaymentSucceeded{AppointmentEvent: models.AppointmentEvent{Appointment: a}, Payment: pay}))
	if len(got) != 1 || got[0].Title != "已收到付款" || !strings.Contains(got[0].Body, "45.00 EUR") {
		t.Errorf("zh receipt: %+v", got)
	}
}
