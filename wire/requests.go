package wire

import "teleconsult/models"

// REST request bodies. Each converts to the models input it carries;
// validation happens in the domain, which names fields as these tags do.

// RegisterRequest is POST /auth/register.
type RegisterRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
	Locale   string `json:"locale"`
}

// Input converts the request.
func (r RegisterRequest) Input() models.RegisterInput { return models.RegisterInput(r) }

// ForgotPasswordRequest is POST /auth/password/forgot.
type ForgotPasswordRequest struct {
	Email string `json:"email"`
}

// ResetPasswordRequest is POST /auth/password/reset.
type ResetPasswordRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// Input converts the request.
func (r ResetPasswordRequest) Input() models.ResetPasswordInput { return models.ResetPasswordInput(r) }

// LoginRequest is POST /auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Input converts the request; the edge adds where it comes from.
func (r LoginRequest) Input(clientIP, deviceToken, userAgent string) models.LoginInput {
	return models.LoginInput{Email: r.Email, Password: r.Password, ClientIP: clientIP, DeviceToken: deviceToken, UserAgent: userAgent}
}

// RefreshRequest is POST /auth/refresh and /auth/logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// UpdateProfileRequest is PATCH /me.
type UpdateProfileRequest struct {
	Name     *string `json:"name"`
	TimeZone *string `json:"time_zone"`
	Locale   *string `json:"locale"`
	// EmailNotifications turns notification mails on or off.
	EmailNotifications *bool   `json:"email_notifications"`
	Specialty          *string `json:"specialty"`
	Bio                *string `json:"bio"`
	Password           *string `json:"password"`
	// CurrentPassword must accompany a new password.
	CurrentPassword *string `json:"current_password"`
}

// Input converts the request.
func (r UpdateProfileRequest) Input() models.UpdateProfileInput { return models.UpdateProfileInput(r) }

// CreateUserRequest is POST /admin/users.
type CreateUserRequest struct {
	Email     string      `json:"email"`
	Password  string      `json:"password"`
	Name      string      `json:"name"`
	Role      models.Role `json:"role"`
	TimeZone  string      `json:"time_zone"`
	Locale    string      `json:"locale"`
	Specialty string      `json:"specialty"`
	Bio       string      `json:"bio"`
}

// Input converts the request.
func (r CreateUserRequest) Input() models.CreateUserInput { return models.CreateUserInput(r) }

// AdminUpdateUserRequest is PATCH /admin/users/{id}.
type AdminUpdateUserRequest struct {
	Name      *string      `json:"name"`
	Role      *models.Role `json:"role"`
	Disabled  *bool        `json:"disabled"`
	Specialty *string      `json:"specialty"`
	Bio       *string      `json:"bio"`
	Fee       *Fee         `json:"fee"`
}

// Fee is a price: minor units of an ISO 4217 currency.
type Fee struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Input converts the request.
func (r AdminUpdateUserRequest) Input() models.AdminUpdateUserInput {
	in := models.AdminUpdateUserInput{Name: r.Name, Role: r.Role, Disabled: r.Disabled, Specialty: r.Specialty, Bio: r.Bio}
	if r.Fee != nil {
		in.Fee = &models.Fee{Amount: r.Fee.Amount, Currency: r.Fee.Currency}
	}
	return in
}

// ScheduleRequest is PUT /doctors/me/schedule.
type ScheduleRequest struct {
	TimeZone    string         `json:"time_zone"`
	SlotMinutes int            `json:"slot_minutes"`
	Rules       []ScheduleRule `json:"rules"`
}

// Input converts the request.
func (r ScheduleRequest) Input() models.ScheduleInput {
	in := models.ScheduleInput{TimeZone: r.TimeZone, SlotMinutes: r.SlotMinutes}
	if r.Rules != nil {
		in.Rules = make([]models.ScheduleRule, len(r.Rules))
		for i, x := range r.Rules {
			in.Rules[i] = models.ScheduleRule(x)
		}
	}
	return in
}

// TimeOffRequest is POST /doctors/me/time-off.
type TimeOffRequest struct {
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
	Reason   string `json:"reason"`
}

// Input converts the request.
func (r TimeOffRequest) Input() models.TimeOffInput { return models.TimeOffInput(r) }

// BookRequest is POST /appointments.
type BookRequest struct {
	DoctorID string `json:"doctor_id"`
	StartsAt string `json:"starts_at"`
	Reason   string `json:"reason"`
}

// Input converts the request.
func (r BookRequest) Input() models.BookInput { return models.BookInput(r) }

// CancelRequest is POST /appointments/{id}/cancel.
type CancelRequest struct {
	Reason string `json:"reason"`
}

// Input converts the request.
func (r CancelRequest) Input() models.CancelInput { return models.CancelInput(r) }

// RescheduleRequest is POST /appointments/{id}/reschedule.
type RescheduleRequest struct {
	StartsAt string `json:"starts_at"`
}

// Input converts the request.
func (r RescheduleRequest) Input() models.RescheduleInput { return models.RescheduleInput(r) }

// DiagnosisRequest is POST /appointments/{id}/diagnosis.
type DiagnosisRequest struct {
	Summary      string  `json:"summary"`
	Prescription *string `json:"prescription"`
}

// Input converts the request.
func (r DiagnosisRequest) Input() models.DiagnosisInput { return models.DiagnosisInput(r) }

// AnnouncementRequest is POST /admin/announcements.
type AnnouncementRequest struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	Audience string `json:"audience"`
}

// Input converts the request.
func (r AnnouncementRequest) Input() models.AnnouncementInput { return models.AnnouncementInput(r) }

// Empty is a body-less action's optional body.
type Empty struct{}
