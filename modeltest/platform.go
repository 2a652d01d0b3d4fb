package modeltest

import (
	"github.com/google/uuid"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"teleconsult/models"
	"teleconsult/database"
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

// FastPasswords are cheap argon2id parameters so tests do not spend seconds hashing.
var FastPasswords = argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

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

// Options returns production-like options for tests: a settable clock, cheap
// password hashing, an in-memory login limiter (5 failures per 15 minutes)
// and attachments in a temp dir (when a FileStore constructor is given).
func Options(t testing.TB, clock *Clock) models.Options {
	t.Helper()
	return models.Options{
		Clock:                     clock,
		Hasher:                    models.NewPasswordHasher(FastPasswords),
		Issuer:                    NewIssuer(t, clock, 15*time.Minute),
		Limiter:                   ratelimit.NewMemory(5, 15*time.Minute),
		RefreshTTL:                30 * 24 * time.Hour,
		CancelCutoff:              2 * time.Hour,
		StartEarly:                15 * time.Minute,
		NoShowAfter:               30 * time.Minute,
		MaxSlotRangeDays:          31,
		ChatWindowAfterCompletion: 72 * time.Hour,
		AttachmentMaxBytes:        10 << 20,
		ReminderOffsets:           []time.Duration{24 * time.Hour, 15 * time.Minute},
		RingTimeout:               45 * time.Second,
		CallGrace:                 20 * time.Second,
		TURNSecret:                "turn-secret",
		TURNURLs:                  []string{"turn:127.0.0.1:3478"},
		TURNTTL:                   time.Hour,
	}
}

// NewPlatform builds the whole models core on db with opts.
func NewPlatform(db *database.DB, opts models.Options) *models.Platform {
	return models.NewPlatform(db.DB, string(db.Dialect), opts)
}

// MustUser creates a user directly through the service (admin path) and fails the test on error.
func MustUser(t testing.TB, p *models.Platform, role models.Role, email string) models.User {
	t.Helper()
	in := models.CreateUserInput{Email: email, Password: "password-123", Name: "Test " + string(role), Role: role}
	if role == models.RoleDoctor {
		in.Specialty = "Cardiology"
		in.TimeZone = "Europe/Berlin"
	}
	u, err := p.Users.Create(t.Context(), models.SystemActor, in)
	if err != nil {
		t.Fatalf("create %s %s: %v", role, email, err)
	}
	return u
}

// MustToken returns an access token for u.
func MustToken(t testing.TB, p *models.Platform, u models.User) string {
	t.Helper()
	// A long-lived token: tests move the clock by days while a user stays signed in.
	tok, _, err := p.Opts.Issuer.IssueWithTTL(u.ID, string(u.Role), 60*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// MustAppointment stores an appointment row as is (no booking rules), for
// tests that need one in a given state.
func MustAppointment(t testing.TB, p *models.Platform, doctor, patient models.User, start time.Time, status models.AppointmentStatus) models.Appointment {
	t.Helper()
	now := time.Now().UTC()
	a := models.Appointment{ID: uuid.NewString(), DoctorID: doctor.ID, PatientID: patient.ID, StartsAt: start.UTC(),
		EndsAt: start.UTC().Add(30 * time.Minute), Status: status, CreatedAt: now, UpdatedAt: now}
	if status == models.StatusCompleted {
		a.CompletedAt = &now
	}
	if err := p.DB.WithContext(t.Context()).Omit("Doctor", "Patient").Create(&a).Error; err != nil {
		t.Fatalf("create appointment: %v", err)
	}
	return a
}
