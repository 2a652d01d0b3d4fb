package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// payFixture is an appointment fixture with payments on (stripe-mock as
// Stripe) and a fee on the first doctor.
type payFixture struct {
	*apptFixture
	mock *modeltest.StripeMockServer
}

const slot1 = "2030-03-05T10:00:00Z"

func payEachDriver(t *testing.T, fn func(t *testing.T, f *payFixture)) {
	t.Helper()
	mock := modeltest.StripeMock(t)
	apptEachDriver(t, func(o *modeltest.Options) {
		o.Payments = modeltest.StripeProvider(t, mock.URL)
		o.PaymentHold = 15 * time.Minute
	}, func(t *testing.T, af *apptFixture) {
		af.p.RecordNotifications()
		fee := models.Fee{Amount: 4500, Currency: "EUR"}
		if _, err := af.p.Users.AdminUpdate(t.Context(), apptActor(af.admin), af.doctor.ID, models.AdminUpdateUserInput{Fee: &fee}); err != nil {
			t.Fatal(err)
		}
		fn(t, &payFixture{apptFixture: af, mock: mock})
	})
}

// event sends the provider's event typ about a's payment, signed as its
// webhook would be, and returns its id.
func (f *payFixture) event(t *testing.T, typ string, a models.Appointment) string {
	t.Helper()
	id := modeltest.EventID()
	f.send(t, id, typ, a)
	return id
}

func (f *payFixture) send(t *testing.T, id, typ string, a models.Appointment) {
	t.Helper()
	body, sig := modeltest.StripeEvent(t, id, typ, a.Payment.ProviderRef, a.Payment.ID, a.Payment.Amount, time.Now())
	err := f.p.Payments.HandleWebhook(t.Context(), body, func(name string) string {
		if name == "Stripe-Signature" {
			return sig
		}
		return ""
	})
	if err != nil {
		t.Fatalf("webhook %s: %v", typ, err)
	}
	f.p.Dispatch(t)
}

