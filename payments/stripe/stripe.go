// Package stripe is the Stripe payment provider: PaymentIntents on the
// official stripe-go client, refunds, and webhook events verified with the
// endpoint's signing secret.
package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"teleconsult/models"
)

// Config is how the provider reaches Stripe.
type Config struct {
	// SecretKey is the API key (sk_...).
	SecretKey string
	// WebhookSecret verifies events (whsec_...).
	WebhookSecret string
	// APIBase is the API's base URL (empty: Stripe's); tests point it at
	// stripe-mock.
	APIBase string
	// Timeout bounds one API call (default 10 s).
	Timeout time.Duration
	// Retries is how often the client retries a failed call (idempotency
	// keys make it safe); 0 means 2, negative none.
	Retries int64
}

// Provider is a models.PaymentProvider on Stripe.
type Provider struct {
	client        *stripego.Client
	webhookSecret string
}

var _ models.PaymentProvider = (*Provider)(nil)

// New builds the provider.
func New(cfg Config) (*Provider, error) {
	if cfg.SecretKey == "" || cfg.WebhookSecret == "" {
		return nil, errors.New("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 2
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	bc := &stripego.BackendConfig{
		HTTPClient:        &http.Client{Timeout: cfg.Timeout},
		MaxNetworkRetries: stripego.Int64(cfg.Retries),
		// The SDK would log request failures with their parameters; the
		// domain logs what it needs.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if cfg.APIBase != "" {
		bc.URL = stripego.String(strings.TrimRight(cfg.APIBase, "/"))
	}
	backends := &stripego.Backends{
		API:     stripego.GetBackendWithConfig(stripego.APIBackend, bc),
		Connect: stripego.GetBackendWithConfig(stripego.ConnectBackend, bc),
		Uploads: stripego.GetBackendWithConfig(stripego.UploadsBackend, bc),
	}
	return &Provider{client: stripego.NewClient(cfg.SecretKey, stripego.WithBackends(backends)), webhookSecret: cfg.WebhookSecret}, nil
}

// Name is "stripe".
func (p *Provider) Name() string { return "stripe" }

// CreatePayment creates a PaymentIntent (automatic payment methods), keyed
// by our payment id so a retry never creates two.
func (p *Provider) CreatePayment(ctx context.Context, r models.PaymentRequest) (models.ProviderPayment, error) {
	params := &stripego.PaymentIntentCreateParams{
		Amount:                  stripego.Int64(r.Amount),
		Currency:                stripego.String(strings.ToLower(r.Currency)),
		Description:             stripego.String(r.Description),
		AutomaticPaymentMethods: &stripego.PaymentIntentCreateAutomaticPaymentMethodsParams{Enabled: stripego.Bool(true)},
	}
	if r.Email != "" {
		params.ReceiptEmail = stripego.String(r.Email)
	}
	params.AddMetadata("payment_id", r.PaymentID)
	params.AddMetadata("appointment_id", r.AppointmentID)
	params.SetIdempotencyKey("teleconsult-payment-" + r.PaymentID)
	pi, err := p.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return models.ProviderPayment{}, apiErr("create the payment", err)
	}
	return models.ProviderPayment{Ref: pi.ID, ClientSecret: pi.ClientSecret}, nil
}

// CancelPayment cancels an unpaid PaymentIntent; one that has already
// succeeded or been cancelled is left as it is.
func (p *Provider) CancelPayment(ctx context.Context, ref string) error {
	_, err := p.client.V1PaymentIntents.Cancel(ctx, ref, &stripego.PaymentIntentCancelParams{
		CancellationReason: stripego.String(string(stripego.PaymentIntentCancellationReasonAbandoned)),
	})
	var se *stripego.Error
	if errors.As(err, &se) && se.Code == stripego.ErrorCodePaymentIntentUnexpectedState {
		return nil
	}
	if err != nil {
		return apiErr("cancel the payment", err)
	}
	return nil
}

// Refund refunds a PaymentIntent in full, keyed by our payment id.
func (p *Provider) Refund(ctx context.Context, r models.RefundRequest) (string, error) {
	params := &stripego.RefundCreateParams{PaymentIntent: stripego.String(r.Ref), Amount: stripego.Int64(r.Amount)}
	params.AddMetadata("payment_id", r.PaymentID)
	params.SetIdempotencyKey("teleconsult-refund-" + r.PaymentID)
	ref, err := p.client.V1Refunds.Create(ctx, params)
	var se *stripego.Error
	if errors.As(err, &se) && se.Code == stripego.ErrorCodeChargeAlreadyRefunded {
		return "", nil
	}
	if err != nil {
		return "", apiErr("refund the payment", err)
	}
	return ref.ID, nil
}

// ParseEvent verifies the Stripe-Signature header (with the default
// five-minute tolerance against replays) and reads a PaymentIntent event.
func (p *Provider) ParseEvent(payload []byte, header func(string) string) (models.ProviderEvent, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, header("Stripe-Signature"), p.webhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return models.ProviderEvent{}, models.Errorf(models.EINVALID, "the webhook's signature does not verify")
	}
	out := models.ProviderEvent{ID: ev.ID, Type: models.ProviderIgnored}
	switch ev.Type {
	case "payment_intent.succeeded":
		out.Type = models.ProviderPaymentSucceeded
	case "payment_intent.payment_failed":
		out.Type = models.ProviderPaymentFailed
	case "payment_intent.canceled":
		out.Type = models.ProviderPaymentCanceled
	default:
		return out, nil
	}
	var pi stripego.PaymentIntent
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &pi) != nil || pi.ID == "" {
		return models.ProviderEvent{}, models.Errorf(models.EINVALID, "the event carries no payment intent")
	}
	out.Ref, out.Amount, out.PaymentID = pi.ID, pi.Amount, pi.Metadata["payment_id"]
	if pi.LastPaymentError != nil {
		out.Reason = string(pi.LastPaymentError.Code)
		if out.Reason == "" {
			out.Reason = string(pi.LastPaymentError.Type)
		}
	}
	return out, nil
}

// ErrUnavailable is the answer when Stripe cannot be reached.
var ErrUnavailable = &models.Error{Code: models.EUNAVAILABLE, Message: "the payment service cannot be reached right now; try again in a moment",
	RetryAfterSeconds: models.UnavailableRetryAfter}

// apiErr maps a failed call: Stripe down, slow or unreachable is
// EUNAVAILABLE (the caller may try again); anything else is internal.
func apiErr(what string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) && se.HTTPStatusCode > 0 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("stripe: %s: %s (%s)", what, se.Code, se.Type)
	}
	return fmt.Errorf("stripe: %s: %v: %w", what, err, ErrUnavailable)
}
