package models

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Chat limits.
const (
	MaxMessageRunes   = 4000
	MaxClientMsgIDLen = 64
	MaxSyncMessages   = 500
)

// Message is one chat line in a consultation room. Seq numbers the messages
// of one appointment densely from 1.
type Message struct {
	ID            string `gorm:"primaryKey"`
	AppointmentID string
	Seq           int64
	SenderID      string
	ClientMsgID   string
	Text          string
	AttachmentID  *string
	CreatedAt     time.Time

	Attachment *Attachment `gorm:"foreignKey:AttachmentID"`
}

// Attachment is a file shared in a consultation room.
type Attachment struct {
	ID            string `gorm:"primaryKey"`
	AppointmentID string
	UploaderID    string
	FileName      string
	ContentType   string
	SizeBytes     int64
	StorageKey    string
	CreatedAt     time.Time
}

// ChatRead is how far a user has read an appointment's chat.
type ChatRead struct {
	AppointmentID string `gorm:"primaryKey"`
	UserID        string `gorm:"primaryKey"`
	Seq           int64
	UpdatedAt     time.Time
}

// Member is a participant of a consultation room.
type Member struct {
	UserID string
	Role   Role
	Name   string
}

// Room is what a participant learns on entering a consultation room.
type Room struct {
	Appointment Appointment
	Members     []Member
	LastSeq     int64
}

// SendInput is a chat message from a client.
type SendInput struct {
	AppointmentID string `json:"appointment_id" validate:"required,max=64"`
	ClientMsgID   string `json:"client_msg_id" validate:"required,max=64,utf8"`
	Text          string `json:"text" validate:"utf8"`
}

// AttachInput is a file upload announced as a chat message.
type AttachInput struct {
	AppointmentID string
	ClientMsgID   string
	FileName      string
	Caption       string
	Body          io.Reader
}

// AllowedAttachmentTypes are the sniffed content types accepted as attachments.
var AllowedAttachmentTypes = map[string]string{
	"image/png":       ".png",
	"image/jpeg":      ".jpg",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"application/pdf": ".pdf",
}

// Chat is the consultation room's message store: who may enter, sending with
// dense sequence numbers, history, sync and read markers.
type Chat struct{ p *Platform }

func newChat(p *Platform) *Chat { return &Chat{p: p} }

var errForbiddenRoom = Errorf(EFORBIDDEN, "you are not a member of this consultation")

// room loads the appointment and checks the actor may enter its room:
// its patient or doctor, and not once cancelled.
func (c *Chat) room(ctx context.Context, actor Actor, appointmentID string) (Appointment, error) {
	a, err := c.p.Appointments.load(ctx, c.p.DB, appointmentID)
	if err != nil {
		return Appointment{}, err
	}
	if !a.IsParticipant(actor.UserID) {
		return Appointment{}, errForbiddenRoom
	}
	if a.Status == StatusCancelled {
		return Appointment{}, Errorf(EFORBIDDEN, "this consultation was cancelled")
	}
	return a, nil
}

// Join returns the room of an appointment for its patient or doctor.
func (c *Chat) Join(ctx context.Context, actor Actor, appointmentID string) (Room, error) {
	a, err := c.room(ctx, actor, appointmentID)
	if err != nil {
		return Room{}, err
	}
	r := Room{Appointment: a, LastSeq: a.LastSeq}
	if a.Patient != nil {
		r.Members = append(r.Members, Member{UserID: a.PatientID, Role: RolePatient, Name: a.Patient.Name})
	}
	if a.Doctor != nil {
		r.Members = append(r.Members, Member{UserID: a.DoctorID, Role: RoleDoctor, Name: a.Doctor.Name})
	}
	return r, nil
}

// CanChat reports why the appointment's chat is closed, or nil when open:
// while booked or in progress, and for the configured window after completion.
func (c *Chat) canChat(a Appointment, now time.Time) error {
	switch a.Status {
	case StatusBooked, StatusInProgress:
		return nil
	case StatusCompleted:
		if a.CompletedAt != nil && now.Before(a.CompletedAt.Add(c.p.Opts.ChatWindowAfterCompletion)) {
			return nil
		}
		return Errorf(EFORBIDDEN, "the chat of this consultation has closed")
	}
	return Errorf(EFORBIDDEN, "the chat is closed for a %s consultation", a.Status)
}

