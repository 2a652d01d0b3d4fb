package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"teleconsult/api"
	"teleconsult/database"
	"teleconsult/files"
	"teleconsult/mail"
	"teleconsult/models"
	"teleconsult/models/store"
	"teleconsult/password"
	"teleconsult/payments/stripe"
	"teleconsult/ratelimit"
	"teleconsult/realtime"
	"teleconsult/token"
	"teleconsult/wire"
)

// app is everything the server is made of, wired once.
type app struct {
	cfg      Config
	log      *slog.Logger
	db       *database.DB
	redis    *redis.Client
	registry *prometheus.Registry
	clock    models.Clock

	outbox        *store.Outbox
	users         *store.Users
	schedules     *store.Schedules
	appointments  *store.Appointments
	payments      *store.Payments
	notifications *store.Notifications
	rt            *realtime.Server

	// handler serves the whole port.
	handler http.Handler
	// workers run in the background while serving.
	workers []func(ctx context.Context)
	// beforeShutdown runs when the server begins to stop.
	beforeShutdown []func(ctx context.Context)
	closers        []func()
}

func newApp(ctx context.Context, cfg Config, log *slog.Logger) (a *app, err error) {
	a = &app{cfg: cfg, log: log, registry: prometheus.NewRegistry(), clock: models.SystemClock{}}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Infrastructure.
	a.db, err = database.Open(ctx, database.Config{
		URL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxOpenConns: cfg.DBMaxOpenConns,
		MaxIdleConns: cfg.DBMaxIdleConns, ConnMaxLifetime: cfg.DBConnMaxLifetime,
	}, log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = a.db.Close() })
	if _, err := a.db.Migrate(ctx, log); err != nil {
		return nil, err
	}
	if sqlDB, err := a.db.DB.DB(); err == nil {
		a.registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, string(a.db.Dialect)))
	}
	ready := []api.ReadyCheck{{Name: "database", Check: a.db.Ping}}

	var limiter models.AttemptLimiter = ratelimit.NewMemory()
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.redis = redis.NewClient(opt)
		a.closers = append(a.closers, func() { _ = a.redis.Close() })
		if err := a.redis.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("connect to REDIS_URL: %w", err)
		}
		// Without Redis the node runs degraded (ready, local login limits).
		ready = append(ready, api.ReadyCheck{Name: "redis", Degrades: true, Check: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }})
		limiter = ratelimit.NewFallback(ratelimit.NewRedis(a.redis, "teleconsult:limits"), ratelimit.NewMemory(), log)
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return nil, err
	}
	tokens, err := token.NewIssuer(secret, cfg.JWTPreviousSecrets, "teleconsult", "teleconsult-api", cfg.AccessTokenTTL, a.clock.Now)
	if err != nil {
		return nil, fmt.Errorf("JWT_SECRET: %w", err)
	}
	hasher := password.New(password.DefaultParams)
	fileStore, err := files.NewDisk(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		return nil, err
	}

	// The domain: each service gets what it needs.
	db, clock := a.db.DB, a.clock
	policy := models.Policy{MinLeadTime: cfg.MinLeadTime, CancelCutoff: cfg.CancelCutoff, StartEarly: cfg.StartEarly,
		NoShowAfter: cfg.NoShowAfter, ChatWindow: cfg.ChatWindowAfterCompletion,
		BookingHorizon: cfg.BookingHorizon, MaxActiveAppointments: cfg.MaxActive}
	ice := models.ICEConfig{STUNURLs: cfg.STUNURLs, TURNURLs: cfg.TURNURLs, TURNSecret: cfg.TURNSecret, TURNTTL: cfg.TURNTTL}
	a.outbox = store.NewOutbox(db, clock, log)
	audit := store.NewAudit(db, clock, log)
	a.users = store.NewUsers(db, clock, hasher, audit, a.outbox)
	deviceKey := sha256.Sum256([]byte("teleconsult device tokens\x00" + secret))
	auth := store.NewAuth(db, clock, tokens, hasher, limiter, cfg.RefreshTokenTTL, log).WithOutbox(a.outbox)
	auth.RefreshGrace = cfg.RefreshGrace
	auth.WithSignIn(models.SignInPolicy{FreeAttempts: cfg.LoginMaxFailures, MaxDelay: cfg.LoginMaxDelay, IPAttempts: cfg.LoginIPMaxFailures, Window: cfg.LoginWindow}, deviceKey[:])
	a.schedules = store.NewSchedules(db, clock, policy)
	a.schedules.MaxRangeDays = cfg.MaxSlotRangeDays
	a.appointments = store.NewAppointments(db, clock, policy, audit, a.outbox)
	var provider models.PaymentProvider
	payConfig := wire.PaymentConfig{Provider: "none", HoldSeconds: int64(cfg.PaymentHold / time.Second)}
	if cfg.PaymentProvider == "stripe" {
		if provider, err = stripe.New(stripe.Config{SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase}); err != nil {
			return nil, err
		}
		payConfig.Provider, payConfig.PublishableKey = "stripe", cfg.StripePublishableKey
	}
	a.payments = store.NewPayments(a.appointments, provider, cfg.PaymentHold, log)
	chat := store.NewChat(db, clock, policy, audit, a.outbox, fileStore, cfg.AttachmentMaxBytes)
	chat.MaxImagePixels, chat.UserDailyBytes, chat.RoomDailyBytes = cfg.ImageMaxPixels, cfg.UploadQuotaUserBytes, cfg.UploadQuotaRoomBytes
	// Concurrent sends share transactions on Postgres (group commit); the
	// committer drains before the database closes.
	chat.GroupCommit.Log = log
	a.closers = append(a.closers, chat.Close)
	calls := store.NewCalls(db, clock, policy, a.outbox, cfg.RingTimeout)
	a.notifications = store.NewNotifications(db, clock, audit, a.outbox, cfg.ReminderOffsets)
	mailer, err := mail.New(cfg.SMTPURL, cfg.MailFrom, log, cfg.Env != "production")
	if err != nil {
		return nil, err
	}
	if cfg.SMTPURL != "" {
		// Notifications by mail, to those who opted in, only over real SMTP.
		a.notifications.MailTo(mailer, cfg.PublicURL)
	}

	// The realtime edge.
	a.rt, err = realtime.New(realtime.Services{Auth: auth, Chat: chat, Calls: calls, Clock: clock}, realtime.Options{
		Log: log, Registry: a.registry, Redis: a.redis,
		AllowOrigin:       func(origin, host string) bool { return api.OriginAllowed(cfg.CORSOrigins, origin, host) },
		MaxHTTPBufferSize: cfg.SocketMaxHTTPBufferSize, PingInterval: cfg.SocketPingInterval, PingTimeout: cfg.SocketPingTimeout,
		EventRate: cfg.SocketEventRate, EventBurst: cfg.SocketEventBurst, MaxPerUser: cfg.SocketMaxPerUser,
		RecoveryWindow: cfg.SocketRecoveryWindow, RecoveryMaxPackets: cfg.SocketRecoveryPackets, CallGrace: cfg.CallGrace,
	})
	if err != nil {
		return nil, err
	}
	a.beforeShutdown = append(a.beforeShutdown, a.rt.Shutdown)

	// What happens after a change commits. Every event (a booking, a
	// cancellation, a reschedule, a start, a completion, a no-show, a
	// diagnosis, a reminder, an announcement, a disabled account) was
	// written to the outbox in the change's transaction; the dispatcher
	// hands it to these subscribers in order, at least once, on whichever
	// node claims it:
	//  1. the notification store keeps what the event tells each person
	//     (once per event and recipient), and the realtime edge pushes those
	//     notifications to the recipients' devices;
	//  2. the realtime edge updates open rooms and devices
	//     (consultation:status) and ends a disabled user's sockets.
	a.outbox.Subscribe("notifications", func(ctx context.Context, env models.Envelope) error {
		stored, err := a.notifications.Record(ctx, env)
		if err != nil {
			return err
		}
		return a.rt.Notify(ctx, stored)
	})
	a.outbox.Subscribe("live", a.rt.OnEvent)

	// Background work, on every node: the outbox dispatcher, reminders and
	// the no-show sweep. Claims in the database make each effect happen once.
	a.workers = append(a.workers,
		a.outbox.Run,
		func(ctx context.Context) { every(ctx, cfg.ReminderEvery, a.sendReminders) },
		func(ctx context.Context) { every(ctx, time.Minute, a.sweepNoShows) },
		func(ctx context.Context) { every(ctx, 10*time.Second, a.sendMails) },
		func(ctx context.Context) { every(ctx, 30*time.Second, a.sweepPayments) },
	)

	if cfg.AdminEmail != "" {
		created, err := a.users.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword, "Administrator")
		if err != nil {
			return nil, fmt.Errorf("create ADMIN_EMAIL user: %w", err)
		}
		if created {
			log.Info("created admin user from ADMIN_EMAIL")
		}
	}

	resets := store.NewResets(db, clock, hasher, audit, a.outbox, mailer, cfg.PublicURL, log)

	// The REST edge.
	srv, err := api.New(api.Services{
		Users: a.users, Auth: auth, Schedules: a.schedules, Appointments: a.appointments, Chat: chat,
		Notifications: a.notifications, Audit: audit, Stats: store.NewStats(db, clock), Calls: calls, ICE: ice, Clock: clock,
		Resets: resets, Accounts: store.NewAccounts(db, clock, audit, a.outbox, a.users, a.appointments),
		Payments: a.payments, PaymentConfig: payConfig,
	}, api.Options{
		Config: api.Config{
			BodyLimit: cfg.BodyLimit, CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.TrustedProxies,
			WebDir: cfg.WebDir, SecureCookies: cfg.CookieSecure, RefreshTTL: cfg.RefreshTokenTTL,
			AttachmentMaxBytes: cfg.AttachmentMaxBytes, MetricsToken: cfg.MetricsToken, Production: cfg.Env == "production",
			RequestReadTimeout: cfg.RequestReadTimeout, UploadReadTimeout: cfg.UploadReadTimeout,
			RegisterPerHour: cfg.RegisterPerHour, BookingsPerHour: cfg.BookingsPerHour,
			RequestTimeout: cfg.RequestTimeout,
		},
		Log: log, Ready: ready, Registry: a.registry, Realtime: a.rt, SocketsOnline: a.rt.SocketsOnline, Limiter: limiter,
	})
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	a.handler = srv.Handler()
	return a, nil
}

