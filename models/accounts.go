package models

import (
	"context"
	"time"
)

// PasswordResetTTL is how long a reset link works.
const PasswordResetTTL = time.Hour

// Mail is one plain-text message to one person.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends mail. With SMTP configured it goes over SMTP; without, it
// is written to the log (the embedded default), so the flow still shows.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// ErrResetLink answers a reset with a used, expired or unknown token.
var ErrResetLink = Errorf(EINVALID, "this reset link is not valid any more; ask for a new one").
	WithDetails(map[string]any{"fields": map[string]any{"token": "is used, expired or unknown"}})

// ResetPasswordInput is a reset link's token and the new password.
type ResetPasswordInput struct {
	Token    string `field:"token" validate:"required,max=200"`
	Password string `field:"password" validate:"required,utf8,max=128"`
}

// PasswordResetService resets forgotten passwords by email.
type PasswordResetService interface {
	// Forgot mails a one-time reset link (PasswordResetTTL) to the user
	// with that email, if any; it says nothing about whether there is
	// one. Returns EUNAVAILABLE when the database is down.
	Forgot(ctx context.Context, email string) error
	// SendReset mails a reset link to a user on an admin's behalf
	// (audited). Returns EFORBIDDEN unless the actor is an admin, or
	// ENOTFOUND.
	SendReset(ctx context.Context, actor Actor, userID string) error
	// Reset sets a new password with a token from such a mail: once, before
	// it expires. It revokes every session of the user (their sockets
	// close). A used, expired or unknown token is EINVALID; a weak password
	// EINVALID on the password field.
	Reset(ctx context.Context, in ResetPasswordInput) error
}

// Export is everything stored about a user, for them to download.
type Export struct {
	ExportedAt    time.Time
	User          User
	Appointments  []Appointment // with their diagnoses
	Messages      []Message     // of those consultations, everyone's
	Notifications []Notification
}

// AccountService is a user's own data: its export, and deletion.
type AccountService interface {
	// Export returns everything stored about the actor (audited).
	Export(ctx context.Context, actor Actor) (Export, error)
	// RequestDeletion records a patient's request to delete their account,
	// for an admin to confirm. Returns EFORBIDDEN for doctors and admins
	// (their records belong to the clinic).
	RequestDeletion(ctx context.Context, actor Actor) (User, error)
	// Anonymise deletes an account whose owner asked for it: name, email,
	// password and preferences are erased, sessions end, bookings still
	// ahead are cancelled; consultations and their messages stay, as
	// medical records, under the anonymised account. Admins only
	// (EFORBIDDEN); ENOTFOUND; ECONFLICT when no deletion was requested.
	Anonymise(ctx context.Context, actor Actor, userID string) (User, error)
}
