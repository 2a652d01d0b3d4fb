package models

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

	"teleconsult/token"
)

// RefreshToken is the stored (hashed) form of an opaque refresh token. Tokens
// of one login form a family; each refresh spends one and issues the next.
type RefreshToken struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	FamilyID  string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// Session is what a login or refresh hands out.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	User         User
}

// Principal is an authenticated caller.
type Principal struct {
	User User
	// ExpiresAt is when the access token runs out.
	ExpiresAt time.Time
	TokenID   string
}

// Actor returns the principal as an actor for operations.
func (p Principal) Actor(requestID string) Actor {
	return Actor{UserID: p.User.ID, Role: p.User.Role, RequestID: requestID}
}

// AttemptLimiter throttles failed login attempts per key (IP, account).
type AttemptLimiter interface {
	// Blocked reports whether key has no attempts left and how long until it has.
	Blocked(ctx context.Context, key string) (bool, time.Duration, error)
	// Fail counts one failed attempt for key.
	Fail(ctx context.Context, key string) error
	// Reset forgets key's failures.
	Reset(ctx context.Context, key string) error
}

// Auth logs users in and out and checks tokens.
type Auth struct {
	db         *gorm.DB
	issuer     *token.Issuer
	hasher     *PasswordHasher
	limiter    AttemptLimiter
	clock      Clock
	refreshTTL time.Duration
	log        *slog.Logger
}

// NewAuth builds the auth service.
func NewAuth(db *gorm.DB, issuer *token.Issuer, hasher *PasswordHasher, limiter AttemptLimiter, clock Clock, refreshTTL time.Duration, log *slog.Logger) *Auth {
	return &Auth{db: db, issuer: issuer, hasher: hasher, limiter: limiter, clock: clock, refreshTTL: refreshTTL, log: log}
}

// Issuer returns the access token issuer.
func (a *Auth) Issuer() *token.Issuer { return a.issuer }

// LoginInput are credentials.
type LoginInput struct {
	Email    string `json:"email" validate:"required,utf8,max=254"`
	Password string `json:"password" validate:"required,utf8,max=128"`
}

var errBadCredentials = Errorf(EUNAUTHORIZED, "wrong email or password")

// Login checks credentials and starts a session. Failed attempts are counted
// per client IP and per account; past the limit the answer is ERATELIMITED
// (checked before the password, so a correct guess past the limit fails too).
func (a *Auth) Login(ctx context.Context, in LoginInput, clientIP string) (Session, error) {
	if err := Validate(in); err != nil {
		return Session{}, err
	}
	email := NormalizeEmail(in.Email)
	keys := []string{"ip:" + clientIP, "account:" + email}
	for _, k := range keys {
		blocked, wait, err := a.limiter.Blocked(ctx, k)
		if err != nil {
			return Session{}, err
		}
		if blocked {
			e := Errorf(ERATELIMITED, "too many failed sign-in attempts; try again later")
			e.RetryAfterSeconds = max(1, int(wait.Round(time.Second)/time.Second))
			return Session{}, e
		}
	}
	var u User
	err := a.db.WithContext(ctx).Preload("Doctor").Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, err
	}
	if !a.hasher.Verify(in.Password, u.PasswordHash) {
		for _, k := range keys {
			if err := a.limiter.Fail(ctx, k); err != nil {
				a.log.WarnContext(ctx, "count failed login", "err", err)
			}
		}
		return Session{}, errBadCredentials
	}
	if u.Disabled {
		return Session{}, Errorf(EUNAUTHORIZED, "this account is disabled")
	}
	_ = a.limiter.Reset(ctx, "account:"+email)
	return a.startSession(ctx, a.db, u, uuid.NewString())
}

