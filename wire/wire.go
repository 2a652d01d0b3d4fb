// Package wire holds every JSON shape of the public contract: REST request
// and response bodies and Socket.IO event payloads and acknowledgements.
// The api and realtime packages decode into these and encode from them;
// domain types never reach JSON directly.
package wire

import (
	"time"

	"teleconsult/models"
)

// List is every list's shape.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// NewList converts a page with f.
func NewList[M, T any](p models.Page[M], f func(M) T) List[T] {
	out := List[T]{Items: make([]T, len(p.Items))}
	for i, m := range p.Items {
		out.Items[i] = f(m)
	}
	if p.NextCursor != "" {
		c := p.NextCursor
		out.NextCursor = &c
	}
	return out
}

// ListOf wraps a complete slice as a list without a next page.
func ListOf[M, T any](items []M, f func(M) T) List[T] {
	return NewList(models.Page[M]{Items: items}, f)
}

// Error is the error body of REST answers and failed acks.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// ErrorBody is a REST error answer.
type ErrorBody struct {
	Error Error `json:"error"`
}

// User is an account as its owner and admins see it.
type User struct {
	ID       string      `json:"id"`
	Email    string      `json:"email"`
	Name     string      `json:"name"`
	Role     models.Role `json:"role"`
	TimeZone string      `json:"time_zone"`
	Locale   string      `json:"locale"`
	// EmailNotifications: notifications also go out by mail.
	EmailNotifications bool `json:"email_notifications"`
	Disabled           bool `json:"disabled"`
	// DeletionRequestedAt: the user asked for their account to be deleted.
	DeletionRequestedAt *time.Time     `json:"deletion_requested_at"`
	AnonymisedAt        *time.Time     `json:"anonymised_at"`
	CreatedAt           time.Time      `json:"created_at"`
	Doctor              *DoctorProfile `json:"doctor"`
}

// DoctorProfile is a doctor's specialty and bio.
type DoctorProfile struct {
	Specialty string `json:"specialty"`
	Bio       string `json:"bio"`
	Fee       Fee    `json:"fee"`
}

// NewUser shapes a user.
func NewUser(u models.User) User {
	d := User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, TimeZone: u.TimeZone, Locale: models.LocaleOr(u.Locale), EmailNotifications: u.EmailNotifications, Disabled: u.Disabled,
		DeletionRequestedAt: u.DeletionRequestedAt, AnonymisedAt: u.AnonymisedAt, CreatedAt: u.CreatedAt.UTC()}
	if u.Doctor != nil {
		d.Doctor = &DoctorProfile{Specialty: u.Doctor.Specialty, Bio: u.Doctor.Bio, Fee: Fee{Amount: u.Doctor.Fee.Amount, Currency: u.Doctor.Fee.Currency}}
	}
	return d
}

// UserEnvelope is `{user}`.
type UserEnvelope struct {
	User User `json:"user"`
}

// Session is the answer of login and refresh.
type Session struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	User         User   `json:"user"`
}

// NewSession shapes a session.
func NewSession(s models.Session) Session {
	return Session{AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, TokenType: "Bearer",
		ExpiresIn: int(s.ExpiresIn.Seconds()), User: NewUser(s.User)}
}

// SignInSession is one of the caller's sessions (a device).
type SignInSession struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// NewSignInSession shapes a session.
func NewSignInSession(s models.SignInSession) SignInSession { return SignInSession(s) }

// Doctor is a doctor's public profile.
type Doctor struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Specialty   string `json:"specialty"`
	Bio         string `json:"bio"`
	Fee         Fee    `json:"fee"`
	TimeZone    string `json:"time_zone"`
	SlotMinutes int    `json:"slot_minutes"`
}

// NewDoctor shapes a doctor.
func NewDoctor(d models.Doctor) Doctor {
	out := Doctor{ID: d.ID, Name: d.Name, TimeZone: d.ScheduleTimeZone, SlotMinutes: d.SlotMinutes}
	if d.User.Doctor != nil {
		out.Specialty, out.Bio = d.User.Doctor.Specialty, d.User.Doctor.Bio
		out.Fee = Fee{Amount: d.User.Doctor.Fee.Amount, Currency: d.User.Doctor.Fee.Currency}
	}
	return out
}

