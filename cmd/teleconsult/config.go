package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is every setting, read from the environment. Invalid values stop
// the start with one line naming the variable.
type Config struct {
	Env      string // APP_ENV: development or production
	Addr     string // ADDR
	LogLevel slog.Level

	DatabaseURL       string // DATABASE_URL; empty = SQLite in DataDir
	DataDir           string // DATA_DIR
	DBMaxOpenConns    int
	DBMaxIdleConns    int
	DBConnMaxLifetime time.Duration
	RedisURL          string // REDIS_URL; empty = single node

	JWTSecret          string   // JWT_SECRET
	JWTPreviousSecrets []string // JWT_PREVIOUS_SECRETS (comma separated), still accepted
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration
	LoginMaxFailures   int           // LOGIN_MAX_FAILURES: free failed sign-ins per account before delays
	LoginWindow        time.Duration // LOGIN_WINDOW
	LoginMaxDelay      time.Duration // LOGIN_MAX_DELAY: the longest delay between an account's attempts
	RefreshGrace       time.Duration // REFRESH_REUSE_GRACE: a just-spent refresh token is not reuse this long
	LoginIPMaxFailures int           // LOGIN_IP_MAX_FAILURES: failed sign-ins per IP per window
	RegisterPerHour    int           // REGISTER_PER_IP_PER_HOUR
	BookingsPerHour    int           // BOOKINGS_PER_HOUR: booking requests per patient

	AdminEmail    string
	AdminPassword string
	SeedDemo      bool // SEED_DEMO: seed the demo data on an empty database

	CORSOrigins    []string
	TrustedProxies []string
	// Mail: SMTP_URL (smtp:// or smtps://; empty: mails go to the log),
	// MAIL_FROM, and PUBLIC_URL, the address people open the app at (for
	// links in mails).
	SMTPURL   string
	MailFrom  string
	PublicURL string
	// Payments: PAYMENT_PROVIDER is "none" (the default: bookings are
	// confirmed at once and paid at the clinic) or "stripe", with
	// STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PUBLISHABLE_KEY (for
	// the web app's card form) and STRIPE_API_BASE (the API's address; a
	// local stripe-mock in tests). PAYMENT_HOLD is how long a paid booking
	// keeps its slot unpaid.
	PaymentProvider      string
	StripeSecretKey      string
	StripeWebhookSecret  string
	StripePublishableKey string
	StripeAPIBase        string
	PaymentHold          time.Duration
	CookieSecure         bool   // COOKIE_SECURE; defaults to true when APP_ENV=production
	MetricsToken         string // METRICS_TOKEN: bearer token that /metrics requires
	// PprofAddr is PPROF_ADDR: when set, Go's profiler (net/http/pprof)
	// listens there, apart from the public address. Keep it on loopback.
	PprofAddr string
	// RequestReadTimeout bounds reading one request's body (uploads get
	// UploadReadTimeout); WebSocket upgrades are not affected.
	RequestReadTimeout time.Duration
	UploadReadTimeout  time.Duration
	WebDir             string
	BodyLimit          int64
	ShutdownTimeout    time.Duration

	// RequestTimeout is REQUEST_TIMEOUT: the deadline of one REST request,
	// database work included, so a hung database answers 503 in time.
	RequestTimeout time.Duration

	// Scheduling.
	MinLeadTime      time.Duration // MIN_LEAD_TIME: earliest bookable slot from now
	CancelCutoff     time.Duration // CANCEL_CUTOFF: patients cancel/reschedule up to this before start
	StartEarly       time.Duration // APPOINTMENT_START_EARLY: how early a doctor may start
	NoShowAfter      time.Duration // NO_SHOW_AFTER: booked and untouched this long after the end = no_show
	MaxSlotRangeDays int
	BookingHorizon   time.Duration // BOOKING_HORIZON: how far ahead slots may be booked
	MaxActive        int           // MAX_ACTIVE_APPOINTMENTS: booked or in progress per patient

	// Chat and attachments.
	ChatWindowAfterCompletion time.Duration // CHAT_WINDOW_AFTER_COMPLETION
	AttachmentMaxBytes        int64         // ATTACHMENT_MAX_BYTES
	ImageMaxPixels            int64         // IMAGE_MAX_PIXELS
	UploadQuotaUserBytes      int64         // UPLOAD_QUOTA_USER_BYTES: per uploader per 24 h
	UploadQuotaRoomBytes      int64         // UPLOAD_QUOTA_ROOM_BYTES: per consultation per 24 h

	// Realtime.
	SocketMaxHTTPBufferSize int64         // SOCKET_MAX_BUFFER_BYTES
	SocketPingInterval      time.Duration // SOCKET_PING_INTERVAL
	SocketPingTimeout       time.Duration // SOCKET_PING_TIMEOUT
	SocketEventRate         float64       // SOCKET_EVENT_RATE: events per second per socket
	SocketEventBurst        int           // SOCKET_EVENT_BURST
	SocketMaxPerUser        int           // SOCKET_MAX_PER_USER
	SocketRecoveryWindow    time.Duration // SOCKET_RECOVERY_WINDOW
	SocketRecoveryPackets   int           // SOCKET_RECOVERY_MAX_PACKETS

	// Notifications and calls.
	ReminderOffsets []time.Duration // REMINDER_OFFSETS, e.g. "24h,15m"
	ReminderEvery   time.Duration   // REMINDER_INTERVAL: how often the scheduler looks
	RingTimeout     time.Duration   // CALL_RING_TIMEOUT
	CallGrace       time.Duration   // CALL_DISCONNECT_GRACE
	STUNURLs        []string        // STUN_URLS
	TURNURLs        []string        // TURN_URLS
	TURNSecret      string          // TURN_SECRET (coturn static-auth-secret)
	TURNTTL         time.Duration   // TURN_TTL
}