func (f *payFixture) payment(t *testing.T, a models.Appointment) models.Payment {
	t.Helper()
	p, err := f.p.Payments.Get(t.Context(), apptActor(f.admin), a.Payment.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *payFixture) free(t *testing.T, start string) bool {
	t.Helper()
	at, _ := time.Parse(time.RFC3339, start)
	slots, err := f.p.Schedules.FreeSlots(t.Context(), f.doctor.ID, at, at.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return len(slots) == 1 && slots[0].StartsAt.Equal(at)
}

func TestPaidBookingHoldsTheSlotUntilThePaymentArrives(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		a := apptBook(t, f.apptFixture, f.patient, f.doctor, slot1)
		if a.Status != models.StatusPendingPayment || a.Payment == nil {
			t.Fatalf("booking = %s with payment %+v, want pending_payment with a payment", a.Status, a.Payment)
		}
		pay := *a.Payment
		if pay.Status != models.PayRequired || pay.Amount != 4500 || pay.Currency != "EUR" || !strings.HasPrefix(pay.ProviderRef, "pi_") ||
			pay.ClientSecret == "" || !pay.ExpiresAt.Equal(apptBase.Add(15*time.Minute)) {
			t.Fatalf("payment = %+v", pay)
		}
		// The secret completes the payment: the patient's alone.
		seen, err := f.p.Appointments.Get(t.Context(), apptActor(f.doctor), a.ID)
		if err != nil || seen.Payment == nil || seen.Payment.ClientSecret != "" {
			t.Fatalf("the doctor sees payment %+v (%v), want it without its secret", seen.Payment, err)
		}
		// Held: nobody else may take it, and the doctor was not told yet.
		if f.free(t, slot1) {
			t.Fatal("a held slot is offered as free")
		}
		_, err = f.p.Appointments.Book(t.Context(), apptActor(f.patient2), models.BookInput{DoctorID: f.doctor.ID, StartsAt: slot1})
		apptWantCode(t, err, models.ESLOTTAKEN)
		f.p.Dispatch(t)
		if n := apptNotificationsOf(t, f.apptFixture, f.doctor, models.NotifyBooked, a.ID); len(n) != 0 {
			t.Fatalf("the doctor was told of an unpaid hold: %+v", n)
		}
		// The room stays closed until it is paid.
		_, err = f.p.Chat.Join(t.Context(), apptActor(f.patient), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		if apptAudits(t, f.p, "payment.create", pay.ID) != 1 {
			t.Fatal("the payment's creation is not in the audit log")
		}

		evID := f.event(t, "payment_intent.succeeded", a)
		got := apptGet(t, f.apptFixture, a.ID)
		if got.Status != models.StatusBooked || got.Payment.Status != models.PaySucceeded || got.Payment.PaidAt == nil || got.Payment.ClientSecret != "" {
			t.Fatalf("after success: %s, payment %+v", got.Status, got.Payment)
		}
		if n := apptNotificationsOf(t, f.apptFixture, f.doctor, models.NotifyBooked, a.ID); len(n) != 1 {
			t.Fatalf("the doctor got %d booking notifications, want 1", len(n))
		}
		receipts := apptNotificationsOf(t, f.apptFixture, f.patient, models.NotifyPaymentReceived, a.ID)
		if len(receipts) != 1 || !strings.Contains(receipts[0].Body, "45.00 EUR") || !strings.Contains(receipts[0].Body, pay.ReceiptNumber()) {
			t.Fatalf("receipts = %+v, want one naming 45.00 EUR and %s", receipts, pay.ReceiptNumber())
		}
		if apptAudits(t, f.p, "payment.succeeded", pay.ID) != 1 {
			t.Fatal("the payment's success is not in the audit log")
		}

		// The same event again changes nothing.
		f.send(t, evID, "payment_intent.succeeded", a)
		if n := apptEvents(t, f.p, models.KindAppointmentBooked, a.ID); n != 1 {
			t.Fatalf("%d booked events after a duplicate webhook, want 1", n)
		}
		// A late failure of a paid payment changes nothing either.
		f.event(t, "payment_intent.payment_failed", a)
		if got := apptGet(t, f.apptFixture, a.ID); got.Status != models.StatusBooked || got.Payment.Status != models.PaySucceeded {
			t.Fatalf("a stale failure moved a paid booking: %s / %s", got.Status, got.Payment.Status)
		}
	})
}

func TestFailedPaymentReleasesTheSlot(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		a := apptBook(t, f.apptFixture, f.patient, f.doctor, slot1)
		f.event(t, "payment_intent.payment_failed", a)
		got := apptGet(t, f.apptFixture, a.ID)
		if got.Status != models.StatusCancelled || got.Payment.Status != models.PayFailed || got.Payment.FailureReason != "card_declined" {
			t.Fatalf("after failure: %s, payment %+v", got.Status, got.Payment)
		}
		if !f.free(t, slot1) {
			t.Fatal("the slot of a failed payment is still held")
		}
		told := apptNotificationsOf(t, f.apptFixture, f.patient, models.NotifyPaymentFailed, a.ID)
		if len(told) != 1 || !strings.Contains(told[0].Body, "did not go through") {
			t.Fatalf("patient told %+v, want one payment_failed", told)
		}
		if n := apptNotificationsOf(t, f.apptFixture, f.doctor, models.NotifyCancelled, a.ID); len(n) != 0 {
			t.Fatalf("the doctor was told of a hold that never was theirs: %+v", n)
		}
		again := apptBook(t, f.apptFixture, f.patient2, f.doctor, slot1)
		if again.Status != models.StatusPendingPayment {
			t.Fatalf("rebooking the released slot: %s", again.Status)
		}
	})
}

func TestUnpaidHoldExpiresAndALateSuccessIsRefunded(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		a := apptBook(t, f.apptFixture, f.patient, f.doctor, slot1)
		f.clock.Advance(14 * time.Minute)
		if n, err := f.p.Payments.Sweep(t.Context()); err != nil || n != 0 {
			t.Fatalf("sweep before the hold ends: %d, %v", n, err)
		}
		f.clock.Advance(2 * time.Minute)
		if n, err := f.p.Payments.Sweep(t.Context()); err != nil || n != 1 {
			t.Fatalf("sweep after the hold: %d, %v; want 1", n, err)
		}
		f.p.Dispatch(t)
		got := apptGet(t, f.apptFixture, a.ID)
		if got.Status != models.StatusCancelled || got.Payment.Status != models.PayExpired {
			t.Fatalf("after the hold: %s / %s", got.Status, got.Payment.Status)
		}
		if !f.free(t, slot1) {
			t.Fatal("an expired hold still takes the slot")
		}
		if told := apptNotificationsOf(t, f.apptFixture, f.patient, models.NotifyPaymentFailed, a.ID); len(told) != 1 || !strings.Contains(told[0].Body, "in time") {
			t.Fatalf("patient told %+v", told)
		}

		// The patient paid anyway, just too late: the money goes back.
		f.event(t, "payment_intent.succeeded", a)
		pay := f.payment(t, a)
		if pay.Status != models.PayRefunded || pay.RefundedAmount != 4500 || !strings.HasPrefix(pay.RefundRef, "re_") || pay.RefundedAt == nil {
			t.Fatalf("late success: payment %+v, want refunded in full", pay)
		}
		if got := apptGet(t, f.apptFixture, a.ID); got.Status != models.StatusCancelled {
			t.Fatalf("a late success revived the appointment: %s", got.Status)
		}
		if apptAudits(t, f.p, "payment.late_success", pay.ID) != 1 || apptAudits(t, f.p, "payment.refunded", pay.ID) != 1 {
			t.Fatal("the late success and its refund are not in the audit log")
		}
		if n := apptNotificationsOf(t, f.apptFixture, f.patient, models.NotifyPaymentRefunded, a.ID); len(n) != 1 {
			t.Fatalf("%d refund notifications, want 1", len(n))
		}
	})
}

