package models

import (
	"context"
	"strings"
	"time"
)

// Role is what a user may do on the platform.
type Role string

// Roles.
const (
	RolePatient Role = "patient"
	RoleDoctor  Role = "doctor"
	RoleAdmin   Role = "admin"
)

// User is a person with an account.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	Role         Role
	TimeZone     string
	Locale       string // the language notifications and mails are written in
	// EmailNotifications: the user wants their notifications by mail too.
	EmailNotifications bool
	Disabled           bool
	// DeletionRequestedAt is when the user asked for their account to be
	// deleted; AnonymisedAt when an admin did it.
	DeletionRequestedAt *time.Time
	AnonymisedAt        *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// Doctor is set for doctors when loaded.
	Doctor *DoctorProfile
}

// DoctorProfile is what patients see of a doctor besides the name.
type DoctorProfile struct {
	UserID    string
	Specialty string
	Bio       string
	Fee       Fee
	UpdatedAt time.Time
}

// Fee is a consultation's price in minor units (cents) of an ISO 4217
// currency; 0 is free.
type Fee struct {
	Amount   int64  `field:"amount" validate:"gte=0,lte=100000000"`
	Currency string `field:"currency" validate:"required,iso4217"`
}

// Actor is who performs an operation, as established by authentication.
type Actor struct {
	UserID    string
	Role      Role
	RequestID string
	// SessionID is the sign-in session the request came from, if any.
	SessionID string
}

// IsAdmin reports whether the actor is an admin.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

// IsSystem reports whether the platform itself acts (scheduler, seeding).
func (a Actor) IsSystem() bool { return a.UserID == SystemActor.UserID }

// SystemActor is used for operations that the platform performs by itself.
var SystemActor = Actor{UserID: "system", Role: RoleAdmin}

// RegisterInput is a patient's sign-up.
type RegisterInput struct {
	Email    string `field:"email" validate:"required,utf8,max=254,email"`
	Password string `field:"password" validate:"required,utf8,max=128"`
	Name     string `field:"name" validate:"required,utf8,min=1,max=120"`
	TimeZone string `field:"time_zone" validate:"omitempty,timezone"`
	Locale   string `field:"locale" validate:"omitempty,oneof=en zh"`
}

// CreateUserInput is an admin creating any kind of user.
type CreateUserInput struct {
	Email     string `field:"email" validate:"required,utf8,max=254,email"`
	Password  string `field:"password" validate:"required,utf8,max=128"`
	Name      string `field:"name" validate:"required,utf8,min=1,max=120"`
	Role      Role   `field:"role" validate:"required,oneof=patient doctor admin"`
	TimeZone  string `field:"time_zone" validate:"omitempty,timezone"`
	Locale    string `field:"locale" validate:"omitempty,oneof=en zh"`
	Specialty string `field:"specialty" validate:"required_if=Role doctor,omitempty,utf8,max=80"`
	Bio       string `field:"bio" validate:"omitempty,utf8,max=2000"`
}

// UpdateProfileInput changes a user's own profile; nil fields stay.
type UpdateProfileInput struct {
	Name     *string `field:"name" validate:"omitempty,utf8,min=1,max=120"`
	TimeZone *string `field:"time_zone" validate:"omitempty,timezone"`
	Locale   *string `field:"locale" validate:"omitempty,oneof=en zh"`
	// EmailNotifications turns notification mails on or off.
	EmailNotifications *bool   `field:"email_notifications"`
	Specialty          *string `field:"specialty" validate:"omitempty,utf8,min=1,max=80"`
	Bio                *string `field:"bio" validate:"omitempty,utf8,max=2000"`
	Password           *string `field:"password" validate:"omitempty,utf8,max=128"`
	// CurrentPassword must accompany a new Password.
	CurrentPassword *string `field:"current_password" validate:"omitempty,utf8,max=128"`
}

// AdminUpdateUserInput is what an admin may change on any user; nil fields stay.
type AdminUpdateUserInput struct {
	Name      *string `field:"name" validate:"omitempty,utf8,min=1,max=120"`
	Role      *Role   `field:"role" validate:"omitempty,oneof=patient doctor admin"`
	Disabled  *bool   `field:"disabled"`
	Specialty *string `field:"specialty" validate:"omitempty,utf8,min=1,max=80"`
	Bio       *string `field:"bio" validate:"omitempty,utf8,max=2000"`
	// Fee is the doctor's consultation fee (set by the clinic).
	Fee *Fee `field:"fee" validate:"omitempty"`
}

// UserFilter narrows an admin's user list.
type UserFilter struct {
	Role  Role
	Query string
	// Status narrows to "active", "disabled" or "deletion_requested"
	// (asked for their account to be deleted, not yet done).
	Status string
	Limit  int
	Cursor string
}

// NormalizeEmail is how emails are stored and compared.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// UserService manages accounts.
type UserService interface {
	// Register creates a patient. Returns EINVALID for bad fields and
	// ECONFLICT if the email is taken.
	Register(ctx context.Context, in RegisterInput) (User, error)
	// Create makes a user of any role. Returns EFORBIDDEN unless the actor
	// is an admin, EINVALID, or ECONFLICT if the email is taken.
	Create(ctx context.Context, actor Actor, in CreateUserInput) (User, error)
	// Get returns a user with the doctor profile. Returns ENOTFOUND.
	Get(ctx context.Context, id string) (User, error)
	// AdminGet returns any user to an admin. Returns EFORBIDDEN or ENOTFOUND.
	AdminGet(ctx context.Context, actor Actor, id string) (User, error)
	// UpdateProfile changes the actor's own profile. A new password needs
	// the current one (EFORBIDDEN when wrong) and passes CheckPassword; it
	// revokes every other session of the user and raises PasswordChanged
	// (their sockets close). Returns EINVALID.
	UpdateProfile(ctx context.Context, actor Actor, in UpdateProfileInput) (User, error)
	// AdminUpdate changes role, name, profile or the disabled flag of any
	// user; disabling revokes the user's sessions and raises UserDisabled.
	// Returns EFORBIDDEN, EINVALID, ENOTFOUND, or ECONFLICT when an admin
	// would disable or demote themselves.
	AdminUpdate(ctx context.Context, actor Actor, id string, in AdminUpdateUserInput) (User, error)
	// List returns users for an admin, newest first. Returns EFORBIDDEN or EINVALID.
	List(ctx context.Context, actor Actor, f UserFilter) (Page[User], error)
	// EnsureAdmin creates an admin unless the email exists and reports
	// whether it created one.
	EnsureAdmin(ctx context.Context, email, password, name string) (bool, error)
}
