package stripe_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/payments/stripe"
)

func TestCreateCancelAndRefundAgainstStripeMock(t *testing.T) {
	mock := modeltest.StripeMock(t)
	p := modeltest.StripeProvider(t, mock.URL)
	ctx := t.Context()

	pp, err := p.CreatePayment(ctx, models.PaymentRequest{PaymentID: "pay-1", AppointmentID: "appt-1", Amount: 4500, Currency: "EUR",
		Description: "Consultation"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !strings.HasPrefix(pp.Ref, "pi_") || !strings.Contains(pp.ClientSecret, "_secret_") {
		t.Fatalf("payment = %+v, want a PaymentIntent id and its client secret", pp)
	}
	ref, err := p.Refund(ctx, models.RefundRequest{PaymentID: "pay-1", Ref: pp.Ref, Amount: 4500})
	if err != nil {
		t.Fatalf("refund: %v", err)
	}
	if !strings.HasPrefix(ref, "re_") {
		t.Fatalf("refund id = %q, want re_…", ref)
	}
	if err := p.CancelPayment(ctx, pp.Ref); err != nil {
		t.Fatalf("cancel: %v", err)
	}
}

func TestStripeDownIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	p := modeltest.StripeProvider(t, closed)
	_, err = p.CreatePayment(t.Context(), models.PaymentRequest{PaymentID: "pay-1", Amount: 4500, Currency: "EUR"})
	if got := models.ErrorCode(err); got != models.EUNAVAILABLE {
		t.Fatalf("create while Stripe is down: %v (%s), want unavailable", err, got)
	}
	if _, err := p.Refund(t.Context(), models.RefundRequest{PaymentID: "pay-1", Ref: "pi_x", Amount: 1}); models.ErrorCode(err) != models.EUNAVAILABLE {
		t.Fatalf("refund while Stripe is down: %v, want unavailable", err)
	}
}

func TestParseEventVerifiesTheSignature(t *testing.T) {
	p := modeltest.StripeProvider(t, "http://127.0.0.1:1")
	header := func(sig string) func(string) string {
		return func(name string) string { return http.Header{"Stripe-Signature": {sig}}.Get(name) }
	}
	now := time.Now()
	body, sig := modeltest.StripeEvent(t, "evt_1", "payment_intent.succeeded", "pi_1", "pay-1", 4500, now)
	ev, err := p.ParseEvent(body, header(sig))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := models.ProviderEvent{ID: "evt_1", Type: models.ProviderPaymentSucceeded, PaymentID: "pay-1", Ref: "pi_1", Amount: 4500}
	if ev != want {
		t.Fatalf("event = %+v, want %+v", ev, want)
	}
	body, sig = modeltest.StripeEvent(t, "evt_2", "payment_intent.payment_failed", "pi_1", "pay-1", 4500, now)
	if ev, err := p.ParseEvent(body, header(sig)); err != nil || ev.Type != models.ProviderPaymentFailed || ev.Reason != "card_declined" {
		t.Fatalf("failed event = %+v, %v", ev, err)
	}
	body, sig = modeltest.StripeEvent(t, "evt_3", "customer.created", "pi_1", "pay-1", 0, now)
	if ev, err := p.ParseEvent(body, header(sig)); err != nil || ev.Type != models.ProviderIgnored {
		t.Fatalf("other event = %+v, %v; want ignored", ev, err)
	}
	for name, h := range map[string]string{
		"no signature":       "",
		"another secret":     strings.Replace(sig, "v1=", "v1=00", 1),
		"a tampered payload": sig,
	} {
		b := body
		if name == "a tampered payload" {
			b = []byte(strings.Replace(string(body), "pi_1", "pi_2", 1))
		}
		if _, err := p.ParseEvent(b, header(h)); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("%s: %v, want invalid_request", name, err)
		}
	}
	// A replay of an old event is refused (Stripe's five-minute tolerance).
	body, sig = modeltest.StripeEvent(t, "evt_4", "payment_intent.succeeded", "pi_1", "pay-1", 4500, now.Add(-time.Hour))
	if _, err := p.ParseEvent(body, header(sig)); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("an hour-old signature: %v, want invalid_request", err)
	}
}

func TestNewNeedsTheSecrets(t *testing.T) {
	if _, err := stripe.New(stripe.Config{SecretKey: "sk_test"}); err == nil {
		t.Fatal("a provider without a webhook secret was built")
	}
}