func TestCancellingAPaidAppointmentRefundsByTheRule(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		paid := func(start string) models.Appointment {
			a := apptBook(t, f.apptFixture, f.patient, f.doctor, start)
			f.event(t, "payment_intent.succeeded", a)
			return a
		}
		for _, c := range []struct {
			name string
			by   models.User
		}{{"the doctor", f.doctor}, {"the clinic", f.admin}, {"the patient before the cutoff", f.patient}} {
			a := paid("2030-03-06T10:00:00Z")
			got, err := f.p.Appointments.Cancel(t.Context(), apptActor(c.by), a.ID, models.CancelInput{Reason: "ill"})
			if err != nil {
				t.Fatalf("%s cancels: %v", c.name, err)
			}
			if got.Status != models.StatusCancelled || got.Payment == nil || got.Payment.Status != models.PayRefunded || got.Payment.RefundedAmount != 4500 {
				t.Fatalf("%s cancelled: %s, payment %+v; want refunded in full", c.name, got.Status, got.Payment)
			}
			if apptAudits(t, f.p, "payment.refund_due", a.Payment.ID) != 1 {
				t.Fatalf("%s: the refund is not in the audit log", c.name)
			}
		}
		// A no-show keeps the fee.
		a := paid("2030-03-04T09:00:00Z")
		f.clock.Advance(2 * time.Hour)
		if _, err := f.p.Appointments.NoShow(t.Context(), apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		if pay := f.payment(t, a); pay.Status != models.PaySucceeded || pay.RefundedAmount != 0 {
			t.Fatalf("no-show: payment %+v, want kept", pay)
		}
		// Cancelling a hold voids its payment; the doctor never hears of it.
		h := apptBook(t, f.apptFixture, f.patient, f.doctor, "2030-03-07T10:00:00Z")
		got, err := f.p.Appointments.Cancel(t.Context(), apptActor(f.patient), h.ID, models.CancelInput{})
		if err != nil || got.Payment.Status != models.PayCancelled {
			t.Fatalf("cancel a hold: %v, payment %+v", err, got.Payment)
		}
		f.p.Dispatch(t)
		if n := apptNotificationsOf(t, f.apptFixture, f.doctor, models.NotifyCancelled, h.ID); len(n) != 0 {
			t.Fatalf("the doctor was told of a cancelled hold: %+v", n)
		}
	})
}

func TestRefundWaitsForStripeAndIsRetried(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		a := apptBook(t, f.apptFixture, f.patient, f.doctor, slot1)
		f.event(t, "payment_intent.succeeded", a)
		f.mock.Stop()
		got, err := f.p.Appointments.Cancel(t.Context(), apptActor(f.doctor), a.ID, models.CancelInput{})
		if err != nil {
			t.Fatalf("cancel while Stripe is down: %v (the cancellation must not wait for the refund)", err)
		}
		if got.Status != models.StatusCancelled || got.Payment.Status != models.PayRefundPending {
			t.Fatalf("while Stripe is down: %s / %s, want cancelled / refund_pending", got.Status, got.Payment.Status)
		}
		if n, _ := f.p.Payments.Sweep(t.Context()); n != 0 {
			t.Fatalf("swept %d while Stripe is down", n)
		}
		f.mock.Start()
		if n, err := f.p.Payments.Sweep(t.Context()); err != nil || n != 1 {
			t.Fatalf("sweep once Stripe is back: %d, %v", n, err)
		}
		if pay := f.payment(t, a); pay.Status != models.PayRefunded {
			t.Fatalf("after the retry: %s, want refunded", pay.Status)
		}
		if n, _ := f.p.Payments.Sweep(t.Context()); n != 0 {
			t.Fatalf("a refund was done twice (%d)", n)
		}
	})
}