// CleanText trims a message and checks its bounds; it returns EINVALID
// with field details when the text is empty, too long or not UTF-8.
func CleanText(text string, allowEmpty bool) (string, error) {
	if !utf8.ValidString(text) {
		return "", InvalidFields(map[string]any{"text": "must be valid UTF-8"})
	}
	t := strings.TrimSpace(text)
	if t == "" && !allowEmpty {
		return "", InvalidFields(map[string]any{"text": "must not be empty"})
	}
	if utf8.RuneCountInString(t) > MaxMessageRunes {
		return "", InvalidFields(map[string]any{"text": "must be at most 4000 characters"})
	}
	return t, nil
}

// Send stores a message with the next sequence number of its appointment.
// A retry with the same client_msg_id returns the stored message and
// created=false, so a client may resend until it sees an acknowledgement.
func (c *Chat) Send(ctx context.Context, actor Actor, in SendInput) (Message, bool, error) {
	if err := Validate(in); err != nil {
		return Message{}, false, err
	}
	text, err := CleanText(in.Text, false)
	if err != nil {
		return Message{}, false, err
	}
	return c.store(ctx, actor, in.AppointmentID, in.ClientMsgID, text, nil)
}

// existing returns the message a sender already stored under clientMsgID.
func (c *Chat) existing(ctx context.Context, appointmentID, senderID, clientMsgID string) (Message, bool, error) {
	var m Message
	err := c.p.DB.WithContext(ctx).Preload("Attachment").
		Where("appointment_id = ? AND sender_id = ? AND client_msg_id = ?", appointmentID, senderID, clientMsgID).
		Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Message{}, false, nil
	}
	return m, err == nil, err
}

// store writes the message in one transaction: the appointment row's
// last_seq is incremented under its row lock, which serialises the senders
// of one room and leaves no gaps; membership and status are checked under
// that lock too, and a refusal rolls the number back. A retry of a stored
// client_msg_id (the insert hits the unique key) returns the stored message.
func (c *Chat) store(ctx context.Context, actor Actor, appointmentID, clientMsgID, text string, att *Attachment) (Message, bool, error) {
	now := c.p.Opts.Clock.Now().UTC()
	m := Message{ID: uuid.NewString(), AppointmentID: appointmentID, SenderID: actor.UserID, ClientMsgID: clientMsgID, Text: text, CreatedAt: now}
	err := c.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row struct {
			LastSeq     int64
			Status      AppointmentStatus
			CompletedAt *time.Time
			PatientID   string
			DoctorID    string
		}
		res := tx.Raw("UPDATE appointments SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq, status, completed_at, patient_id, doctor_id", appointmentID).Scan(&row)
		if res.Error != nil {
			return res.Error
		}
		a := Appointment{Status: row.Status, CompletedAt: row.CompletedAt, PatientID: row.PatientID, DoctorID: row.DoctorID}
		switch {
		case res.RowsAffected == 0:
			return errNotFound
		case !a.IsParticipant(actor.UserID):
			return errForbiddenRoom
		}
		if err := c.canChat(a, now); err != nil {
			return err
		}
		m.Seq = row.LastSeq
		if att != nil {
			if err := tx.Create(att).Error; err != nil {
				return err
			}
			m.AttachmentID = &att.ID
		}
		return tx.Create(&m).Error
	})
	if err != nil {
		if !errors.Is(err, errNotFound) && !errors.Is(err, errForbiddenRoom) {
			// A retry of a stored message (perhaps after the chat closed).
			if prev, ok, lookErr := c.existing(ctx, appointmentID, actor.UserID, clientMsgID); lookErr == nil && ok {
				return prev, false, nil
			}
		}
		return Message{}, false, err
	}
	m.Attachment = att
	c.p.Events.Publish(ctx, Event{Kind: EventChatMessage, Actor: actor, Message: &m, At: now})
	return m, true, nil
}

