package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Auth signs users in and out and checks tokens.
type Auth struct {
	db         *gorm.DB
	clock      models.Clock
	tokens     models.TokenIssuer
	hasher     models.PasswordHasher
	limiter    models.AttemptLimiter
	refreshTTL time.Duration
	log        *slog.Logger
	outbox     *Outbox
}

// WithOutbox makes Logout raise SessionEnded (so the session's sockets close).
func (a *Auth) WithOutbox(o *Outbox) *Auth { a.outbox = o; return a }

// NewAuth builds the auth service.
func NewAuth(db *gorm.DB, clock models.Clock, tokens models.TokenIssuer, hasher models.PasswordHasher, limiter models.AttemptLimiter, refreshTTL time.Duration, log *slog.Logger) *Auth {
	return &Auth{db: db, clock: clock, tokens: tokens, hasher: hasher, limiter: limiter, refreshTTL: refreshTTL, log: discardIfNil(log)}
}

var errBadCredentials = models.Errorf(models.EUNAUTHORIZED, "wrong email or password")

// Login checks credentials and starts a session. Failed attempts are counted
// per client IP and per account; past the limit the answer is ERATELIMITED
// (checked before the password, so a correct guess past the limit fails too).
func (a *Auth) Login(ctx context.Context, in models.LoginInput, clientIP string) (models.Session, error) {
	if err := models.Validate(in); err != nil {
		return models.Session{}, err
	}
	email := models.NormalizeEmail(in.Email)
	keys := []string{"ip:" + clientIP, "account:" + email}
	for _, k := range keys {
		blocked, wait, err := a.limiter.Blocked(ctx, k)
		if err != nil {
			return models.Session{}, err
		}
		if blocked {
			e := models.Errorf(models.ERATELIMITED, "too many failed sign-in attempts; try again later")
			e.RetryAfterSeconds = max(1, int(wait.Round(time.Second)/time.Second))
			return models.Session{}, e
		}
	}
	var r userRow
	err := a.db.WithContext(ctx).Preload("Doctor").Where("email = ?", email).Take(&r).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Session{}, err
	}
	ok, err := a.hasher.Verify(ctx, in.Password, r.PasswordHash)
	if err != nil {
		return models.Session{}, err
	}
	if !ok {
		for _, k := range keys {
			if err := a.limiter.Fail(ctx, k); err != nil {
				a.log.WarnContext(ctx, "count failed login", "err", err)
			}
		}
		return models.Session{}, errBadCredentials
	}
	if r.Disabled {
		return models.Session{}, models.Errorf(models.EUNAUTHORIZED, "this account is disabled")
	}
	_ = a.limiter.Reset(ctx, "account:"+email)
	return a.startSession(ctx, a.db, r.toModel(), uuid.NewString())
}

func (a *Auth) startSession(ctx context.Context, db *gorm.DB, u models.User, family string) (models.Session, error) {
	access, err := a.tokens.IssueAccess(u.ID, u.Role, family)
	if err != nil {
		return models.Session{}, err
	}
	raw, hash := newOpaqueToken()
	now := a.clock.Now()
	rt := refreshTokenRow{ID: uuid.NewString(), UserID: u.ID, FamilyID: family, TokenHash: hash, ExpiresAt: now.Add(a.refreshTTL), CreatedAt: now}
	if err := db.WithContext(ctx).Create(&rt).Error; err != nil {
		return models.Session{}, err
	}
	return models.Session{AccessToken: access, RefreshToken: raw, ExpiresIn: a.tokens.TTL(), User: u}, nil
}

var errBadRefresh = models.Errorf(models.EUNAUTHORIZED, "the refresh token is invalid or expired; sign in again")

// Refresh spends a refresh token and returns a new pair. Presenting a token
// that was already spent revokes its whole family: someone has a copy.
func (a *Auth) Refresh(ctx context.Context, raw string) (models.Session, error) {
	if raw == "" || len(raw) > 200 {
		return models.Session{}, errBadRefresh
	}
	var (
		s      models.Session
		reused bool
	)
	now := a.clock.Now()
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rt refreshTokenRow
		err := tx.Where("token_hash = ?", hashToken(raw)).Take(&rt).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		if rt.RevokedAt != nil || !now.Before(rt.ExpiresAt) {
			return errBadRefresh
		}
		// Spend it; the condition makes two concurrent refreshes of one token
		// yield one winner, and the loser counts as reuse.
		res := tx.Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL", rt.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			reused = true
			return errBadRefresh
		}
		var u userRow
		if err := tx.Preload("Doctor").Where("id = ?", rt.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.Disabled {
			return errBadRefresh
		}
		s, err = a.startSession(ctx, tx, u.toModel(), rt.FamilyID)
		return err
	})
	if reused {
		a.revokeFamilyOf(ctx, raw, now)
	}
	return s, err
}

func (a *Auth) revokeFamilyOf(ctx context.Context, raw string, now time.Time) {
	var rt refreshTokenRow
	if err := a.db.WithContext(ctx).Where("token_hash = ?", hashToken(raw)).Take(&rt).Error; err != nil {
		return
	}
	a.log.WarnContext(ctx, "refresh token reuse; family revoked", "user_id", rt.UserID, "family_id", rt.FamilyID)
	if err := a.db.WithContext(ctx).Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", rt.FamilyID).Update("revoked_at", now).Error; err != nil {
		a.log.ErrorContext(ctx, "revoke token family", "err", err)
	}
}

// Logout revokes the family of the given refresh token (that device's
// session). Unknown tokens are ignored: logging out is idempotent.
func (a *Auth) Logout(ctx context.Context, raw string) error {
	if raw == "" || len(raw) > 200 {
		return nil
	}
	var rt refreshTokenRow
	err := a.db.WithContext(ctx).Where("token_hash = ?", hashToken(raw)).Take(&rt).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := a.clock.Now()
	err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", rt.FamilyID).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		if a.outbox == nil || res.RowsAffected == 0 {
			return nil // already signed out: nothing to tell
		}
		return a.outbox.add(tx, models.SessionEnded{UserID: rt.UserID, SessionID: rt.FamilyID, At: now})
	})
	if err == nil && a.outbox != nil {
		a.outbox.Kick()
	}
	return err
}

var errBadAccess = models.Errorf(models.EUNAUTHORIZED, "missing, invalid or expired access token")

// Authenticate verifies an access token and that its user exists and is
// enabled (read on every call, so disabling takes effect at once).
func (a *Auth) Authenticate(ctx context.Context, raw string) (models.Principal, error) {
	if raw == "" {
		return models.Principal{}, errBadAccess
	}
	c, err := a.tokens.VerifyAccess(raw)
	if err != nil {
		return models.Principal{}, errBadAccess
	}
	var r userRow
	err = a.db.WithContext(ctx).Preload("Doctor").Where("id = ?", c.UserID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Principal{}, errBadAccess
	}
	if err != nil {
		return models.Principal{}, err
	}
	if r.Disabled {
		return models.Principal{}, models.Errorf(models.EUNAUTHORIZED, "this account is disabled")
	}
	return models.Principal{User: r.toModel(), ExpiresAt: c.ExpiresAt, TokenID: c.TokenID, SessionID: c.SessionID}, nil
}

func newOpaqueToken() (raw, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, hashToken(raw)
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}
