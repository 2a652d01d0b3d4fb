package models

import (
	"context"
	"strings"
	"time"
)

// Payments: a paid booking holds its slot (StatusPendingPayment) while the
// patient pays the doctor's fee through a PaymentProvider; the provider's
// signed events confirm or release it. Money is an integer count of the
// currency's minor units, never a float.

// PaymentStatus is where a payment is in its life.
type PaymentStatus string

// Payment statuses.
const (
	// PayRequired: created at the provider, waiting for the patient.
	PayRequired PaymentStatus = "requires_payment"
	// PaySucceeded: the money arrived; the appointment is booked.
	PaySucceeded PaymentStatus = "succeeded"
	// PayFailed: the provider refused it; the slot was released.
	PayFailed PaymentStatus = "failed"
	// PayExpired: not paid within the hold; the slot was released.
	PayExpired PaymentStatus = "expired"
	// PayCancelled: the appointment was cancelled before it was paid.
	PayCancelled PaymentStatus = "cancelled"
	// PayRefundPending: paid, and owed back in full; the refund is
	// being asked of the provider (retried until it answers).
	PayRefundPending PaymentStatus = "refund_pending"
	// PayRefunded: paid back in full.
	PayRefunded PaymentStatus = "refunded"
)

// PaymentStatuses lists every payment status.
var PaymentStatuses = []PaymentStatus{PayRequired, PaySucceeded, PayFailed, PayExpired, PayCancelled,
	PayRefundPending, PayRefunded}

// Payment is what a patient pays for one appointment.
type Payment struct {
	ID            string
	AppointmentID string
	PatientID     string
	DoctorID      string
	// Provider names the provider ("stripe"); ProviderRef is its id of the
	// payment (a Stripe PaymentIntent).
	Provider    string
	ProviderRef string
	Status      PaymentStatus
	Amount      int64
	Currency    string
	// ClientSecret lets the patient's browser complete the payment; it is
	// kept only while the payment is required.
	ClientSecret   string
	RefundedAmount int64
	RefundRef      string
	FailureReason  string
	ExpiresAt      time.Time
	PaidAt         *time.Time
	RefundedAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// Set when listed: the appointment's time and its parties.
	StartsAt time.Time
	Doctor   *Party
	Patient  *Party
}

// ReceiptNumber is the number printed on the payment's receipt.
func (p Payment) ReceiptNumber() string {
	id := strings.ReplaceAll(p.ID, "-", "")
	if len(id) > 12 {
		id = id[:12]
	}
	return "TC-" + strings.ToUpper(id)
}

// PaymentRequest asks a provider to take a payment.
type PaymentRequest struct {
	// PaymentID is ours; providers use it as the idempotency key, so a
	// retried request never charges twice.
	PaymentID     string
	AppointmentID string
	Amount        int64
	Currency      string
	Description   string
	Email         string
}

// ProviderPayment is the provider's answer to a PaymentRequest.
type ProviderPayment struct {
	Ref          string
	ClientSecret string
}

// RefundRequest asks a provider to pay a payment back in full.
type RefundRequest struct {
	PaymentID string
	Ref       string
	Amount    int64
}

// ProviderEventType is what a provider's event says happened.
type ProviderEventType string

// Provider event types the domain acts on; anything else is Ignored.
const (
	ProviderPaymentSucceeded ProviderEventType = "payment_succeeded"
	ProviderPaymentFailed    ProviderEventType = "payment_failed"
	ProviderPaymentCanceled  ProviderEventType = "payment_canceled"
	ProviderIgnored          ProviderEventType = "ignored"
)

// ProviderEvent is a verified event from a provider's webhook.
type ProviderEvent struct {
	// ID is the provider's event id: the same event twice acts once.
	ID   string
	Type ProviderEventType
	// PaymentID is ours, as the provider kept it with the payment
	// (metadata); Ref is the provider's.
	PaymentID string
	Ref       string
	Amount    int64
	// Reason is the provider's words for a failure (no card details).
	Reason string
}

// PaymentProvider is a payment service: Stripe today; an Alipay or WeChat
// Pay adapter implements the same four calls (docs/payments.md).
// Unreachable providers are EUNAVAILABLE; a webhook whose signature does
// not verify is EINVALID.
type PaymentProvider interface {
	// Name is stored with each payment ("stripe").
	Name() string
	// CreatePayment starts a payment and returns the provider's reference
	// and what the browser needs to complete it.
	CreatePayment(ctx context.Context, r PaymentRequest) (ProviderPayment, error)
	// CancelPayment voids an unpaid payment (the hold ran out); one that
	// cannot be cancelled any more is not an error.
	CancelPayment(ctx context.Context, ref string) error
	// Refund pays a payment back in full and returns the refund's
	// reference; asking twice refunds once.
	Refund(ctx context.Context, r RefundRequest) (string, error)
	// ParseEvent verifies a webhook request and reads its event.
	ParseEvent(payload []byte, header func(name string) string) (ProviderEvent, error)
}

// RefundDue is the refund rule, in one place: a paid appointment that is
// cancelled is paid back in full when the doctor, the clinic or the system
// cancels it, or the patient does before the cutoff. A no-show or a late
// cancellation keeps the fee.
func (p Policy) RefundDue(rel Relation, a Appointment, action Action, now time.Time) bool {
	if action != ActionCancel {
		return false
	}
	switch rel {
	case TheDoctor, Admin, System:
		return true
	case ThePatient:
		return !now.After(a.StartsAt.Add(-p.CancelCutoff))
	}
	return false
}

// PaymentFilter narrows a payment listing.
type PaymentFilter struct {
	Status PaymentStatus
	Limit  int
	Cursor string
}

// PaymentService keeps the payments of paid bookings.
type PaymentService interface {
	// Get returns a payment to its patient, its doctor or an admin.
	// Returns ENOTFOUND.
	Get(ctx context.Context, actor Actor, id string) (Payment, error)
	// List returns the actor's payments, newest first (doctors: for their
	// appointments; admins: all). Returns EINVALID.
	List(ctx context.Context, actor Actor, f PaymentFilter) (Page[Payment], error)
	// HandleWebhook verifies a provider's webhook request (EINVALID when
	// its signature does not) and handles its event.
	HandleWebhook(ctx context.Context, payload []byte, header func(name string) string) error
	// HandleEvent applies a verified provider event once: a success books
	// the held appointment (or refunds it when the hold had ended), a
	// failure releases the slot.
	HandleEvent(ctx context.Context, ev ProviderEvent) error
	// Sweep releases the holds that ran out and asks the provider for the
	// refunds still owed; it returns how many payments it moved.
	Sweep(ctx context.Context) (int, error)
}

// SeenBy is the payment as actor may see it: the client secret (which
// completes the payment) only for its patient while it is required.
func (p Payment) SeenBy(actor Actor) Payment {
	if actor.UserID != p.PatientID || p.Status != PayRequired {
		p.ClientSecret = ""
	}
	return p
}