// Sync returns up to MaxSyncMessages messages after afterSeq, oldest first:
// what a client missed while it was away.
func (c *Chat) Sync(ctx context.Context, actor Actor, appointmentID string, afterSeq int64) ([]Message, error) {
	if afterSeq < 0 {
		return nil, InvalidFields(map[string]any{"after_seq": "must not be negative"})
	}
	if _, err := c.room(ctx, actor, appointmentID); err != nil {
		return nil, err
	}
	var ms []Message
	err := c.p.DB.WithContext(ctx).Preload("Attachment").
		Where("appointment_id = ? AND seq > ?", appointmentID, afterSeq).
		Order("seq ASC").Limit(MaxSyncMessages).Find(&ms).Error
	return ms, err
}

// HistoryFilter pages back through a room's messages.
type HistoryFilter struct {
	BeforeSeq int64 // 0: from the newest
	Limit     int
}

// History returns messages newest first, before BeforeSeq. Participants may
// read it whatever the status; admins too, audited; anyone else gets ENOTFOUND.
func (c *Chat) History(ctx context.Context, actor Actor, appointmentID string, f HistoryFilter) (Page[Message], error) {
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return Page[Message]{}, err
	}
	if f.BeforeSeq < 0 {
		return Page[Message]{}, InvalidFields(map[string]any{"before_seq": "must not be negative"})
	}
	a, err := c.p.Appointments.load(ctx, c.p.DB, appointmentID)
	if err != nil {
		return Page[Message]{}, err
	}
	switch {
	case actor.IsAdmin():
		c.p.Audit.Record(ctx, c.p.DB, actor, "chat.read", "appointment", appointmentID, nil)
	case !a.IsParticipant(actor.UserID):
		return Page[Message]{}, errNotFound
	}
	q := c.p.DB.WithContext(ctx).Preload("Attachment").Where("appointment_id = ?", appointmentID)
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var ms []Message
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&ms).Error; err != nil {
		return Page[Message]{}, err
	}
	page := Page[Message]{Items: ms}
	if len(ms) > limit {
		page.Items = ms[:limit]
		page.NextCursor = formatSeq(ms[limit-1].Seq)
	}
	return page, nil
}

// MarkRead records that the actor has read up to seq (clamped to the last
// message; it never moves backwards) and returns the stored position.
func (c *Chat) MarkRead(ctx context.Context, actor Actor, appointmentID string, seq int64) (int64, error) {
	if seq < 0 {
		return 0, InvalidFields(map[string]any{"seq": "must not be negative"})
	}
	a, err := c.room(ctx, actor, appointmentID)
	if err != nil {
		return 0, err
	}
	seq = min(seq, a.LastSeq)
	now := c.p.Opts.Clock.Now().UTC()
	var stored int64
	err = c.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r := ChatRead{AppointmentID: appointmentID, UserID: actor.UserID, Seq: seq, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
			return err
		}
		if err := tx.Model(&ChatRead{}).Where("appointment_id = ? AND user_id = ? AND seq < ?", appointmentID, actor.UserID, seq).
			Updates(map[string]any{"seq": seq, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Model(&ChatRead{}).Select("seq").Where("appointment_id = ? AND user_id = ?", appointmentID, actor.UserID).Scan(&stored).Error
	})
	if err != nil {
		return 0, err
	}
	c.p.Events.Publish(ctx, Event{Kind: EventChatRead, Actor: actor, Appointment: &a, UserID: actor.UserID, ReadSeq: stored, At: now})
	return stored, nil
}

// Reads returns every member's read position in a room.
func (c *Chat) Reads(ctx context.Context, actor Actor, appointmentID string) ([]ChatRead, error) {
	if _, err := c.room(ctx, actor, appointmentID); err != nil {
		return nil, err
	}
	var rs []ChatRead
	err := c.p.DB.WithContext(ctx).Where("appointment_id = ?", appointmentID).Order("user_id").Find(&rs).Error
	return rs, err
}

