package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
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
	// RefreshGrace is how long a just-spent refresh token may be presented
	// again without counting as reuse (two tabs refreshing at once).
	RefreshGrace time.Duration
	signIn       models.SignInPolicy
	deviceKey    []byte
}

// WithSignIn sets the sign-in throttling policy and the key that signs
// device tokens.
func (a *Auth) WithSignIn(p models.SignInPolicy, deviceKey []byte) *Auth {
	a.signIn, a.deviceKey = p, deviceKey
	return a
}

// WithOutbox makes Logout raise SessionEnded (so the session's sockets close).
func (a *Auth) WithOutbox(o *Outbox) *Auth { a.outbox = o; return a }

// NewAuth builds the auth service.
func NewAuth(db *gorm.DB, clock models.Clock, tokens models.TokenIssuer, hasher models.PasswordHasher, limiter models.AttemptLimiter, refreshTTL time.Duration, log *slog.Logger) *Auth {
	return &Auth{db: db, clock: clock, tokens: tokens, hasher: hasher, limiter: limiter, refreshTTL: refreshTTL, log: discardIfNil(log),
		RefreshGrace: 10 * time.Second,
		signIn:       models.SignInPolicy{FreeAttempts: 5, MaxDelay: 15 * time.Minute, IPAttempts: 100, Window: 15 * time.Minute}}
}

var errBadCredentials = models.Errorf(models.EUNAUTHORIZED, "wrong email or password")

// Login checks credentials and starts a session under SignInPolicy: the
// attempt is counted (per IP and per account) before the password is
// checked, so parallel guesses cannot all be evaluated; past the account's
// free attempts each one must wait a doubling delay; a device that signed
// in to the account before is never throttled.
func (a *Auth) Login(ctx context.Context, in models.LoginInput) (models.Session, error) {
	if err := models.Validate(in); err != nil {
		return models.Session{}, err
	}
	email := models.NormalizeEmail(in.Email)
	var r userRow
	err := a.db.WithContext(ctx).Preload("Doctor").Where("email = ?", email).Take(&r).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Session{}, err
	}
	trusted := r.ID != "" && a.deviceOf(in.DeviceToken) == r.ID
	ipKey, accountKey := "ip:"+in.ClientIP, "account:"+email
	if !trusted {
		if err := a.reserve(ctx, ipKey, accountKey); err != nil {
			return models.Session{}, err
		}
	}
	ok, err := a.hasher.Verify(ctx, in.Password, r.PasswordHash)
	if err != nil {
		if !trusted { // the attempt was not evaluated
			a.undo(ctx, ipKey, accountKey)
		}
		return models.Session{}, err
	}
	if !ok {
		a.log.WarnContext(ctx, "security: failed sign-in", "ip", in.ClientIP, "known_account", r.ID != "")
		return models.Session{}, errBadCredentials
	}
	if r.Disabled {
		return models.Session{}, models.Errorf(models.EUNAUTHORIZED, "this account is disabled")
	}
	// A success: the account starts afresh, and it does not count against the IP.
	if err := a.limiter.Reset(ctx, accountKey); err != nil {
		a.log.WarnContext(ctx, "reset sign-in attempts", "err", err)
	}
	if !trusted {
		a.undo(ctx, ipKey)
	}
	s, err := a.startSession(ctx, a.db, r.toModel(), uuid.NewString(), client{in.UserAgent, in.ClientIP})
	if err == nil {
		s.DeviceToken = a.deviceToken(r.ID)
	}
	return s, err
}

// reserve counts the attempt per IP and per account and refuses it when
// the IP is over its limit or the account's delay has not passed.
func (a *Auth) reserve(ctx context.Context, ipKey, accountKey string) error {
	p := a.signIn
	n, err := a.limiter.Hit(ctx, ipKey, p.Window)
	if err != nil {
		return err
	}
	if p.IPAttempts > 0 && n > int64(p.IPAttempts) {
		a.undo(ctx, ipKey)
		a.log.WarnContext(ctx, "security: sign-in refused, IP over its limit", "key", ipKey)
		return models.RateLimited(p.Window, "too many failed sign-in attempts from this network; try again later")
	}
	m, err := a.limiter.Hit(ctx, accountKey, p.Window)
	if err != nil {
		a.undo(ctx, ipKey)
		return err
	}
	if d := p.Delay(m); d > 0 {
		wait, err := a.limiter.Hold(ctx, accountKey, d)
		if err != nil || wait > 0 {
			a.undo(ctx, ipKey, accountKey)
			if err != nil {
				return err
			}
			a.log.WarnContext(ctx, "security: sign-in delayed", "attempts", m)
			return models.RateLimited(wait, "too many failed sign-in attempts for this account; wait a moment and try again")
		}
	}
	return nil
}

func (a *Auth) undo(ctx context.Context, keys ...string) {
	for _, k := range keys {
		if err := a.limiter.Undo(ctx, k); err != nil {
			a.log.WarnContext(ctx, "undo sign-in attempt", "err", err)
		}
	}
}

// deviceTTL is how long a device stays known.
const deviceTTL = 365 * 24 * time.Hour