// Slot is a bookable interval.
type Slot struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// NewSlot shapes a slot.
func NewSlot(s models.Slot) Slot { return Slot{StartsAt: s.StartsAt, EndsAt: s.EndsAt} }

// ScheduleRule is one weekly opening.
type ScheduleRule struct {
	Weekday int    `json:"weekday"`
	Start   string `json:"start"`
	End     string `json:"end"`
}

// Schedule is a doctor's weekly availability.
type Schedule struct {
	TimeZone                 string         `json:"time_zone"`
	SlotMinutes              int            `json:"slot_minutes"`
	Rules                    []ScheduleRule `json:"rules"`
	UpdatedAt                *time.Time     `json:"updated_at,omitempty"`
	AppointmentsOutsideHours *int           `json:"appointments_outside_hours,omitempty"`
}

// NewSchedule shapes a schedule.
func NewSchedule(sc models.Schedule) Schedule {
	u := sc.UpdatedAt.UTC()
	out := Schedule{TimeZone: sc.TimeZone, SlotMinutes: sc.SlotMinutes, Rules: make([]ScheduleRule, len(sc.Rules)), UpdatedAt: &u}
	for i, r := range sc.Rules {
		out.Rules[i] = ScheduleRule(r)
	}
	return out
}

// TimeOff is a range without bookings.
type TimeOff struct {
	ID       string    `json:"id"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Reason   string    `json:"reason"`
}

// NewTimeOff shapes a time-off range.
func NewTimeOff(t models.TimeOff) TimeOff {
	return TimeOff{ID: t.ID, StartsAt: t.StartsAt.UTC(), EndsAt: t.EndsAt.UTC(), Reason: t.Reason}
}

// Person is a doctor or patient as others see them.
type Person struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Specialty string `json:"specialty,omitempty"`
}

// Diagnosis is a consultation's outcome.
type Diagnosis struct {
	Summary      string    `json:"summary"`
	Prescription *string   `json:"prescription"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Appointment is one appointment (and consultation room).
type Appointment struct {
	ID           string                   `json:"id"`
	DoctorID     string                   `json:"doctor_id"`
	PatientID    string                   `json:"patient_id"`
	Doctor       *Person                  `json:"doctor"`
	Patient      *Person                  `json:"patient"`
	StartsAt     time.Time                `json:"starts_at"`
	EndsAt       time.Time                `json:"ends_at"`
	Status       models.AppointmentStatus `json:"status"`
	Reason       string                   `json:"reason"`
	CancelReason string                   `json:"cancel_reason"`
	Diagnosis    *Diagnosis               `json:"diagnosis"`
	LastSeq      int64                    `json:"last_seq"`
	CreatedAt    time.Time                `json:"created_at"`
	UpdatedAt    time.Time                `json:"updated_at"`
	// Payment is set for a paid booking.
	Payment *Payment `json:"payment,omitempty"`
}

// Payment is what a patient pays for an appointment; its receipt.
type Payment struct {
	ID            string               `json:"id"`
	AppointmentID string               `json:"appointment_id"`
	Provider      string               `json:"provider"`
	ProviderRef   string               `json:"provider_ref"`
	Status        models.PaymentStatus `json:"status"`
	// Amount and RefundedAmount are in the currency's minor units.
	Amount         int64      `json:"amount"`
	Currency       string     `json:"currency"`
	ClientSecret   string     `json:"client_secret,omitempty"`
	ExpiresAt      time.Time  `json:"expires_at"`
	PaidAt         *time.Time `json:"paid_at"`
	RefundedAmount int64      `json:"refunded_amount"`
	RefundedAt     *time.Time `json:"refunded_at"`
	FailureReason  string     `json:"failure_reason,omitempty"`
	ReceiptNumber  string     `json:"receipt_number"`
	CreatedAt      time.Time  `json:"created_at"`
}

// PaymentItem is a listed payment with its appointment's time and people.
type PaymentItem struct {
	Payment
	StartsAt *time.Time `json:"starts_at,omitempty"`
	Doctor   *Person    `json:"doctor,omitempty"`
	Patient  *Person    `json:"patient,omitempty"`
}

// NewPayment shapes a payment.
func NewPayment(p models.Payment) Payment {
	return Payment{ID: p.ID, AppointmentID: p.AppointmentID, Provider: p.Provider, ProviderRef: p.ProviderRef, Status: p.Status,
		Amount: p.Amount, Currency: p.Currency, ClientSecret: p.ClientSecret, ExpiresAt: p.ExpiresAt.UTC(), PaidAt: utc(p.PaidAt),
		RefundedAmount: p.RefundedAmount, RefundedAt: utc(p.RefundedAt), FailureReason: p.FailureReason, ReceiptNumber: p.ReceiptNumber(),
		CreatedAt: p.CreatedAt.UTC()}
}

// NewPaymentItem shapes a listed payment.
func NewPaymentItem(p models.Payment) PaymentItem {
	it := PaymentItem{Payment: NewPayment(p)}
	if !p.StartsAt.IsZero() {
		t := p.StartsAt.UTC()
		it.StartsAt = &t
	}
	if p.Doctor != nil {
		it.Doctor = &Person{ID: p.Doctor.ID, Name: p.Doctor.Name, Specialty: p.Doctor.Specialty}
	}
	if p.Patient != nil {
		it.Patient = &Person{ID: p.Patient.ID, Name: p.Patient.Name}
	}
	return it
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// PaymentConfig tells the web app how bookings are paid.
type PaymentConfig struct {
	// Provider is "stripe", or "none" (paid at the clinic).
	Provider       string `json:"provider"`
	PublishableKey string `json:"publishable_key"`
	HoldSeconds    int64  `json:"hold_seconds"`
}

// AppointmentItem is an appointment in a list, with the viewer's unread
// state of its room.
type AppointmentItem struct {
	Appointment
	UnreadCount int64        `json:"unread_count"`
	LastMessage *LastMessage `json:"last_message"`
}

// NewAppointmentItem shapes a listed appointment.
func NewAppointmentItem(a models.Appointment) AppointmentItem {
	it := AppointmentItem{Appointment: NewAppointment(a)}
	if u := a.Unread; u != nil {
		it.UnreadCount, it.LastMessage = u.Count, NewLastMessage(u.LastMessage)
	}
	return it
}

// NewAppointment shapes an appointment for clients.
func NewAppointment(a models.Appointment) Appointment {
	d := Appointment{ID: a.ID, DoctorID: a.DoctorID, PatientID: a.PatientID, StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC(),
		Status: a.Status, Reason: a.Reason, CancelReason: a.CancelReason, LastSeq: a.LastSeq,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.Doctor != nil {
		d.Doctor = &Person{ID: a.Doctor.ID, Name: a.Doctor.Name, Specialty: a.Doctor.Specialty}
	}
	if a.Patient != nil {
		d.Patient = &Person{ID: a.Patient.ID, Name: a.Patient.Name}
	}
	if a.Payment != nil {
		p := NewPayment(*a.Payment)
		d.Payment = &p
	}
	if a.DiagnosisSummary != nil {
		d.Diagnosis = &Diagnosis{Summary: *a.DiagnosisSummary, Prescription: a.DiagnosisPrescription}
		if a.DiagnosedAt != nil {
			d.Diagnosis.CreatedAt = a.DiagnosedAt.UTC()
		}
		if a.DiagnosisUpdatedAt != nil {
			d.Diagnosis.UpdatedAt = a.DiagnosisUpdatedAt.UTC()
		}
	}
	return d
}

// Attachment is a file shared in a room; URL streams it to members.
type Attachment struct {
	ID          string `json:"id"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// Message is one chat message.
type Message struct {
	ID            string               `json:"id"`
	AppointmentID string               `json:"appointment_id"`
	Seq           int64                `json:"seq"`
	Kind          string               `json:"kind"`
	SenderID      string               `json:"sender_id"`
	Text          string               `json:"text"`
	Attachment    *Attachment          `json:"attachment"`
	Call          *models.CallRecord   `json:"call,omitempty"`
	System        *models.SystemRecord `json:"system,omitempty"`
	ClientMsgID   string               `json:"client_msg_id"`
	CreatedAt     time.Time            `json:"created_at"`
}

// NewMessage shapes a message for clients.
func NewMessage(m models.Message) Message {
	out := Message{ID: m.ID, AppointmentID: m.AppointmentID, Seq: m.Seq, Kind: string(m.KindOf()), SenderID: m.SenderID, Text: m.Text,
		Call: m.Call, System: m.System, ClientMsgID: m.ClientMsgID, CreatedAt: m.CreatedAt.UTC()}
	if a := m.Attachment; a != nil {
		out.Attachment = &Attachment{ID: a.ID, FileName: a.FileName, ContentType: a.ContentType, Size: a.SizeBytes,
			URL: "/api/v1/attachments/" + a.ID}
	}
	return out
}

// LastMessage is the newest message of a room, as lists show it.
type LastMessage struct {
	Seq       int64                `json:"seq"`
	Kind      string               `json:"kind"`
	SenderID  string               `json:"sender_id"`
	Text      string               `json:"text"`
	Call      *models.CallRecord   `json:"call,omitempty"`
	System    *models.SystemRecord `json:"system,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
}

// NewLastMessage shapes a room's last message (nil for an empty room).
func NewLastMessage(m *models.Message) *LastMessage {
	if m == nil {
		return nil
	}
	w := NewMessage(*m)
	return &LastMessage{Seq: w.Seq, Kind: w.Kind, SenderID: w.SenderID, Text: w.Text, Call: w.Call, System: w.System, CreatedAt: w.CreatedAt}
}

// Unread is chat:unread: what a participant has not read in a room.
type Unread struct {
	AppointmentID string       `json:"appointment_id"`
	UnreadCount   int64        `json:"unread_count"`
	LastMessage   *LastMessage `json:"last_message"`
}

// NewUnread shapes chat:unread.
func NewUnread(u models.Unread) Unread {
	return Unread{AppointmentID: u.AppointmentID, UnreadCount: u.Count, LastMessage: NewLastMessage(u.LastMessage)}
}

// NewMessages shapes a list of messages.
func NewMessages(ms []models.Message) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, NewMessage(m))
	}
	return out
}

