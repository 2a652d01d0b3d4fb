package realtime_test

import (
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// A paid booking's news reaches the patient's devices live (so an app can
// turn "awaiting payment" into "confirmed"), never with what completes a
// payment; a hold the doctor never heard of ends without telling them.
func TestPaymentNewsReachesThePatientLive(t *testing.T) {
	mock := modeltest.StripeMock(t)
	r := newRigWith(t, modeltest.NewPostgres(t), func(o *modeltest.Options) {
		o.Payments = modeltest.StripeProvider(t, mock.URL)
	})
	ctx := t.Context()
	admin := modeltest.MustUser(t, r.P, models.RoleAdmin, modeltest.UniqueName("adm")+"@example.com")
	c := r.people(models.StatusCompleted)
	fee := models.Fee{Amount: 4500, Currency: "EUR"}
	if _, err := r.P.Users.AdminUpdate(ctx, models.Actor{UserID: admin.ID, Role: models.RoleAdmin}, c.Doctor.ID, models.AdminUpdateUserInput{Fee: &fee}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(24 * time.Hour).Add(10 * time.Hour)
	rules := []models.ScheduleRule{}
	for d := range 7 {
		rules = append(rules, models.ScheduleRule{Weekday: d, Start: "00:00", End: "24:00"})
	}
	if err := r.P.Schedules.SeedSchedule(ctx, c.Doctor.ID, models.ScheduleInput{TimeZone: "UTC", SlotMinutes: 30, Rules: rules}); err != nil {
		t.Fatal(err)
	}
	patient, doctor := r.dial(c.PatientT), r.dial(c.DoctorT)
	pat := models.Actor{UserID: c.Patient.ID, Role: models.RolePatient}
	book := func(at time.Time) models.Appointment {
		a, err := r.P.Appointments.Book(ctx, pat, models.BookInput{DoctorID: c.Doctor.ID, StartsAt: at.Format(time.RFC3339)})
		if err != nil || a.Status != models.StatusPendingPayment {
			t.Fatalf("book: %+v, %v", a.Status, err)
		}
		return a
	}
	a := book(start)
	body, sig := modeltest.StripeEvent(t, modeltest.EventID(), "payment_intent.succeeded", a.Payment.ProviderRef, a.Payment.ID, 4500, time.Now())
	if err := r.P.Payments.HandleWebhook(ctx, body, func(string) string { return sig }); err != nil {
		t.Fatal(err)
	}
	got := next(t, patient, "consultation:status")
	appt, _ := got["appointment"].(map[string]any)
	pay, _ := appt["payment"].(map[string]any)
	if got["status"] != string(models.StatusBooked) || pay["status"] != string(models.PaySucceeded) {
		t.Fatalf("the patient got %v", got)
	}
	// The unpaid hold the patient drops: only the patient hears of it.
	h := book(start.Add(time.Hour))
	if _, err := r.P.Appointments.Cancel(ctx, pat, h.ID, models.CancelInput{}); err != nil {
		t.Fatal(err)
	}
	got = next(t, patient, "consultation:status")
	if got["appointment_id"] != h.ID || got["status"] != string(models.StatusCancelled) {
		t.Fatalf("the patient got %v", got)
	}
	if p, _ := got["appointment"].(map[string]any)["payment"].(map[string]any); p["client_secret"] != nil {
		t.Fatal("a broadcast carried a client secret")
	}
	time.Sleep(300 * time.Millisecond)
	if n := doctor.Count("consultation:status"); n != 0 {
		t.Fatalf("the doctor got %d payment statuses, want none", n)
	}
}