func TestStripeDownWhenBookingBooksNothing(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		f.mock.Stop()
		_, err := f.p.Appointments.Book(t.Context(), apptActor(f.patient), models.BookInput{DoctorID: f.doctor.ID, StartsAt: slot1})
		apptWantCode(t, err, models.EUNAVAILABLE)
		if n := apptCountAppointments(t, f.p); n != 0 {
			t.Fatalf("%d appointments left behind", n)
		}
		if !f.free(t, slot1) {
			t.Fatal("the slot stays held after the payment could not start")
		}
		// A doctor without a fee is booked as before.
		if a := apptBook(t, f.apptFixture, f.patient, f.doctor2, slot1); a.Status != models.StatusBooked || a.Payment != nil {
			t.Fatalf("free booking: %s, payment %+v", a.Status, a.Payment)
		}
	})
}

func TestTwoPatientsRaceForOnePaidSlot(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		var ready sync.WaitGroup
		ready.Add(1)
		for i, u := range []models.User{f.patient, f.patient2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Wait()
				_, errs[i] = f.p.Appointments.Book(t.Context(), apptActor(u), models.BookInput{DoctorID: f.doctor.ID, StartsAt: slot1})
			}()
		}
		ready.Done()
		wg.Wait()
		won, lost := 0, 0
		for _, err := range errs {
			switch models.ErrorCode(err) {
			case "":
				won++
			case models.ESLOTTAKEN:
				lost++
			default:
				if err != nil {
					t.Fatalf("race: %v", err)
				}
				won++
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("race: %v; want one hold and one slot_taken", errs)
		}
		var n int64
		f.p.DB.Table("payments").Count(&n)
		if n != 1 {
			t.Fatalf("%d payments stored, want 1", n)
		}
	})
}

func TestPaymentsAreListedToTheirPeople(t *testing.T) {
	payEachDriver(t, func(t *testing.T, f *payFixture) {
		a := apptBook(t, f.apptFixture, f.patient, f.doctor, slot1)
		f.event(t, "payment_intent.succeeded", a)
		b := apptBook(t, f.apptFixture, f.patient2, f.doctor, "2030-03-05T11:00:00Z")
		for _, c := range []struct {
			who  models.User
			want int
		}{{f.patient, 1}, {f.patient2, 1}, {f.doctor, 2}, {f.doctor2, 0}, {f.admin, 2}} {
			page, err := f.p.Payments.List(t.Context(), apptActor(c.who), models.PaymentFilter{})
			if err != nil || len(page.Items) != c.want {
				t.Fatalf("%s lists %d payments (%v), want %d", c.who.Email, len(page.Items), err, c.want)
			}
			for _, p := range page.Items {
				if p.ClientSecret != "" && c.who.ID != p.PatientID {
					t.Fatalf("%s sees the client secret of another's payment", c.who.Email)
				}
			}
		}
		page, _ := f.p.Payments.List(t.Context(), apptActor(f.admin), models.PaymentFilter{Status: models.PaySucceeded})
		if len(page.Items) != 1 || page.Items[0].ID != a.Payment.ID || page.Items[0].Doctor == nil || !page.Items[0].StartsAt.Equal(a.StartsAt) {
			t.Fatalf("admin's succeeded payments = %+v", page.Items)
		}
		_, err := f.p.Payments.List(t.Context(), apptActor(f.admin), models.PaymentFilter{Status: "paid"})
		apptWantCode(t, err, models.EINVALID)
		_, err = f.p.Payments.Get(t.Context(), apptActor(f.patient2), a.Payment.ID)
		apptWantCode(t, err, models.ENOTFOUND)
		if own, err := f.p.Payments.Get(t.Context(), apptActor(f.patient2), b.Payment.ID); err != nil || own.ClientSecret == "" {
			t.Fatalf("the patient's own pending payment: %+v, %v; want it with its secret", own, err)
		}

		st, err := f.p.Stats.Stats(t.Context(), apptActor(f.admin))
		if err != nil {
			t.Fatal(err)
		}
		if len(st.PaymentTotals) != 1 || st.PaymentTotals[0] != (models.PaymentTotal{Currency: "EUR", Count: 1, Paid: 4500}) {
			t.Fatalf("totals = %+v", st.PaymentTotals)
		}
		today := st.PaymentsByDay[len(st.PaymentsByDay)-1]
		if len(st.PaymentsByDay) != models.StatsDays || today.Date != "2030-03-04" || today.Paid != 4500 || today.Count != 1 {
			t.Fatalf("payments by day: %d days, today %+v", len(st.PaymentsByDay), today)
		}
	})
}