// loadConfig reads the configuration through getenv.
func loadConfig(getenv func(string) string) (Config, error) {
	r := envReader{get: getenv}
	c := Config{
		Env:                       r.str("APP_ENV", "development"),
		Addr:                      r.str("ADDR", ":8080"),
		LogLevel:                  r.level("LOG_LEVEL", slog.LevelInfo),
		DatabaseURL:               r.str("DATABASE_URL", ""),
		DataDir:                   r.str("DATA_DIR", "./data"),
		DBMaxOpenConns:            r.integer("DB_MAX_OPEN_CONNS", 25, 1, 1000),
		DBMaxIdleConns:            r.integer("DB_MAX_IDLE_CONNS", 10, 0, 1000),
		DBConnMaxLifetime:         r.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute),
		RedisURL:                  r.str("REDIS_URL", ""),
		JWTSecret:                 r.str("JWT_SECRET", ""),
		JWTPreviousSecrets:        r.list("JWT_PREVIOUS_SECRETS"),
		AccessTokenTTL:            r.duration("ACCESS_TOKEN_TTL", 15*time.Minute),
		RefreshTokenTTL:           r.duration("REFRESH_TOKEN_TTL", 30*24*time.Hour),
		LoginMaxFailures:          r.integer("LOGIN_MAX_FAILURES", 5, 1, 1000),
		LoginWindow:               r.duration("LOGIN_WINDOW", 15*time.Minute),
		LoginMaxDelay:             r.duration("LOGIN_MAX_DELAY", 15*time.Minute),
		RefreshGrace:              r.duration("REFRESH_REUSE_GRACE", 10*time.Second),
		LoginIPMaxFailures:        r.integer("LOGIN_IP_MAX_FAILURES", 100, 1, 1000000),
		RegisterPerHour:           r.integer("REGISTER_PER_IP_PER_HOUR", 20, 0, 1000000),
		BookingsPerHour:           r.integer("BOOKINGS_PER_HOUR", 30, 0, 1000000),
		AdminEmail:                r.str("ADMIN_EMAIL", ""),
		AdminPassword:             r.str("ADMIN_PASSWORD", ""),
		SeedDemo:                  r.boolean("SEED_DEMO", false),
		CORSOrigins:               r.list("CORS_ORIGINS"),
		SMTPURL:                   r.str("SMTP_URL", ""),
		MailFrom:                  r.str("MAIL_FROM", "Teleconsult <no-reply@localhost>"),
		PublicURL:                 r.str("PUBLIC_URL", "http://localhost:8080"),
		PaymentProvider:           r.str("PAYMENT_PROVIDER", "none"),
		StripeSecretKey:           r.str("STRIPE_SECRET_KEY", ""),
		StripeWebhookSecret:       r.str("STRIPE_WEBHOOK_SECRET", ""),
		StripePublishableKey:      r.str("STRIPE_PUBLISHABLE_KEY", ""),
		StripeAPIBase:             r.str("STRIPE_API_BASE", ""),
		PaymentHold:               r.duration("PAYMENT_HOLD", 15*time.Minute),
		TrustedProxies:            r.list("TRUSTED_PROXIES"),
		CookieSecure:              r.boolean("COOKIE_SECURE", strings.TrimSpace(getenv("APP_ENV")) == "production"),
		MetricsToken:              r.str("METRICS_TOKEN", ""),
		PprofAddr:                 r.str("PPROF_ADDR", ""),
		RequestReadTimeout:        r.duration("REQUEST_READ_TIMEOUT", 30*time.Second),
		UploadReadTimeout:         r.duration("UPLOAD_READ_TIMEOUT", 5*time.Minute),
		RequestTimeout:            r.duration("REQUEST_TIMEOUT", 10*time.Second),
		WebDir:                    r.str("WEB_DIR", "frontend/dist"),
		BodyLimit:                 int64(r.integer("BODY_LIMIT_BYTES", 1<<20, 1024, 1<<30)),
		ShutdownTimeout:           r.duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		MinLeadTime:               r.duration("MIN_LEAD_TIME", 0),
		CancelCutoff:              r.duration("CANCEL_CUTOFF", 2*time.Hour),
		StartEarly:                r.duration("APPOINTMENT_START_EARLY", 15*time.Minute),
		NoShowAfter:               r.duration("NO_SHOW_AFTER", 30*time.Minute),
		MaxSlotRangeDays:          r.integer("MAX_SLOT_RANGE_DAYS", 31, 1, 366),
		BookingHorizon:            r.duration("BOOKING_HORIZON", 90*24*time.Hour),
		MaxActive:                 r.integer("MAX_ACTIVE_APPOINTMENTS", 5, 0, 10000),
		ChatWindowAfterCompletion: r.duration("CHAT_WINDOW_AFTER_COMPLETION", 72*time.Hour),
		AttachmentMaxBytes:        int64(r.integer("ATTACHMENT_MAX_BYTES", 10<<20, 1024, 1<<30)),
		ImageMaxPixels:            int64(r.integer("IMAGE_MAX_PIXELS", 40_000_000, 0, 1<<31-1)),
		UploadQuotaUserBytes:      int64(r.integer("UPLOAD_QUOTA_USER_BYTES", 100<<20, 0, 1<<40)),
		UploadQuotaRoomBytes:      int64(r.integer("UPLOAD_QUOTA_ROOM_BYTES", 200<<20, 0, 1<<40)),
		SocketMaxHTTPBufferSize:   int64(r.integer("SOCKET_MAX_BUFFER_BYTES", 1<<20, 1024, 64<<20)),
		SocketPingInterval:        r.duration("SOCKET_PING_INTERVAL", 10*time.Second),
		SocketPingTimeout:         r.duration("SOCKET_PING_TIMEOUT", 5*time.Second),
		SocketEventRate:           float64(r.integer("SOCKET_EVENT_RATE", 20, 1, 100000)),
		SocketEventBurst:          r.integer("SOCKET_EVENT_BURST", 40, 1, 100000),
		SocketMaxPerUser:          r.integer("SOCKET_MAX_PER_USER", 10, 1, 10000),
		SocketRecoveryWindow:      r.duration("SOCKET_RECOVERY_WINDOW", 2*time.Minute),
		SocketRecoveryPackets:     r.integer("SOCKET_RECOVERY_MAX_PACKETS", 65536, 1, 1<<24),
		ReminderOffsets:           r.durations("REMINDER_OFFSETS", []time.Duration{24 * time.Hour, 15 * time.Minute}),
		ReminderEvery:             r.duration("REMINDER_INTERVAL", 30*time.Second),
		RingTimeout:               r.duration("CALL_RING_TIMEOUT", 45*time.Second),
		CallGrace:                 r.duration("CALL_DISCONNECT_GRACE", 20*time.Second),
		STUNURLs:                  r.list("STUN_URLS"),
		TURNURLs:                  r.list("TURN_URLS"),
		TURNSecret:                r.str("TURN_SECRET", ""),
		TURNTTL:                   r.duration("TURN_TTL", 6*time.Hour),
	}
	if r.err != nil {
		return Config{}, r.err
	}
	if c.Env != "development" && c.Env != "production" {
		return Config{}, fmt.Errorf("APP_ENV must be development or production, not %q", c.Env)
	}
	if c.Env == "production" && c.JWTSecret == "" {
		return Config{}, fmt.Errorf("JWT_SECRET is required when APP_ENV=production (at least 32 random bytes)")
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return Config{}, fmt.Errorf("JWT_SECRET must be at least 32 bytes long")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return Config{}, fmt.Errorf("ADMIN_EMAIL and ADMIN_PASSWORD must be set together")
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 10 {
		return Config{}, fmt.Errorf("ADMIN_PASSWORD must be at least 10 characters")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return Config{}, fmt.Errorf("DATABASE_URL must be a postgres:// URL (leave it empty for the embedded SQLite)")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		return Config{}, fmt.Errorf("REDIS_URL must be a redis:// or rediss:// URL")
	}
	switch c.PaymentProvider {
	case "none":
	case "stripe":
		if c.StripeSecretKey == "" || c.StripeWebhookSecret == "" {
			return Config{}, fmt.Errorf("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
		}
		if c.StripeAPIBase != "" && !strings.HasPrefix(c.StripeAPIBase, "https://") && !strings.HasPrefix(c.StripeAPIBase, "http://") {
			return Config{}, fmt.Errorf("STRIPE_API_BASE must be an http(s):// URL")
		}
	default:
		return Config{}, fmt.Errorf("PAYMENT_PROVIDER must be none or stripe, got %q", c.PaymentProvider)
	}
	if c.PaymentHold < time.Minute || c.PaymentHold > 24*time.Hour {
		return Config{}, fmt.Errorf("PAYMENT_HOLD must be from 1m to 24h")
	}
	if c.AccessTokenTTL <= 0 || c.RefreshTokenTTL <= 0 {
		return Config{}, fmt.Errorf("ACCESS_TOKEN_TTL and REFRESH_TOKEN_TTL must be positive")
	}
	if c.SocketPingInterval <= 0 || c.SocketPingTimeout <= 0 || c.SocketPingInterval+c.SocketPingTimeout > 15*time.Second {
		return Config{}, fmt.Errorf("SOCKET_PING_INTERVAL and SOCKET_PING_TIMEOUT must be positive and add up to at most 15s (a dead connection must be noticed within 15 s)")
	}
	return c, nil
}

// envReader reads typed variables and keeps the first error.
type envReader struct {
	get func(string) string
	err error
}

func (r *envReader) fail(name, want, got string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s must be %s, got %q", name, want, got)
	}
}

func (r *envReader) str(name, def string) string {
	if v := strings.TrimSpace(r.get(name)); v != "" {
		return v
	}
	return def
}

func (r *envReader) integer(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("an integer from %d to %d", lo, hi), v)
		return def
	}
	return n
}

func (r *envReader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	d, err := parseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, "a duration such as 30s, 15m, 2h or 90d", v)
		return def
	}
	return d
}

// parseDuration is time.ParseDuration that also takes whole days ("90d").
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("bad days %q", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

func (r *envReader) durations(name string, def []time.Duration) []time.Duration {
	items := r.list(name)
	if len(items) == 0 {
		return def
	}
	out := make([]time.Duration, 0, len(items))
	for _, it := range items {
		d, err := time.ParseDuration(it)
		if err != nil || d <= 0 {
			r.fail(name, "a comma-separated list of positive durations such as 24h,15m", r.get(name))
			return def
		}
		out = append(out, d)
	}
	return out
}

func (r *envReader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "true or false", v)
		return def
	}
	return b
}

func (r *envReader) level(name string, def slog.Level) slog.Level {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, "debug, info, warn or error", v)
		return def
	}
	return l
}

func (r *envReader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.get(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