// Attach stores an uploaded file (size-limited, type sniffed and
// allow-listed) and announces it as a chat message in the room.
func (c *Chat) Attach(ctx context.Context, actor Actor, in AttachInput) (Message, bool, error) {
	if in.ClientMsgID == "" {
		in.ClientMsgID = uuid.NewString()
	}
	if len(in.ClientMsgID) > MaxClientMsgIDLen || !utf8.ValidString(in.ClientMsgID) {
		return Message{}, false, InvalidFields(map[string]any{"client_msg_id": "must be 1 to 64 characters"})
	}
	caption, err := CleanText(in.Caption, true)
	if err != nil {
		return Message{}, false, err
	}
	if _, err := c.room(ctx, actor, in.AppointmentID); err != nil {
		return Message{}, false, err
	}
	if m, ok, err := c.existing(ctx, in.AppointmentID, actor.UserID, in.ClientMsgID); err != nil || ok {
		return m, false, err
	}
	if c.p.Opts.Files == nil {
		return Message{}, false, Errorf(EUNAVAILABLE, "attachments are not configured")
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(in.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Message{}, false, err
	}
	head = head[:n]
	if n == 0 {
		return Message{}, false, InvalidFields(map[string]any{"file": "is empty"})
	}
	ctype := http.DetectContentType(head)
	if i := strings.IndexByte(ctype, ';'); i >= 0 {
		ctype = ctype[:i]
	}
	ext, ok := AllowedAttachmentTypes[ctype]
	if !ok {
		return Message{}, false, InvalidFields(map[string]any{"file": "must be an image (PNG, JPEG, GIF, WebP) or a PDF, not " + ctype})
	}
	att := &Attachment{ID: uuid.NewString(), AppointmentID: in.AppointmentID, UploaderID: actor.UserID,
		FileName: cleanFileName(in.FileName, ext), ContentType: ctype, CreatedAt: c.p.Opts.Clock.Now().UTC()}
	att.StorageKey = path.Join("attachments", in.AppointmentID, att.ID)
	limit := c.p.Opts.AttachmentMaxBytes
	body := io.MultiReader(bytes.NewReader(head), in.Body)
	size, err := c.p.Opts.Files.Put(ctx, att.StorageKey, &limitedReader{r: body, left: limit})
	if errors.Is(err, errTooLarge) {
		_ = c.p.Opts.Files.Delete(ctx, att.StorageKey)
		return Message{}, false, Errorf(ETOOLARGE, "attachments are limited to %d bytes", limit)
	}
	if err != nil {
		_ = c.p.Opts.Files.Delete(ctx, att.StorageKey)
		return Message{}, false, err
	}
	att.SizeBytes = size
	text := caption
	if text == "" {
		text = att.FileName
	}
	m, created, err := c.store(ctx, actor, in.AppointmentID, in.ClientMsgID, text, att)
	if err != nil || !created {
		_ = c.p.Opts.Files.Delete(ctx, att.StorageKey)
	}
	return m, created, err
}

// OpenAttachment streams an attachment to a member of its room (or an
// admin, audited); anyone else gets ENOTFOUND.
func (c *Chat) OpenAttachment(ctx context.Context, actor Actor, id string) (Attachment, io.ReadCloser, error) {
	var att Attachment
	err := c.p.DB.WithContext(ctx).Where("id = ?", id).Take(&att).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Attachment{}, nil, Errorf(ENOTFOUND, "attachment not found")
	}
	if err != nil {
		return Attachment{}, nil, err
	}
	a, err := c.p.Appointments.load(ctx, c.p.DB, att.AppointmentID)
	if err != nil {
		return Attachment{}, nil, err
	}
	switch {
	case actor.IsAdmin():
		c.p.Audit.Record(ctx, c.p.DB, actor, "attachment.read", "attachment", id, nil)
	case !a.IsParticipant(actor.UserID):
		return Attachment{}, nil, Errorf(ENOTFOUND, "attachment not found")
	}
	if c.p.Opts.Files == nil {
		return Attachment{}, nil, Errorf(EUNAVAILABLE, "attachments are not configured")
	}
	rc, err := c.p.Opts.Files.Open(ctx, att.StorageKey)
	return att, rc, err
}

var errTooLarge = errors.New("too large")

// limitedReader fails with errTooLarge once more than left bytes are read.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// cleanFileName keeps a safe display name for an upload.
func cleanFileName(name, ext string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." {
		name = "attachment" + ext
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

func formatSeq(n int64) string { return strconv.FormatInt(n, 10) }
