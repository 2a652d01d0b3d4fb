package store

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"teleconsult/models"
)

// Row types: the stored form of each entity. They never leave this
// package; toModel/fromModel convert explicitly.

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	Role         string
	TimeZone     string
	Locale       string `gorm:"default:en"`
	// EmailNotifications is the user's opt-in to notification mails.
	EmailNotifications  bool
	Disabled            bool
	DeletionRequestedAt *time.Time
	AnonymisedAt        *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Doctor              *doctorProfileRow `gorm:"foreignKey:UserID"`
}

func (userRow) TableName() string { return "users" }

func (r userRow) toModel() models.User {
	u := models.User{ID: r.ID, Email: r.Email, Name: r.Name, PasswordHash: r.PasswordHash, Role: models.Role(r.Role),
		TimeZone: r.TimeZone, Locale: r.Locale, EmailNotifications: r.EmailNotifications, Disabled: r.Disabled,
		DeletionRequestedAt: utcPtr(r.DeletionRequestedAt), AnonymisedAt: utcPtr(r.AnonymisedAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Doctor != nil && u.Role == models.RoleDoctor { // a demoted doctor keeps the row, not the profile
		p := r.Doctor.toModel()
		u.Doctor = &p
	}
	return u
}

// party is the user as an appointment shows them.
func (r *userRow) party() *models.Party {
	if r == nil {
		return nil
	}
	p := &models.Party{ID: r.ID, Name: r.Name, TimeZone: r.TimeZone, Locale: r.Locale}
	if r.Doctor != nil {
		p.Specialty = r.Doctor.Specialty
	}
	return p
}

type doctorProfileRow struct {
	UserID      string `gorm:"primaryKey"`
	Specialty   string
	Bio         string
	FeeAmount   int64
	FeeCurrency string `gorm:"default:EUR"`
	UpdatedAt   time.Time
}

func (doctorProfileRow) TableName() string { return "doctor_profiles" }

func (r doctorProfileRow) toModel() models.DoctorProfile {
	return models.DoctorProfile{UserID: r.UserID, Specialty: r.Specialty, Bio: r.Bio, Fee: models.Fee{Amount: r.FeeAmount, Currency: r.FeeCurrency},
		UpdatedAt: r.UpdatedAt.UTC()}
}

type refreshTokenRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	FamilyID  string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
	UserAgent string
	IP        string
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

type auditRow struct {
	ID         string `gorm:"primaryKey"`
	ActorID    string
	ActorRole  string
	Action     string
	TargetType string
	TargetID   string
	RequestID  string
	Details    *string
	CreatedAt  time.Time
}

func (auditRow) TableName() string { return "audit_entries" }

func (r auditRow) toModel() models.AuditEntry {
	e := models.AuditEntry{ID: r.ID, ActorID: r.ActorID, ActorRole: models.Role(r.ActorRole), Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, RequestID: r.RequestID, CreatedAt: r.CreatedAt.UTC()}
	if r.Details != nil {
		e.Details = models.DecodeData(*r.Details)
	}
	return e
}

type scheduleRow struct {
	DoctorID    string `gorm:"primaryKey"`
	TimeZone    string
	SlotMinutes int
	Rules       string
	UpdatedAt   time.Time
}

func (scheduleRow) TableName() string { return "schedules" }

type timeOffRow struct {
	ID        string `gorm:"primaryKey"`
	DoctorID  string
	StartsAt  time.Time
	EndsAt    time.Time
	Reason    string
	CreatedAt time.Time
}

func (timeOffRow) TableName() string { return "time_offs" }

func (r timeOffRow) toModel() models.TimeOff {
	return models.TimeOff{ID: r.ID, DoctorID: r.DoctorID, StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(), Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()}
}

type appointmentRow struct {
	ID                    string `gorm:"primaryKey"`
	DoctorID              string
	PatientID             string
	StartsAt              time.Time
	EndsAt                time.Time
	Status                string
	Reason                string
	CancelReason          string
	CancelledBy           string
	LastSeq               int64
	DiagnosisSummary      *string
	DiagnosisPrescription *string
	DiagnosedAt           *time.Time
	DiagnosisUpdatedAt    *time.Time
	StartedAt             *time.Time
	CompletedAt           *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time

	Doctor  *userRow    `gorm:"foreignKey:DoctorID"`
	Patient *userRow    `gorm:"foreignKey:PatientID"`
	Payment *paymentRow `gorm:"foreignKey:AppointmentID"`
}

func (appointmentRow) TableName() string { return "appointments" }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r appointmentRow) toModel() models.Appointment {
	return models.Appointment{ID: r.ID, DoctorID: r.DoctorID, PatientID: r.PatientID, StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(),
		Status: models.AppointmentStatus(r.Status), Reason: r.Reason, CancelReason: r.CancelReason, CancelledBy: r.CancelledBy,
		LastSeq: r.LastSeq, DiagnosisSummary: r.DiagnosisSummary, DiagnosisPrescription: r.DiagnosisPrescription,
		DiagnosedAt: utcPtr(r.DiagnosedAt), DiagnosisUpdatedAt: utcPtr(r.DiagnosisUpdatedAt), StartedAt: utcPtr(r.StartedAt),
		CompletedAt: utcPtr(r.CompletedAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Doctor: r.Doctor.party(), Patient: r.Patient.party(), Payment: r.Payment.toModel()}
}

func appointmentFromModel(a models.Appointment) appointmentRow {
	return appointmentRow{ID: a.ID, DoctorID: a.DoctorID, PatientID: a.PatientID, StartsAt: a.StartsAt, EndsAt: a.EndsAt,
		Status: string(a.Status), Reason: a.Reason, CancelReason: a.CancelReason, CancelledBy: a.CancelledBy, LastSeq: a.LastSeq,
		DiagnosisSummary: a.DiagnosisSummary, DiagnosisPrescription: a.DiagnosisPrescription, DiagnosedAt: a.DiagnosedAt,
		DiagnosisUpdatedAt: a.DiagnosisUpdatedAt, StartedAt: a.StartedAt, CompletedAt: a.CompletedAt,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

type attachmentRow struct {
	ID            string `gorm:"primaryKey"`
	AppointmentID string
	UploaderID    string
	FileName      string
	ContentType   string
	SizeBytes     int64
	StorageKey    string
	CreatedAt     time.Time
}

func (attachmentRow) TableName() string { return "attachments" }

func (r *attachmentRow) toModel() *models.Attachment {
	if r == nil {
		return nil
	}
	return &models.Attachment{ID: r.ID, AppointmentID: r.AppointmentID, UploaderID: r.UploaderID, FileName: r.FileName,
		ContentType: r.ContentType, SizeBytes: r.SizeBytes, StorageKey: r.StorageKey, CreatedAt: r.CreatedAt.UTC()}
}

func attachmentFromModel(a models.Attachment) attachmentRow {
	return attachmentRow{ID: a.ID, AppointmentID: a.AppointmentID, UploaderID: a.UploaderID, FileName: a.FileName,
		ContentType: a.ContentType, SizeBytes: a.SizeBytes, StorageKey: a.StorageKey, CreatedAt: a.CreatedAt}
}

type messageRow struct {
	ID            string `gorm:"primaryKey"`
	AppointmentID string
	Seq           int64
	SenderID      string
	ClientMsgID   string
	Text          string
	AttachmentID  *string
	Kind          string `gorm:"default:text"`
	Meta          string // JSON: the call or system record
	CreatedAt     time.Time

	Attachment *attachmentRow `gorm:"foreignKey:AttachmentID"`
}

func (messageRow) TableName() string { return "messages" }

func (r messageRow) toModel() models.Message {
	m := models.Message{ID: r.ID, AppointmentID: r.AppointmentID, Seq: r.Seq, Kind: models.MessageKind(r.Kind), SenderID: r.SenderID,
		ClientMsgID: r.ClientMsgID, Text: r.Text, AttachmentID: r.AttachmentID, CreatedAt: r.CreatedAt.UTC(), Attachment: r.Attachment.toModel()}
	m.Kind = m.KindOf()
	switch {
	case m.Kind == models.MessageCall && r.Meta != "":
		m.Call = new(models.CallRecord)
		if json.Unmarshal([]byte(r.Meta), m.Call) != nil {
			m.Call = nil
		}
	case m.Kind == models.MessageSystem && r.Meta != "":
		m.System = new(models.SystemRecord)
		if json.Unmarshal([]byte(r.Meta), m.System) != nil {
			m.System = nil
		}
	}
	return m
}

// recordRow is a message the room records itself: a call that ended or a
// consultation step, sent in the name of senderID. Its client_msg_id is
// derived from what it records, so that recording it twice stores it once.
func recordRow(appointmentID, senderID string, now time.Time, call *models.CallRecord, system *models.SystemRecord) messageRow {
	m := messageRow{ID: uuid.NewString(), AppointmentID: appointmentID, SenderID: senderID, CreatedAt: now.UTC()}
	var meta []byte
	if call != nil {
		m.Kind, m.ClientMsgID = string(models.MessageCall), "call:"+call.CallID
		meta, _ = json.Marshal(call)
	} else {
		m.Kind, m.ClientMsgID = string(models.MessageSystem), "system:"+system.Event
		meta, _ = json.Marshal(system)
	}
	m.Meta = string(meta)
	return m
}

func messagesToModel(rs []messageRow) []models.Message {
	out := make([]models.Message, len(rs))
	for i, r := range rs {
		out[i] = r.toModel()
	}
	return out
}

type chatReadRow struct {
	AppointmentID string `gorm:"primaryKey"`
	UserID        string `gorm:"primaryKey"`
	Seq           int64
	UpdatedAt     time.Time
}

func (chatReadRow) TableName() string { return "chat_reads" }

type notificationRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Kind      string
	Title     string
	Body      string
	Data      string
	ReadAt    *time.Time
	CreatedAt time.Time
	DedupeKey *string
	// MailState is "" (not mailed), pending, sending, sent or failed.
	MailState    string
	MailAttempts int
	MailAfter    *time.Time
}

func (notificationRow) TableName() string { return "notifications" }

func (r notificationRow) toModel() models.Notification {
	n := models.Notification{ID: r.ID, UserID: r.UserID, Kind: models.NotificationKind(r.Kind), Title: r.Title, Body: r.Body,
		Data: models.DecodeData(r.Data), ReadAt: utcPtr(r.ReadAt), CreatedAt: r.CreatedAt.UTC()}
	if r.DedupeKey != nil {
		n.Key = *r.DedupeKey
	}
	return n
}

func notificationFromModel(n models.Notification) notificationRow {
	r := notificationRow{ID: n.ID, UserID: n.UserID, Kind: string(n.Kind), Title: n.Title, Body: n.Body,
		Data: models.EncodeData(n.Data), ReadAt: n.ReadAt, CreatedAt: n.CreatedAt}
	if n.Key != "" {
		k := n.Key
		r.DedupeKey = &k
	}
	return r
}

type reminderClaimRow struct {
	AppointmentID string `gorm:"primaryKey"`
	OffsetSeconds int64  `gorm:"primaryKey"`
	ClaimedAt     time.Time
}

func (reminderClaimRow) TableName() string { return "reminder_claims" }

type callStateRow struct {
	AppointmentID string `gorm:"primaryKey"`
	CallID        string
	State         string
	CallerID      string
	Media         string
	RingDeadline  time.Time
	AcceptedAt    *time.Time
	UpdatedAt     time.Time
}

func (callStateRow) TableName() string { return "call_states" }

func (r callStateRow) toModel() models.CallState {
	return models.CallState{AppointmentID: r.AppointmentID, CallID: r.CallID, State: r.State, CallerID: r.CallerID,
		Media: r.Media, RingDeadline: r.RingDeadline.UTC(), AcceptedAt: utcPtr(r.AcceptedAt), UpdatedAt: r.UpdatedAt.UTC()}
}

type outboxRow struct {
	ID          string `gorm:"primaryKey"`
	Kind        string
	Payload     string
	CreatedAt   time.Time
	AvailableAt time.Time
	Attempts    int
	ClaimedBy   *string
	DoneAt      *time.Time
	LastError   *string
}

func (outboxRow) TableName() string { return "outbox_events" }