// Notification is one stored notification.
type Notification struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Title     string         `json:"title"`
	Body      string         `json:"body"`
	Data      map[string]any `json:"data"`
	ReadAt    *time.Time     `json:"read_at"`
	CreatedAt time.Time      `json:"created_at"`
}

// NewNotification shapes a notification for clients.
func NewNotification(n models.Notification) Notification {
	data := n.Data
	if data == nil {
		data = map[string]any{}
	}
	out := Notification{ID: n.ID, Kind: string(n.Kind), Title: n.Title, Body: n.Body, Data: data, CreatedAt: n.CreatedAt.UTC()}
	if n.ReadAt != nil {
		t := n.ReadAt.UTC()
		out.ReadAt = &t
	}
	return out
}

// UnreadCount answers GET /notifications/unread-count.
type UnreadCount struct {
	Count int64 `json:"count"`
}

// Recipients answers an announcement.
type Recipients struct {
	Recipients int `json:"recipients"`
}

// AuditEntry is one audit log line.
type AuditEntry struct {
	ID         string      `json:"id"`
	ActorID    string      `json:"actor_id"`
	ActorRole  models.Role `json:"actor_role"`
	Action     string      `json:"action"`
	TargetType string      `json:"target_type"`
	TargetID   string      `json:"target_id"`
	RequestID  string      `json:"request_id"`
	Details    any         `json:"details"`
	CreatedAt  time.Time   `json:"created_at"`
}

