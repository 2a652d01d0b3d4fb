package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Resets resets forgotten passwords: a one-time token, stored hashed,
// mailed as a link to PublicURL/reset-password.
//
// The mail is sent after the token commits, from this service rather than
// through the outbox: the outbox would have to keep the token itself, and
// only its hash is ever stored. A mail that fails is logged; the person
// asks again.
type Resets struct {
	db        *gorm.DB
	clock     models.Clock
	hasher    models.PasswordHasher
	audit     *Audit
	outbox    *Outbox
	mailer    models.Mailer
	publicURL string
	log       *slog.Logger
}

// NewResets builds the password reset service.
func NewResets(db *gorm.DB, clock models.Clock, hasher models.PasswordHasher, audit *Audit, outbox *Outbox, mailer models.Mailer, publicURL string, log *slog.Logger) *Resets {
	return &Resets{db: db, clock: clock, hasher: hasher, audit: audit, outbox: outbox, mailer: mailer,
		publicURL: strings.TrimRight(publicURL, "/"), log: log}
}

type passwordResetRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (passwordResetRow) TableName() string { return "password_resets" }

func hashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Forgot mails a reset link to the account with that email, if any.
func (r *Resets) Forgot(ctx context.Context, email string) error {
	email = models.NormalizeEmail(email)
	if email == "" || len(email) > 254 {
		return nil
	}
	var u userRow
	err := r.db.WithContext(ctx).Where("email = ? AND disabled = ?", email, false).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // nothing is said about whether the address exists
	}
	if err != nil {
		return err
	}
	return r.issue(ctx, u, models.Actor{UserID: u.ID, Role: models.Role(u.Role)}, "user.password_reset_requested")
}

// SendReset mails a reset link to a user on an admin's behalf.
func (r *Resets) SendReset(ctx context.Context, actor models.Actor, userID string) error {
	if !actor.IsAdmin() {
		return models.Errorf(models.EFORBIDDEN, "only admins may send reset links")
	}
	var u userRow
	err := r.db.WithContext(ctx).Where("id = ?", userID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Errorf(models.ENOTFOUND, "no such user")
	}
	if err != nil {
		return err
	}
	return r.issue(ctx, u, actor, "user.password_reset_sent")
}

// issue stores a new token for u (audited as action by actor) and mails
// the link in u's language.
func (r *Resets) issue(ctx context.Context, u userRow, actor models.Actor, action string) error {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := r.clock.Now().UTC()
	row := passwordResetRow{ID: uuid.NewString(), UserID: u.ID, TokenHash: hashResetToken(token), ExpiresAt: now.Add(models.PasswordResetTTL), CreatedAt: now}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return r.audit.record(ctx, tx, actor, action, "user", u.ID, nil)
	})
	if err != nil {
		return err
	}
	t := models.TextIn(u.Locale)
	link := r.publicURL + "/reset-password?token=" + url.QueryEscape(token)
	m := models.Mail{To: u.Email, Subject: t.T("Reset your Teleconsult password"), Text: t.T(resetMailText, u.Name, link)}
	if err := r.mailer.Send(ctx, m); err != nil {
		r.log.WarnContext(ctx, "password reset mail not sent", "user_id", u.ID, "err", err)
	}
	return nil
}

const resetMailText = "Hello %s,\n\nSomeone (we hope you) asked to reset the password of your Teleconsult account. Open this link within an hour to choose a new one:\n\n%s\n\nIf it was not you, ignore this mail: your password stays as it is.\n"

// Reset sets a new password with a valid token, once, and ends every
// session of the user.
func (r *Resets) Reset(ctx context.Context, in models.ResetPasswordInput) error {
	if err := models.Validate(in); err != nil {
		return err
	}
	now := r.clock.Now().UTC()
	var row passwordResetRow
	err := r.db.WithContext(ctx).Where("token_hash = ?", hashResetToken(in.Token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.ErrResetLink
	}
	if err != nil {
		return err
	}
	if row.UsedAt != nil || !now.Before(row.ExpiresAt) {
		return models.ErrResetLink
	}
	var u userRow
	if err := r.db.WithContext(ctx).Where("id = ?", row.UserID).Take(&u).Error; err != nil {
		return err
	}
	if u.Disabled {
		return models.ErrResetLink
	}
	if err := models.CheckPassword(in.Password, u.Email, r.hasher.IsCommon); err != nil {
		return err
	}
	hash, err := r.hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Used once: the first reset to mark it wins.
		res := tx.Model(&passwordResetRow{}).Where("id = ? AND used_at IS NULL", row.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrResetLink
		}
		// Other links of the user stop working too.
		if err := tx.Model(&passwordResetRow{}).Where("user_id = ? AND used_at IS NULL", u.ID).Update("used_at", now).Error; err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ?", u.ID).Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", u.ID).Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := r.audit.record(ctx, tx, models.Actor{UserID: u.ID, Role: models.Role(u.Role)}, "user.password_reset", "user", u.ID, nil); err != nil {
			return err
		}
		return r.outbox.add(tx, models.PasswordChanged{UserID: u.ID, At: now})
	})
	if err != nil {
		return err
	}
	r.outbox.Kick()
	return nil
}
