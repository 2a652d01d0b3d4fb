package models

import (
	"context"
	"io"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"teleconsult/token"
)

// Options are the settings and collaborators every service draws on.
type Options struct {
	Clock      Clock
	Log        *slog.Logger
	Hasher     *PasswordHasher
	Issuer     *token.Issuer
	Limiter    AttemptLimiter
	RefreshTTL time.Duration

	// Scheduling.
	MinLeadTime      time.Duration // earliest bookable slot from now
	CancelCutoff     time.Duration // patients cancel/reschedule up to this before start
	StartEarly       time.Duration // how early a doctor may start a consultation
	NoShowAfter      time.Duration // booked and untouched this long after the end becomes no_show
	MaxSlotRangeDays int

	// Chat and attachments.
	ChatWindowAfterCompletion time.Duration
	AttachmentMaxBytes        int64
	Files                     FileStore

	// Notifications and calls.
	ReminderOffsets []time.Duration
	RingTimeout     time.Duration
	CallGrace       time.Duration
	STUNURLs        []string
	TURNURLs        []string
	TURNSecret      string
	TURNTTL         time.Duration
}

// FileStore keeps attachment bytes; a disk directory by default, replaceable
// by an object store.
type FileStore interface {
	// Put stores r under key and returns the number of bytes written.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the bytes stored under key, or ENOTFOUND.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Platform is the one core that every transport (REST, Socket.IO, the
// scheduler) calls: each business operation lives here once.
type Platform struct {
	DB *gorm.DB
	// Dialect is "postgres" or "sqlite".
	Dialect string
	Opts    Options
	Events  *Events

	Audit         *Audit
	Users         *Users
	Auth          *Auth
	Schedules     *Schedules
	Appointments  *Appointments
	Chat          *Chat
	Notifications *Notifications
	Calls         *Calls
}

// NewPlatform builds every service on db.
func NewPlatform(db *gorm.DB, dialect string, opts Options) *Platform {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxSlotRangeDays == 0 {
		opts.MaxSlotRangeDays = 31
	}
	p := &Platform{DB: db, Dialect: dialect, Opts: opts, Events: NewEvents(opts.Log)}
	p.Audit = NewAudit(db, opts.Clock, opts.Log)
	p.Users = NewUsers(db, opts.Hasher, opts.Clock, p.Events, p.Audit)
	p.Auth = NewAuth(db, opts.Issuer, opts.Hasher, opts.Limiter, opts.Clock, opts.RefreshTTL, opts.Log)
	p.Schedules = newSchedules(p)
	p.Appointments = newAppointments(p)
	p.Chat = newChat(p)
	p.Notifications = newNotifications(p)
	p.Calls = newCalls(p)
	return p
}