// NewAuditEntry shapes an audit entry.
func NewAuditEntry(e models.AuditEntry) AuditEntry {
	d := AuditEntry{ID: e.ID, ActorID: e.ActorID, ActorRole: e.ActorRole, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, RequestID: e.RequestID, CreatedAt: e.CreatedAt.UTC()}
	if e.Details != nil {
		d.Details = e.Details
	}
	return d
}

// Stats is the admin's overview.
type Stats struct {
	Users         map[models.Role]int64              `json:"users"`
	Appointments  map[models.AppointmentStatus]int64 `json:"appointments"`
	SocketsOnline int                                `json:"sockets_online"`
	MessagesToday int64                              `json:"messages_today"`
	// The last 30 days (UTC), oldest first.
	AppointmentsByDay []DayStatuses `json:"appointments_by_day"`
	MessagesByDay     []DayCount    `json:"messages_by_day"`
	// Money in minor units: per currency and day, and all-time totals.
	PaymentsByDay []PaymentDay   `json:"payments_by_day"`
	PaymentTotals []PaymentTotal `json:"payment_totals"`
}

// PaymentDay is one day's payments in one currency.
type PaymentDay struct {
	Date     string `json:"date"`
	Currency string `json:"currency"`
	Count    int64  `json:"count"`
	Paid     int64  `json:"paid"`
	Refunded int64  `json:"refunded"`
}

