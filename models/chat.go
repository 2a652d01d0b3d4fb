package models

import (
	"context"
	"errors"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// Chat limits.
const (
	MaxMessageRunes   = 4000
	MaxClientMsgIDLen = 64
	MaxSyncMessages   = 500
)

// Message is one entry of a consultation room's history. Seq numbers the
// messages of one appointment densely from 1, whatever their kind.
type Message struct {
	ID            string
	AppointmentID string
	Seq           int64
	Kind          MessageKind
	SenderID      string
	ClientMsgID   string
	Text          string
	AttachmentID  *string
	CreatedAt     time.Time

	Attachment *Attachment
	Call       *CallRecord   // Kind == KindCall
	System     *SystemRecord // Kind == KindSystem
}

// KindOf is the message's kind: as recorded, else (a message stored
// before kinds were) an attachment when it carries one, or text.
func (m Message) KindOf() MessageKind {
	switch {
	case m.Kind != "":
		return m.Kind
	case m.AttachmentID != nil || m.Attachment != nil:
		return MessageAttachment
	}
	return MessageText
}

// MessageKind says what a message is.
type MessageKind string

// Message kinds: what a participant wrote or uploaded, and what the room
// itself records (a call that ended, a step of the consultation).
const (
	MessageText       MessageKind = "text"
	MessageAttachment MessageKind = "attachment"
	MessageCall       MessageKind = "call"
	MessageSystem     MessageKind = "system"
)

// SystemRecord is a consultation step recorded in the room.
type SystemRecord struct {
	Event string `json:"event"` // SystemStarted, SystemCompleted or SystemCancelled
}

// System message events.
const (
	SystemStarted   = "started"
	SystemCompleted = "completed"
	SystemCancelled = "cancelled"
)

// SystemEventFor returns the system message a lifecycle action leaves in
// the room, if any.
func SystemEventFor(action Action) (string, bool) {
	switch action {
	case ActionStart:
		return SystemStarted, true
	case ActionComplete:
		return SystemCompleted, true
	case ActionCancel:
		return SystemCancelled, true
	}
	return "", false
}

// Unread is what a participant has not read in a room yet.
type Unread struct {
	AppointmentID string
	Count         int64
	LastMessage   *Message // nil in an empty room
}

// Attachment is a file shared in a consultation room.
type Attachment struct {
	ID            string
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
	AppointmentID string
	UserID        string
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
	Reads       []ChatRead // every member's read position
	Call        *CallState // the call ringing or running in the room, if any
	// AttachmentMaxBytes is the largest file the room accepts (0: none).
	AttachmentMaxBytes int64
}

// SendInput is a chat message from a client.
type SendInput struct {
	AppointmentID string `field:"appointment_id" validate:"required,max=64"`
	ClientMsgID   string `field:"client_msg_id" validate:"required,max=64,utf8"`
	Text          string `field:"text" validate:"utf8"`
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

// CleanText trims a message and checks its bounds; it returns EINVALID
// with field details when the text is empty, too long or not UTF-8.
func CleanText(text string, allowEmpty bool) (string, error) {
	if !utf8.ValidString(text) {
		return "", InvalidFields(map[string]any{"text": "must be valid UTF-8"})
	}
	if strings.ContainsRune(text, 0) {
		return "", InvalidFields(map[string]any{"text": "must not contain NUL characters"})
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

// ErrTooLarge is what a LimitedReader returns past its limit.
var ErrTooLarge = errors.New("too large")

// LimitedReader fails with ErrTooLarge once more than Left bytes are read.
type LimitedReader struct {
	R    io.Reader
	Left int64
}

func (l *LimitedReader) Read(p []byte) (int, error) {
	n, err := l.R.Read(p)
	l.Left -= int64(n)
	if l.Left < 0 {
		return n, ErrTooLarge
	}
	return n, err
}

// CleanFileName keeps a safe display name for an upload.
func CleanFileName(name, ext string) string {
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

// HistoryFilter pages back through a room's messages.
type HistoryFilter struct {
	BeforeSeq int64 // 0: from the newest
	Limit     int
	// Reason is why an admin reads a consultation (break-glass; required
	// from admins, recorded in the audit log).
	Reason string
}

// ChatService is the consultation room's message store: entering, sending
// with dense sequence numbers, history, sync, read markers and attachments.
// Access follows Policy (ENOTFOUND for strangers everywhere).
type ChatService interface {
	// Join returns the room to its patient or doctor. Returns ENOTFOUND,
	// or EFORBIDDEN for admins and cancelled consultations.
	Join(ctx context.Context, actor Actor, appointmentID string) (Room, error)
	// Send stores a message with the next seq of its room; a retry with the
	// same client_msg_id returns the stored message and created=false.
	// Returns EINVALID, ENOTFOUND, or EFORBIDDEN when the chat is closed.
	Send(ctx context.Context, actor Actor, in SendInput) (m Message, created bool, err error)
	// Sync returns up to MaxSyncMessages messages after afterSeq, oldest
	// first. Returns EINVALID, ENOTFOUND or EFORBIDDEN as Join.
	Sync(ctx context.Context, actor Actor, appointmentID string, afterSeq int64) ([]Message, error)
	// History returns messages newest first to participants and admins
	// (audited). Returns EINVALID or ENOTFOUND.
	History(ctx context.Context, actor Actor, appointmentID string, f HistoryFilter) (Page[Message], error)
	// MarkRead moves the actor's read marker forward (clamped to the last
	// message) and returns it. Returns EINVALID, ENOTFOUND or EFORBIDDEN as Join.
	MarkRead(ctx context.Context, actor Actor, appointmentID string, seq int64) (int64, error)
	// Reads returns every member's read marker. Returns what Join returns.
	Reads(ctx context.Context, actor Actor, appointmentID string) ([]ChatRead, error)
	// Unread returns what the actor has not read in a room: the messages
	// of others after their read marker, and the room's last message.
	// Returns ENOTFOUND.
	Unread(ctx context.Context, actor Actor, appointmentID string) (Unread, error)
	// Attach stores an uploaded file (size-limited, type sniffed and
	// allow-listed) as a message. Returns what Send returns, ETOOLARGE, or
	// EUNAVAILABLE when no file store is configured.
	Attach(ctx context.Context, actor Actor, in AttachInput) (Message, bool, error)
	// OpenAttachment streams an attachment to participants and admins
	// (audited). Returns ENOTFOUND.
	OpenAttachment(ctx context.Context, actor Actor, id string) (Attachment, io.ReadCloser, error)
}
