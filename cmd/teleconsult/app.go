package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"teleconsult/api"
	"teleconsult/models"
	"teleconsult/database"
	"teleconsult/ratelimit"
	"teleconsult/token"
)

// app is everything the server is made of, wired once.
type app struct {
	cfg      Config
	log      *slog.Logger
	db       *database.DB
	redis    *redis.Client
	registry *prometheus.Registry
	clock    models.Clock
	hasher   *models.PasswordHasher
	issuer   *token.Issuer
	svc      *models.Platform
	ready    []api.ReadyCheck

	// realtime serves /socket.io/ when wired.
	realtime http.Handler
	// socketsOnline counts sockets across nodes when realtime is wired.
	socketsOnline func(ctx context.Context) (int, error)
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
	a.ready = append(a.ready, api.ReadyCheck{Name: "database", Check: a.db.Ping})

	var limiter models.AttemptLimiter = ratelimit.NewMemory(cfg.LoginMaxFailures, cfg.LoginWindow)
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
		a.ready = append(a.ready, api.ReadyCheck{Name: "redis", Check: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }})
		if limiter, err = ratelimit.NewRedis(a.redis, "teleconsult:login", cfg.LoginMaxFailures, cfg.LoginWindow); err != nil {
			return nil, err
		}
	}

	secret, err := jwtSecret(cfg)
	if err != nil {
		return nil, err
	}
	a.issuer, err = token.NewIssuer(secret, cfg.JWTPreviousSecrets, "teleconsult", "teleconsult-api", cfg.AccessTokenTTL, a.clock.Now)
	if err != nil {
		return nil, fmt.Errorf("JWT_SECRET: %w", err)
	}
	a.hasher = models.NewPasswordHasher(models.DefaultPasswordParams)
	files, err := a.fileStore()
	if err != nil {
		return nil, err
	}
	a.svc = models.NewPlatform(a.db.DB, string(a.db.Dialect), models.Options{
		Clock: a.clock, Log: log, Hasher: a.hasher, Issuer: a.issuer, Limiter: limiter, RefreshTTL: cfg.RefreshTokenTTL,
		MinLeadTime: cfg.MinLeadTime, CancelCutoff: cfg.CancelCutoff, StartEarly: cfg.StartEarly, NoShowAfter: cfg.NoShowAfter,
		MaxSlotRangeDays: cfg.MaxSlotRangeDays, ChatWindowAfterCompletion: cfg.ChatWindowAfterCompletion,
		AttachmentMaxBytes: cfg.AttachmentMaxBytes, Files: files,
		ReminderOffsets: cfg.ReminderOffsets, RingTimeout: cfg.RingTimeout, CallGrace: cfg.CallGrace,
		STUNURLs: cfg.STUNURLs, TURNURLs: cfg.TURNURLs, TURNSecret: cfg.TURNSecret, TURNTTL: cfg.TURNTTL,
	})
	// Each area adds its background workers and, for realtime, the handler.
	for _, build := range []func(context.Context) error{a.buildScheduling, a.buildChat, a.buildNotifications, a.buildRealtime} {
		if err := build(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.AdminEmail != "" {
		created, err := a.svc.Users.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword, "Administrator")
		if err != nil {
			return nil, fmt.Errorf("create ADMIN_EMAIL user: %w", err)
		}
		if created {
			log.Info("created admin user from ADMIN_EMAIL")
		}
	}
	srv, err := api.New(a.svc, api.Options{
		Config: api.Config{
			BodyLimit: cfg.BodyLimit, CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.TrustedProxies,
			WebDir: cfg.WebDir, SecureCookies: cfg.CookieSecure, RefreshTTL: cfg.RefreshTokenTTL,
			AttachmentMaxBytes: cfg.AttachmentMaxBytes,
		},
		Log: log, Ready: a.ready, Registry: a.registry, Realtime: a.realtime, SocketsOnline: a.socketsOnline,
	})
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	a.handler = srv.Handler()
	return a, nil
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
	err := a.db.WithContext(ctx).Model(&models.User{}).Where("email = ?", demoAdminEmail).Count(&n).Error
	return n > 0, err
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
