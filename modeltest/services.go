package modeltest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/database"
	"teleconsult/mail"
	"teleconsult/models"
	"teleconsult/models/store"
	"teleconsult/password"
	"teleconsult/ratelimit"
	"teleconsult/token"
)

// Clock is a settable clock for tests. The zero value reads the real time
// until Set is called.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the set time, or the real time when none was set.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now().UTC()
	}
	return c.now
}

// Set fixes the time.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// Advance moves a set time forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		c.now = time.Now().UTC()
	}
	c.now = c.now.Add(d)
}

// TestPassword is the password MustUser gives every user.
const TestPassword = "correct-horse-battery-9"

// TestSecret signs test tokens.
const TestSecret = "test-secret-that-is-long-enough-0123456789"

// NewIssuer returns a token issuer on TestSecret reading clock.
func NewIssuer(t testing.TB, clock models.Clock, ttl time.Duration) *token.Issuer {
	t.Helper()
	iss, err := token.NewIssuer(TestSecret, nil, "teleconsult", "teleconsult-api", ttl, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// Options are the settings and collaborators the services are built with.
type Options struct {
	Clock              *Clock
	Hasher             models.PasswordHasher
	Issuer             *token.Issuer
	Limiter            models.AttemptLimiter
	RefreshTTL         time.Duration
	Policy             models.Policy
	AttachmentMaxBytes int64
	Files              models.FileStore
	ReminderOffsets    []time.Duration
	RingTimeout        time.Duration
	CallGrace          time.Duration
	ICE                models.ICEConfig
	// Mailer sends the services' mail (nil: into a discarded log).
	Mailer models.Mailer
	// Payments takes paid bookings' fees (nil: paid at the clinic);
	// PaymentHold is how long they hold their slot unpaid.
	Payments    models.PaymentProvider
	PaymentHold time.Duration
}

// DefaultOptions returns production-like options for tests: a settable
// clock, cheap password hashing, an in-memory login limiter (5 failures per
// 15 minutes) and no file store.
func DefaultOptions(t testing.TB, clock *Clock) Options {
	t.Helper()
	if clock == nil {
		clock = &Clock{}
	}
	return Options{
		Clock:      clock,
		Hasher:     password.New(password.FastParams),
		Issuer:     NewIssuer(t, clock, 15*time.Minute),
		Limiter:    ratelimit.NewMemory(),
		RefreshTTL: 30 * 24 * time.Hour,
		Policy: models.Policy{CancelCutoff: 2 * time.Hour, StartEarly: 15 * time.Minute, NoShowAfter: 30 * time.Minute,
			ChatWindow: 72 * time.Hour},
		AttachmentMaxBytes: 10 << 20,
		ReminderOffsets:    []time.Duration{24 * time.Hour, 15 * time.Minute},
		RingTimeout:        45 * time.Second,
		CallGrace:          20 * time.Second,
		ICE:                models.ICEConfig{TURNSecret: "turn-secret", TURNURLs: []string{"turn:127.0.0.1:3478"}, TURNTTL: time.Hour},
	}
}

// Services is every service of the store built on one database, the way
// cmd/teleconsult builds them.
type Services struct {
	DB      *gorm.DB
	Dialect string
	Opts    Options

	Outbox        *store.Outbox
	Audit         *store.Audit
	Users         *store.Users
	Auth          *store.Auth
	Schedules     *store.Schedules
	Appointments  *store.Appointments
	Chat          *store.Chat
	Calls         *store.Calls
	Notifications *store.Notifications
	Stats         *store.Stats
	Resets        *store.Resets
	Accounts      *store.Accounts
	Payments      *store.Payments
}

// NewServices builds the services on db with opts. Nothing subscribes to
// the outbox: a test adds what it needs (see Dispatch and Record).
func NewServices(db *database.DB, opts Options) *Services {
	g, clock := db.DB, opts.Clock
	s := &Services{DB: g, Dialect: string(db.Dialect), Opts: opts}
	s.Outbox = store.NewOutbox(g, clock, nil)
	s.Outbox.Poll = 20 * time.Millisecond
	s.Audit = store.NewAudit(g, clock, nil)
	s.Users = store.NewUsers(g, clock, opts.Hasher, s.Audit, s.Outbox)
	s.Auth = store.NewAuth(g, clock, opts.Issuer, opts.Hasher, opts.Limiter, opts.RefreshTTL, nil).WithOutbox(s.Outbox)
	s.Schedules = store.NewSchedules(g, clock, opts.Policy)
	s.Appointments = store.NewAppointments(g, clock, opts.Policy, s.Audit, s.Outbox)
	s.Payments = store.NewPayments(s.Appointments, opts.Payments, opts.PaymentHold, nil)
	s.Chat = store.NewChat(g, clock, opts.Policy, s.Audit, s.Outbox, opts.Files, opts.AttachmentMaxBytes)
	s.Calls = store.NewCalls(g, clock, opts.Policy, s.Outbox, opts.RingTimeout)
	s.Notifications = store.NewNotifications(g, clock, s.Audit, s.Outbox, opts.ReminderOffsets)
	s.Stats = store.NewStats(g, clock)
	mailer := opts.Mailer
	if mailer == nil {
		mailer, _ = mail.New("", "", slog.New(slog.DiscardHandler), false)
	}
	s.Accounts = store.NewAccounts(g, clock, s.Audit, s.Outbox, s.Users, s.Appointments)
	if opts.Mailer != nil {
		s.Notifications.MailTo(opts.Mailer, "http://teleconsult.test")
	}
	s.Resets = store.NewResets(g, clock, opts.Hasher, s.Audit, s.Outbox, mailer, "http://teleconsult.test", slog.New(slog.DiscardHandler))
	return s
}

// RecordNotifications subscribes the notification store to the outbox.
func (s *Services) RecordNotifications() {
	s.Outbox.Subscribe("notifications", func(ctx context.Context, env models.Envelope) error {
		_, err := s.Notifications.Record(ctx, env)
		return err
	})
}

// Dispatch delivers every pending event now and fails the test on error.
func (s *Services) Dispatch(t testing.TB) {
	t.Helper()
	for {
		n, err := s.Outbox.DispatchOnce(context.Background())
		if err != nil {
			t.Fatalf("dispatch outbox: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// MustUser creates a user directly through the service (admin path) and fails the test on error.
func MustUser(t testing.TB, s *Services, role models.Role, email string) models.User {
	t.Helper()
	in := models.CreateUserInput{Email: email, Password: TestPassword, Name: "Test " + string(role), Role: role}
	if role == models.RoleDoctor {
		in.Specialty = "Cardiology"
		in.TimeZone = "Europe/Berlin"
	}
	u, err := s.Users.Create(context.Background(), models.SystemActor, in)
	if err != nil {
		t.Fatalf("create %s %s: %v", role, email, err)
	}
	return u
}

// MustToken returns an access token for u.
func MustToken(t testing.TB, s *Services, u models.User) string {
	t.Helper()
	// A long-lived token: tests move the clock by days while a user stays signed in.
	tok, _, err := s.Opts.Issuer.IssueWithTTL(u.ID, string(u.Role), 60*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// MustAppointment stores an appointment row as is (no booking rules), for
// tests that need one in a given state.
func MustAppointment(t testing.TB, s *Services, doctor, patient models.User, start time.Time, status models.AppointmentStatus) models.Appointment {
	t.Helper()
	now := time.Now().UTC()
	a := models.Appointment{ID: uuid.NewString(), DoctorID: doctor.ID, PatientID: patient.ID, StartsAt: start.UTC(),
		EndsAt: start.UTC().Add(30 * time.Minute), Status: status, CreatedAt: now, UpdatedAt: now}
	row := map[string]any{"id": a.ID, "doctor_id": a.DoctorID, "patient_id": a.PatientID, "starts_at": a.StartsAt, "ends_at": a.EndsAt,
		"status": string(status), "reason": "", "cancel_reason": "", "cancelled_by": "", "last_seq": 0, "created_at": now, "updated_at": now}
	if status == models.StatusCompleted {
		a.CompletedAt = &now
		row["completed_at"] = now
	}
	if err := s.DB.Table("appointments").Create(row).Error; err != nil {
		t.Fatalf("create appointment: %v", err)
	}
	return a
}