// deviceToken marks this device as one userID signed in from:
// "<user id>.<expiry unix>.<HMAC>".
func (a *Auth) deviceToken(userID string) string {
	if len(a.deviceKey) == 0 {
		return ""
	}
	body := userID + "." + strconv.FormatInt(a.clock.Now().Add(deviceTTL).Unix(), 10)
	return body + "." + a.deviceMAC(body)
}

// deviceOf returns the user a valid, unexpired device token names, or "".
func (a *Auth) deviceOf(tok string) string {
	if len(a.deviceKey) == 0 || tok == "" || len(tok) > 200 {
		return ""
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || !hmac.Equal([]byte(tok[i+1:]), []byte(a.deviceMAC(tok[:i]))) {
		return ""
	}
	user, exp, ok := strings.Cut(tok[:i], ".")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || a.clock.Now().Unix() > unix {
		return ""
	}
	return user
}

func (a *Auth) deviceMAC(body string) string {
	m := hmac.New(sha256.New, a.deviceKey)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// client is where a session's tokens are used from.
type client struct{ userAgent, ip string }

func (a *Auth) startSession(ctx context.Context, db *gorm.DB, u models.User, family string, from client) (models.Session, error) {
	access, err := a.tokens.IssueAccess(u.ID, u.Role, family)
	if err != nil {
		return models.Session{}, err
	}
	raw, hash := newOpaqueToken()
	now := a.clock.Now()
	if len(from.userAgent) > 300 {
		from.userAgent = from.userAgent[:300]
	}
	rt := refreshTokenRow{ID: uuid.NewString(), UserID: u.ID, FamilyID: family, TokenHash: hash, ExpiresAt: now.Add(a.refreshTTL), CreatedAt: now,
		UserAgent: strings.ToValidUTF8(from.userAgent, ""), IP: from.ip}
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
		// Spend it. A token already spent is reuse — someone has a copy —
		// unless it was spent within the grace window: two tabs refreshing
		// at once each get a session of the same family.
		res := tx.Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL", rt.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var spent refreshTokenRow
			if err := tx.Where("id = ?", rt.ID).Take(&spent).Error; err != nil {
				return err
			}
			if spent.RevokedAt != nil || spent.UsedAt == nil || now.Sub(*spent.UsedAt) > a.RefreshGrace {
				reused = true
				return errBadRefresh
			}
		}
		var u userRow
		if err := tx.Preload("Doctor").Where("id = ?", rt.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.Disabled {
			return errBadRefresh
		}
		s, err = a.startSession(ctx, tx, u.toModel(), rt.FamilyID, client{rt.UserAgent, rt.IP})
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

// Sessions lists the actor's live sessions (refresh-token families not
// revoked and not expired), most recently used first.
func (a *Auth) Sessions(ctx context.Context, actor models.Actor) ([]models.SignInSession, error) {
	var rows []refreshTokenRow
	if err := a.db.WithContext(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", actor.UserID, a.clock.Now()).
		Order("created_at").Find(&rows).Error; err != nil {
		return nil, err
	}
	// A family is live while it holds a token not yet spent (rotation
	// leaves the spent ones behind, still unrevoked).
	byFamily := map[string]*models.SignInSession{}
	live := map[string]bool{}
	var order []string
	for _, r := range rows {
		s, ok := byFamily[r.FamilyID]
		if !ok {
			s = &models.SignInSession{ID: r.FamilyID, CreatedAt: r.CreatedAt.UTC(), Current: r.FamilyID == actor.SessionID}
			byFamily[r.FamilyID] = s
			order = append(order, r.FamilyID)
		}
		s.LastUsedAt, s.UserAgent, s.IP = r.CreatedAt.UTC(), r.UserAgent, r.IP
		live[r.FamilyID] = live[r.FamilyID] || r.UsedAt == nil
	}
	list := make([]models.SignInSession, 0, len(order))
	for _, id := range order {
		if live[id] {
			list = append(list, *byFamily[id])
		}
	}
	slices.SortFunc(list, func(x, y models.SignInSession) int { return y.LastUsedAt.Compare(x.LastUsedAt) })
	return list, nil
}

// EndSession revokes one of the actor's sessions and closes its sockets.
func (a *Auth) EndSession(ctx context.Context, actor models.Actor, id string) error {
	now := a.clock.Now()
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&refreshTokenRow{}).Where("user_id = ? AND family_id = ? AND revoked_at IS NULL", actor.UserID, id).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.ENOTFOUND, "session not found")
		}
		if a.outbox == nil {
			return nil
		}
		return a.outbox.add(tx, models.SessionEnded{UserID: actor.UserID, SessionID: id, At: now})
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
	// Every request and socket handshake comes here: only a doctor has a
	// profile to load.
	err = a.db.WithContext(ctx).Where("id = ?", c.UserID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Principal{}, errBadAccess
	}
	if err != nil {
		return models.Principal{}, err
	}
	if r.Role == string(models.RoleDoctor) {
		var d []doctorProfileRow
		if err := a.db.WithContext(ctx).Where("user_id = ?", r.ID).Limit(1).Find(&d).Error; err != nil {
			return models.Principal{}, err
		}
		if len(d) == 1 {
			r.Doctor = &d[0]
		}
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