func (a *Auth) startSession(ctx context.Context, db *gorm.DB, u User, family string) (Session, error) {
	access, _, err := a.issuer.Issue(u.ID, string(u.Role))
	if err != nil {
		return Session{}, err
	}
	raw, hash := newOpaqueToken()
	now := a.clock.Now()
	rt := RefreshToken{ID: uuid.NewString(), UserID: u.ID, FamilyID: family, TokenHash: hash, ExpiresAt: now.Add(a.refreshTTL), CreatedAt: now}
	if err := db.WithContext(ctx).Create(&rt).Error; err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, RefreshToken: raw, ExpiresIn: a.issuer.TTL(), User: u}, nil
}

var errBadRefresh = Errorf(EUNAUTHORIZED, "the refresh token is invalid or expired; sign in again")

// Refresh spends a refresh token and returns a new pair. Presenting a token
// that was already spent revokes its whole family: someone has a copy.
func (a *Auth) Refresh(ctx context.Context, raw string) (Session, error) {
	if raw == "" || len(raw) > 200 {
		return Session{}, errBadRefresh
	}
	var (
		s      Session
		reused bool
	)
	now := a.clock.Now()
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rt RefreshToken
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
		res := tx.Model(&RefreshToken{}).Where("id = ? AND used_at IS NULL", rt.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			reused = true
			return errBadRefresh
		}
		var u User
		if err := tx.Preload("Doctor").Where("id = ?", rt.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.Disabled {
			return errBadRefresh
		}
		s, err = a.startSession(ctx, tx, u, rt.FamilyID)
		return err
	})
	if reused {
		a.revokeFamilyOf(ctx, raw, now)
	}
	return s, err
}

func (a *Auth) revokeFamilyOf(ctx context.Context, raw string, now time.Time) {
	var rt RefreshToken
	if err := a.db.WithContext(ctx).Where("token_hash = ?", hashToken(raw)).Take(&rt).Error; err != nil {
		return
	}
	a.log.WarnContext(ctx, "refresh token reuse; family revoked", "user_id", rt.UserID, "family_id", rt.FamilyID)
	if err := a.db.WithContext(ctx).Model(&RefreshToken{}).Where("family_id = ? AND revoked_at IS NULL", rt.FamilyID).Update("revoked_at", now).Error; err != nil {
		a.log.ErrorContext(ctx, "revoke token family", "err", err)
	}
}

// Logout revokes the family of the given refresh token (that device's
// session). Unknown tokens are ignored: logging out is idempotent.
func (a *Auth) Logout(ctx context.Context, raw string) error {
	if raw == "" || len(raw) > 200 {
		return nil
	}
	var rt RefreshToken
	err := a.db.WithContext(ctx).Where("token_hash = ?", hashToken(raw)).Take(&rt).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.db.WithContext(ctx).Model(&RefreshToken{}).Where("family_id = ? AND revoked_at IS NULL", rt.FamilyID).Update("revoked_at", a.clock.Now()).Error
}

var errBadAccess = Errorf(EUNAUTHORIZED, "missing, invalid or expired access token")

// Authenticate verifies an access token and that its user exists and is
// enabled (read on every call, so disabling takes effect at once).
func (a *Auth) Authenticate(ctx context.Context, raw string) (Principal, error) {
	if raw == "" {
		return Principal{}, errBadAccess
	}
	c, err := a.issuer.Parse(raw)
	if err != nil {
		return Principal{}, errBadAccess
	}
	var u User
	err = a.db.WithContext(ctx).Preload("Doctor").Where("id = ?", c.Subject).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Principal{}, errBadAccess
	}
	if err != nil {
		return Principal{}, err
	}
	if u.Disabled {
		return Principal{}, Errorf(EUNAUTHORIZED, "this account is disabled")
	}
	return Principal{User: u, ExpiresAt: c.ExpiresAt.Time, TokenID: c.ID}, nil
}

// Enabled reports whether the user exists and is not disabled.
func (a *Auth) Enabled(ctx context.Context, userID string) (bool, error) {
	var n int64
	err := a.db.WithContext(ctx).Model(&User{}).Where("id = ? AND disabled = ?", userID, false).Count(&n).Error
	return n > 0, err
}

func revokeUserTokens(tx *gorm.DB, userID string, now time.Time) error {
	return tx.Model(&RefreshToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error
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