func (a *app) sendReminders(ctx context.Context) {
	n, err := a.notifications.SendReminders(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "sending reminders failed", "err", err)
	} else if n > 0 {
		a.log.InfoContext(ctx, "sent reminders", "appointments", n)
	}
}

func (a *app) sendMails(ctx context.Context) {
	n, err := a.notifications.SendMails(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "sending notification mails failed", "err", err)
	} else if n > 0 {
		a.log.InfoContext(ctx, "sent notification mails", "count", n)
	}
}

// sweepPayments releases unpaid holds that ran out and retries refunds.
func (a *app) sweepPayments(ctx context.Context) {
	n, err := a.payments.Sweep(ctx)
	if err != nil {
		a.log.WarnContext(ctx, "payment sweep", "err", err)
		return
	}
	if n > 0 {
		a.log.InfoContext(ctx, "payments swept", "count", n)
	}
}

func (a *app) sweepNoShows(ctx context.Context) {
	n, err := a.appointments.SweepNoShows(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "no-show sweep failed", "err", err)
	} else if n > 0 {
		a.log.InfoContext(ctx, "marked no-shows", "count", n)
	}
}

// every runs f now and then on each tick until ctx ends.
func every(ctx context.Context, d time.Duration, f func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// demoSeeded reports whether the demo data was seeded before (its admin exists).
func (a *app) demoSeeded(ctx context.Context) (bool, error) {
	var n int64
	err := a.db.WithContext(ctx).Table("users").Where("email = ?", demoAdminEmail).Count(&n).Error
	return n > 0, err
}

// seedSchedule gives a demo doctor their weekly schedule.
func (a *app) seedSchedule(ctx context.Context, doctorID string, s demoSchedule) error {
	in := models.ScheduleInput{TimeZone: s.TimeZone, SlotMinutes: s.SlotMinutes}
	for _, r := range s.Rules {
		in.Rules = append(in.Rules, models.ScheduleRule{Weekday: r.Weekday, Start: r.Start, End: r.End})
	}
	return a.schedules.SeedSchedule(ctx, doctorID, in)
}

// jwtSecret returns JWT_SECRET, or in development a secret generated once and
// kept in DATA_DIR so tokens survive restarts.
func jwtSecret(cfg Config) (string, error) {
	if cfg.JWTSecret != "" {
		return cfg.JWTSecret, nil
	}
	if cfg.Env == "production" {
		return "", errors.New("JWT_SECRET is required when APP_ENV=production")
	}
	path := filepath.Join(cfg.DataDir, "jwt-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("DATA_DIR: %w", err)
	}
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep generated JWT secret in DATA_DIR: %w", err)
	}
	return secret, nil
}