// PaymentTotal is all the payments in one currency.
type PaymentTotal struct {
	Currency string `json:"currency"`
	Count    int64  `json:"count"`
	Paid     int64  `json:"paid"`
	Refunded int64  `json:"refunded"`
}

// DayStatuses is one day's appointments, by status.
type DayStatuses struct {
	Date     string                             `json:"date"`
	Total    int64                              `json:"total"`
	ByStatus map[models.AppointmentStatus]int64 `json:"by_status"`
}

// DayCount is one day's messages.
type DayCount struct {
	Date  string `json:"date"`
	Count int64  `json:"count"`
}

// NewStats shapes the admin's overview.
func NewStats(st models.Stats, socketsOnline int) Stats {
	out := Stats{Users: st.UsersByRole, Appointments: st.AppointmentsByStatus, MessagesToday: st.MessagesToday, SocketsOnline: socketsOnline,
		AppointmentsByDay: make([]DayStatuses, 0, len(st.AppointmentsByDay)), MessagesByDay: make([]DayCount, 0, len(st.MessagesByDay))}
	for _, d := range st.AppointmentsByDay {
		out.AppointmentsByDay = append(out.AppointmentsByDay, DayStatuses{Date: d.Date, Total: d.Total, ByStatus: d.ByStatus})
	}
	for _, d := range st.MessagesByDay {
		out.MessagesByDay = append(out.MessagesByDay, DayCount{Date: d.Date, Count: d.Count})
	}
	out.PaymentsByDay, out.PaymentTotals = make([]PaymentDay, 0, len(st.PaymentsByDay)), make([]PaymentTotal, 0, len(st.PaymentTotals))
	for _, d := range st.PaymentsByDay {
		out.PaymentsByDay = append(out.PaymentsByDay, PaymentDay(d))
	}
	for _, t := range st.PaymentTotals {
		out.PaymentTotals = append(out.PaymentTotals, PaymentTotal(t))
	}
	return out
}

// ICEServer is one STUN or TURN server.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEServers answers GET /rtc/ice-servers.
type ICEServers struct {
	ICEServers []ICEServer `json:"ice_servers"`
	TTL        int64       `json:"ttl"`
}

// NewICEServers shapes the ICE servers.
func NewICEServers(servers []models.ICEServer, ttl time.Duration) ICEServers {
	out := ICEServers{ICEServers: make([]ICEServer, 0, len(servers)), TTL: int64(ttl.Seconds())}
	for _, s := range servers {
		out.ICEServers = append(out.ICEServers, ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// Health answers /healthz and /readyz.
type Health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// Export is GET /me/export: everything stored about the caller.
type Export struct {
	ExportedAt    time.Time      `json:"exported_at"`
	User          User           `json:"user"`
	Appointments  []Appointment  `json:"appointments"`
	Messages      []Message      `json:"messages"`
	Notifications []Notification `json:"notifications"`
}

// NewExport shapes an export.
func NewExport(x models.Export) Export {
	out := Export{ExportedAt: x.ExportedAt, User: NewUser(x.User), Appointments: []Appointment{}, Messages: NewMessages(x.Messages),
		Notifications: []Notification{}}
	for _, a := range x.Appointments {
		out.Appointments = append(out.Appointments, NewAppointment(a))
	}
	for _, n := range x.Notifications {
		out.Notifications = append(out.Notifications, NewNotification(n))
	}
	return out
}

// Announcement is one sent announcement, as the history lists it.
type Announcement struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Audience   string    `json:"audience"`
	Recipients int64     `json:"recipients"`
	ActorID    string    `json:"actor_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewAnnouncement shapes an announcement from its audit entry.
func NewAnnouncement(e models.AuditEntry) Announcement {
	str := func(k string) string { v, _ := e.Details[k].(string); return v }
	var n int64
	switch v := e.Details["recipients"].(type) {
	case float64:
		n = int64(v)
	case int64:
		n = v
	}
	return Announcement{ID: e.ID, Title: str("title"), Body: str("body"), Audience: str("audience"), Recipients: n, ActorID: e.ActorID, CreatedAt: e.CreatedAt.UTC()}
}
