package api

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tmail "teleconsult/mail"
	"teleconsult/modeltest"
	"teleconsult/wire"
)

// paidClinic is a clinic with Stripe payments (stripe-mock) and a fee on
// its first doctor.
func paidClinic(t *testing.T, mutate ...func(*modeltest.Options, *Config)) *clinic {
	t.Helper()
	mock := modeltest.StripeMock(t)
	c := newClinic(t, modeltest.NewPostgres(t), append(mutate, func(o *modeltest.Options, _ *Config) {
		o.Payments = modeltest.StripeProvider(t, mock.URL)
		o.PaymentHold = 15 * time.Minute
	})...)
	c.do("PATCH", "/api/v1/admin/users/"+c.doctor.ID, c.adminTok, map[string]any{"fee": map[string]any{"amount": 4500, "currency": "EUR"}}).must(t, 200)
	return c
}

// webhook posts a Stripe event signed as the test wants.
func (c *clinic) webhook(t *testing.T, body []byte, signature string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", c.URL+"/api/v1/payments/webhook", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signature)
	return c.send(req)
}

func TestPaidBookingOverREST(t *testing.T) {
	c := paidClinic(t)
	var cfg wire.PaymentConfig
	c.do("GET", "/api/v1/payments/config", "", nil).must(t, 200).decode(t, &cfg)
	if cfg.Provider != "stripe" || cfg.PublishableKey == "" || cfg.HoldSeconds != 900 {
		t.Fatalf("config = %+v", cfg)
	}
	var doc struct {
		Fee struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"fee"`
	}
	c.do("GET", "/api/v1/doctors/"+c.doctor.ID, "", nil).must(t, 200).decode(t, &doc)
	if doc.Fee.Amount != 4500 || doc.Fee.Currency != "EUR" {
		t.Fatalf("the doctor's card shows fee %+v", doc.Fee)
	}

	var a wire.Appointment
	c.book(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z").must(t, 201).decode(t, &a)
	p := a.Payment
	if a.Status != "pending_payment" || p == nil || p.Status != "requires_payment" || p.Amount != 4500 || p.Currency != "EUR" ||
		!strings.HasPrefix(p.ProviderRef, "pi_") || p.ClientSecret == "" || p.ID == "" {
		t.Fatalf("paid booking = %s with payment %+v", a.Status, p)
	}
	// A bad signature is refused and changes nothing.
	body, sig := modeltest.StripeEvent(t, modeltest.EventID(), "payment_intent.succeeded", p.ProviderRef, p.ID, 4500, time.Now())
	if r := c.webhook(t, body, strings.Replace(sig, "v1=", "v1=ff", 1)); r.Status != 400 || r.ErrorCode() != "invalid_request" {
		t.Fatalf("bad signature: %d %s", r.Status, r.Raw)
	}
	if r := c.webhook(t, body, ""); r.Status != 400 {
		t.Fatalf("no signature: %d", r.Status)
	}
	c.do("GET", "/api/v1/appointments/"+a.ID, c.patTok, nil).must(t, 200).decode(t, &a)
	if a.Status != "pending_payment" {
		t.Fatalf("after a forged webhook: %s", a.Status)
	}
	// The real one books it; again, it changes nothing.
	for range 2 {
		c.webhook(t, body, sig).must(t, 200)
	}
	a = wire.Appointment{ID: a.ID}
	c.do("GET", "/api/v1/appointments/"+a.ID, c.patTok, nil).must(t, 200).decode(t, &a)
	if a.Status != "booked" || a.Payment.Status != "succeeded" || a.Payment.PaidAt == nil || a.Payment.ClientSecret != "" {
		t.Fatalf("after the webhook: %s, payment %+v", a.Status, a.Payment)
	}

	// Receipts: the patient's payments, the doctor's, everyone's for admins.
	var mine wire.List[wire.PaymentItem]
	c.do("GET", "/api/v1/payments", c.patTok, nil).must(t, 200).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ReceiptNumber == "" || mine.Items[0].Doctor == nil || mine.Items[0].StartsAt == nil {
		t.Fatalf("patient's payments = %+v", mine.Items)
	}
	var none wire.List[wire.PaymentItem]
	c.do("GET", "/api/v1/payments", c.pat2Tok, nil).must(t, 200).decode(t, &none)
	if len(none.Items) != 0 {
		t.Fatalf("another patient sees %d payments", len(none.Items))
	}
	c.do("GET", "/api/v1/payments/"+p.ID, c.pat2Tok, nil).must(t, 404)
	c.do("GET", "/api/v1/payments/"+p.ID, c.docTok, nil).must(t, 200)
	if r := c.do("GET", "/api/v1/payments?status=paid", c.adminTok, nil); r.Status != 422 {
		t.Fatalf("unknown status filter: %d", r.Status)
	}

	// The doctor cancels: the patient gets the money back.
	a = wire.Appointment{ID: a.ID}
	c.do("POST", "/api/v1/appointments/"+a.ID+"/cancel", c.docTok, map[string]any{"reason": "ill"}).must(t, 200).decode(t, &a)
	if a.Status != "cancelled" || a.Payment == nil || a.Payment.Status != "refunded" || a.Payment.RefundedAmount != 4500 {
		t.Fatalf("cancelled by the doctor: %s, payment %+v", a.Status, a.Payment)
	}
	var all wire.List[wire.PaymentItem]
	c.do("GET", "/api/v1/payments?status=refunded", c.adminTok, nil).must(t, 200).decode(t, &all)
	if len(all.Items) != 1 || all.Items[0].Patient == nil {
		t.Fatalf("admin's refunded payments = %+v", all.Items)
	}
	var st wire.Stats
	c.do("GET", "/api/v1/admin/stats", c.adminTok, nil).must(t, 200).decode(t, &st)
	if len(st.PaymentTotals) != 1 || st.PaymentTotals[0] != (wire.PaymentTotal{Currency: "EUR", Count: 1, Paid: 4500, Refunded: 4500}) {
		t.Fatalf("payment totals = %+v", st.PaymentTotals)
	}
	var notes wire.List[wire.Notification]
	c.do("GET", "/api/v1/notifications", c.patTok, nil).must(t, 200).decode(t, &notes)
	kinds := map[string]int{}
	for _, n := range notes.Items {
		kinds[n.Kind]++
	}
	if kinds["payment_received"] != 1 || kinds["payment_refunded"] != 1 {
		t.Fatalf("patient's notifications by kind: %v", kinds)
	}
	// The patient's data export carries the payment with its appointment.
	if r := c.do("GET", "/api/v1/me/export", c.patTok, nil).must(t, 200); !strings.Contains(string(r.Raw), p.ReceiptNumber) ||
		!strings.Contains(string(r.Raw), `"refunded_amount":4500`) {
		t.Fatalf("the export lacks the payment: %.300s", r.Raw)
	}
}

func TestTwoPatientsRaceForAPaidSlotOverREST(t *testing.T) {
	c := paidClinic(t)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	start := make(chan struct{})
	for i, tok := range []string{c.patTok, c.pat2Tok} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = c.book(t, tok, c.doctor.ID, "2026-03-03T10:00:00Z").Status
		}()
	}
	close(start)
	wg.Wait()
	if !(codes[0] == 201 && codes[1] == 409) && !(codes[0] == 409 && codes[1] == 201) {
		t.Fatalf("race answers %v, want one 201 and one 409", codes)
	}
}

func TestWebhookWithoutPayments(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	var cfg wire.PaymentConfig
	c.do("GET", "/api/v1/payments/config", "", nil).must(t, 200).decode(t, &cfg)
	if cfg.Provider != "none" {
		t.Fatalf("config = %+v", cfg)
	}
	c.do("PATCH", "/api/v1/admin/users/"+c.doctor.ID, c.adminTok, map[string]any{"fee": map[string]any{"amount": 4500, "currency": "EUR"}}).must(t, 200)
	// Paid at the clinic: booked at once, no payment.
	var a wire.Appointment
	c.book(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z").must(t, 201).decode(t, &a)
	if a.Status != "booked" || a.Payment != nil {
		t.Fatalf("booking without payments: %s, %+v", a.Status, a.Payment)
	}
	body, sig := modeltest.StripeEvent(t, modeltest.EventID(), "payment_intent.succeeded", "pi_1", "x", 1, time.Now())
	if r := c.webhook(t, body, sig); r.Status != 404 {
		t.Fatalf("webhook without payments: %d", r.Status)
	}
}

// Receipts and refunds go by mail whenever mail is configured, to patients
// who did not opt in to notification mails too.
func TestReceiptAndRefundAreMailed(t *testing.T) {
	mb, smtpURL := newMailbox(t)
	c := paidClinic(t, func(o *modeltest.Options, _ *Config) {
		m, err := tmail.New(smtpURL, "Teleconsult <no-reply@teleconsult.test>", slog.New(slog.DiscardHandler), false)
		if err != nil {
			t.Fatal(err)
		}
		o.Mailer = m
	})
	var a wire.Appointment
	c.book(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z").must(t, 201).decode(t, &a)
	body, sig := modeltest.StripeEvent(t, modeltest.EventID(), "payment_intent.succeeded", a.Payment.ProviderRef, a.Payment.ID, 4500, time.Now())
	c.webhook(t, body, sig).must(t, 200)
	if sent, err := c.P.Notifications.SendMails(t.Context()); err != nil || sent != 1 {
		t.Fatalf("sent %d mails (%v), want the receipt", sent, err)
	}
	m := mb.next(t)
	if !strings.Contains(m.to, "pat@example.com") || m.subject != "Payment received" || !strings.Contains(m.text, "45.00 EUR") ||
		!strings.Contains(m.text, a.Payment.ReceiptNumber) {
		t.Fatalf("receipt mail %+v", m)
	}
	c.do("POST", "/api/v1/appointments/"+a.ID+"/cancel", c.adminTok, map[string]any{"reason": "the doctor is ill"}).must(t, 200)
	if _, err := c.P.Notifications.SendMails(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m := mb.next(t); m.subject != "Refund issued" || !strings.Contains(m.text, "45.00 EUR was refunded") {
		t.Fatalf("refund mail %+v", m)
	}
}
