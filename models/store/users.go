package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Users manages accounts.
type Users struct {
	db     *gorm.DB
	clock  models.Clock
	hasher models.PasswordHasher
	audit  *Audit
	outbox *Outbox
}

// NewUsers builds the user service.
func NewUsers(db *gorm.DB, clock models.Clock, hasher models.PasswordHasher, audit *Audit, outbox *Outbox) *Users {
	return &Users{db: db, clock: clock, hasher: hasher, audit: audit, outbox: outbox}
}

// Register creates a patient.
func (s *Users) Register(ctx context.Context, in models.RegisterInput) (models.User, error) {
	in.Email = models.NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	if err := models.Validate(in); err != nil {
		return models.User{}, err
	}
	if err := models.CheckPassword(in.Password, in.Email, s.hasher.IsCommon); err != nil {
		return models.User{}, err
	}
	return s.create(ctx, models.CreateUserInput{Email: in.Email, Password: in.Password, Name: in.Name, Role: models.RolePatient, TimeZone: in.TimeZone, Locale: in.Locale})
}

// Create makes a user of any role. Admins only.
func (s *Users) Create(ctx context.Context, actor models.Actor, in models.CreateUserInput) (models.User, error) {
	if !actor.IsAdmin() {
		return models.User{}, models.Errorf(models.EFORBIDDEN, "only admins create users")
	}
	in.Email = models.NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.Specialty = strings.TrimSpace(in.Specialty)
	if err := models.Validate(in); err != nil {
		return models.User{}, err
	}
	if err := models.CheckPassword(in.Password, in.Email, s.hasher.IsCommon); err != nil {
		return models.User{}, err
	}
	u, err := s.create(ctx, in)
	if err != nil {
		return models.User{}, err
	}
	s.audit.recordAfter(ctx, actor, "user.create", "user", u.ID, map[string]any{"role": u.Role})
	return u, nil
}

func (s *Users) create(ctx context.Context, in models.CreateUserInput) (models.User, error) {
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return models.User{}, err
	}
	now := s.clock.Now()
	tz := in.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	r := userRow{ID: uuid.NewString(), Email: in.Email, Name: in.Name, PasswordHash: hash, Role: string(in.Role), TimeZone: tz,
		Locale: models.LocaleOr(in.Locale), CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("Doctor").Create(&r).Error; err != nil {
			return err
		}
		if in.Role == models.RoleDoctor {
			p := doctorProfileRow{UserID: r.ID, Specialty: strings.TrimSpace(in.Specialty), Bio: in.Bio, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			r.Doctor = &p
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.User{}, models.Errorf(models.ECONFLICT, "an account with this email already exists").
			WithDetails(map[string]any{"fields": map[string]any{"email": "is already registered"}})
	}
	if err != nil {
		return models.User{}, err
	}
	return r.toModel(), nil
}

// Get returns a user with the doctor profile, or ENOTFOUND.
func (s *Users) Get(ctx context.Context, id string) (models.User, error) {
	return getUser(ctx, s.db, id)
}

func getUser(ctx context.Context, db *gorm.DB, id string) (models.User, error) {
	var r userRow
	err := db.WithContext(ctx).Preload("Doctor").Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, models.Errorf(models.ENOTFOUND, "user not found")
	}
	if err != nil {
		return models.User{}, err
	}
	return r.toModel(), nil
}

// AdminGet returns any user to an admin.
func (s *Users) AdminGet(ctx context.Context, actor models.Actor, id string) (models.User, error) {
	if !actor.IsAdmin() {
		return models.User{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	return s.Get(ctx, id)
}

// UpdateProfile changes the actor's own profile.
func (s *Users) UpdateProfile(ctx context.Context, actor models.Actor, in models.UpdateProfileInput) (models.User, error) {
	in.Name, in.Specialty = trimmed(in.Name), trimmed(in.Specialty)
	if err := models.Validate(in); err != nil {
		return models.User{}, err
	}
	u, err := s.Get(ctx, actor.UserID)
	if err != nil {
		return models.User{}, err
	}
	if (in.Specialty != nil || in.Bio != nil) && u.Role != models.RoleDoctor {
		return models.User{}, models.InvalidFields(map[string]any{"specialty": "only doctors have a specialty and bio"})
	}
	now := s.clock.Now()
	upd := map[string]any{"updated_at": now}
	if in.Name != nil {
		upd["name"] = strings.TrimSpace(*in.Name)
	}
	if in.TimeZone != nil {
		upd["time_zone"] = *in.TimeZone
	}
	if in.Locale != nil {
		upd["locale"] = models.LocaleOr(*in.Locale)
	}
	if in.EmailNotifications != nil {
		upd["email_notifications"] = *in.EmailNotifications
	}
	if in.Password != nil {
		if in.CurrentPassword == nil {
			return models.User{}, models.InvalidFields(map[string]any{"current_password": "is required to set a new password"})
		}
		ok, err := s.hasher.Verify(ctx, *in.CurrentPassword, u.PasswordHash)
		if err != nil {
			return models.User{}, err
		}
		if !ok {
			return models.User{}, models.Errorf(models.EFORBIDDEN, "the current password is wrong").
				WithDetails(map[string]any{"fields": map[string]any{"current_password": "is wrong"}})
		}
		if err := models.CheckPassword(*in.Password, u.Email, s.hasher.IsCommon); err != nil {
			return models.User{}, err
		}
		h, err := s.hasher.Hash(ctx, *in.Password)
		if err != nil {
			return models.User{}, err
		}
		upd["password_hash"] = h
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ?", u.ID).Updates(upd).Error; err != nil {
			return err
		}
		if err := updateDoctorProfile(tx, u.ID, in.Specialty, in.Bio, nil, now); err != nil {
			return err
		}
		if in.Password == nil {
			return nil
		}
		// Every other session ends: its refresh tokens now, its sockets
		// through the event.
		if err := tx.Model(&refreshTokenRow{}).Where("user_id = ? AND family_id <> ? AND revoked_at IS NULL", u.ID, actor.SessionID).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := s.audit.record(ctx, tx, actor, "user.password_change", "user", u.ID, nil); err != nil {
			return err
		}
		return s.outbox.add(tx, models.PasswordChanged{UserID: u.ID, KeepSessionID: actor.SessionID, At: now})
	})
	if err != nil {
		return models.User{}, err
	}
	if in.Password != nil {
		s.outbox.Kick()
	}
	return s.Get(ctx, u.ID)
}

func updateDoctorProfile(tx *gorm.DB, userID string, specialty, bio *string, fee *models.Fee, now time.Time) error {
	if specialty == nil && bio == nil && fee == nil {
		return nil
	}
	upd := map[string]any{"updated_at": now}
	if fee != nil {
		upd["fee_amount"], upd["fee_currency"] = fee.Amount, strings.ToUpper(fee.Currency)
	}
	if specialty != nil {
		upd["specialty"] = strings.TrimSpace(*specialty)
	}
	if bio != nil {
		upd["bio"] = *bio
	}
	return tx.Model(&doctorProfileRow{}).Where("user_id = ?", userID).Updates(upd).Error
}

// AdminUpdate changes role, name, profile or the disabled flag of any user.
// Disabling revokes every refresh token of the user and raises UserDisabled
// in the same transaction; access tokens stop working at their next check
// because every check reads the flag.
func (s *Users) AdminUpdate(ctx context.Context, actor models.Actor, id string, in models.AdminUpdateUserInput) (models.User, error) {
	if !actor.IsAdmin() {
		return models.User{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	in.Name, in.Specialty = trimmed(in.Name), trimmed(in.Specialty)
	if in.Fee != nil {
		f := *in.Fee
		f.Currency = strings.ToUpper(strings.TrimSpace(f.Currency))
		in.Fee = &f
	}
	if err := models.Validate(in); err != nil {
		return models.User{}, err
	}
	if id == actor.UserID && ((in.Disabled != nil && *in.Disabled) || (in.Role != nil && *in.Role != models.RoleAdmin)) {
		return models.User{}, models.Errorf(models.ECONFLICT, "admins cannot disable or demote themselves")
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return models.User{}, err
	}
	now := s.clock.Now()
	upd := map[string]any{"updated_at": now}
	changes := map[string]any{}
	if in.Name != nil {
		upd["name"] = strings.TrimSpace(*in.Name)
		changes["name"] = upd["name"]
	}
	if in.Role != nil && *in.Role != u.Role {
		upd["role"] = string(*in.Role)
		changes["role"] = *in.Role
	}
	if in.Disabled != nil && *in.Disabled != u.Disabled {
		upd["disabled"] = *in.Disabled
		changes["disabled"] = *in.Disabled
	}
	newRole := u.Role
	if in.Role != nil {
		newRole = *in.Role
	}
	if (in.Specialty != nil || in.Bio != nil || in.Fee != nil) && newRole != models.RoleDoctor {
		return models.User{}, models.InvalidFields(map[string]any{"specialty": "only doctors have a specialty, bio and fee"})
	}
	if in.Fee != nil {
		changes["fee"] = *in.Fee
	}
	if newRole == models.RoleDoctor && u.Doctor == nil && in.Specialty == nil {
		return models.User{}, models.InvalidFields(map[string]any{"specialty": "is required to make a user a doctor"})
	}
	disabling := in.Disabled != nil && *in.Disabled && !u.Disabled
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if newRole == models.RoleDoctor && u.Doctor == nil {
			p := doctorProfileRow{UserID: id, Specialty: strings.TrimSpace(*in.Specialty), UpdatedAt: now}
			if in.Bio != nil {
				p.Bio = *in.Bio
			}
			if in.Fee != nil {
				p.FeeAmount, p.FeeCurrency = in.Fee.Amount, strings.ToUpper(in.Fee.Currency)
			}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
		} else if err := updateDoctorProfile(tx, id, in.Specialty, in.Bio, in.Fee, now); err != nil {
			return err
		}
		if disabling {
			if err := revokeUserTokens(tx, id, now); err != nil {
				return err
			}
			if err := s.outbox.add(tx, models.UserDisabled{UserID: id, ActorID: actor.UserID, At: now}); err != nil {
				return err
			}
		}
		return s.audit.record(ctx, tx, actor, "user.update", "user", id, changes)
	})
	if err != nil {
		return models.User{}, err
	}
	if disabling {
		s.outbox.Kick()
	}
	return s.Get(ctx, id)
}

// List returns users for an admin, newest first.
func (s *Users) List(ctx context.Context, actor models.Actor, f models.UserFilter) (models.Page[models.User], error) {
	if !actor.IsAdmin() {
		return models.Page[models.User]{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.User]{}, err
	}
	cur, err := models.DecodeCursor(f.Cursor)
	if err != nil {
		return models.Page[models.User]{}, err
	}
	q := s.db.WithContext(ctx).Model(&userRow{}).Preload("Doctor")
	if f.Role != "" {
		q = q.Where("role = ?", string(f.Role))
	}
	switch f.Status {
	case "":
	case "active":
		q = q.Where("disabled = ?", false)
	case "disabled":
		q = q.Where("disabled = ?", true)
	case "deletion_requested":
		q = q.Where("deletion_requested_at IS NOT NULL AND anonymised_at IS NULL")
	default:
		return models.Page[models.User]{}, models.InvalidFields(map[string]any{"status": "must be one of active, disabled, deletion_requested"})
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		q = q.Where("(LOWER(name) LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')", like, like)
	}
	if cur != nil {
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", cur.At, cur.At, cur.ID)
	}
	var rows []userRow
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Page[models.User]{}, err
	}
	users := make([]models.User, len(rows))
	for i, r := range rows {
		users[i] = r.toModel()
	}
	return models.PageOf(users, limit, func(u models.User) (time.Time, string) { return u.CreatedAt, u.ID }), nil
}

// EnsureAdmin creates an admin with email and password unless a user with
// that email exists. It reports whether it created one.
func (s *Users) EnsureAdmin(ctx context.Context, email, password, name string) (bool, error) {
	email = models.NormalizeEmail(email)
	var n int64
	if err := s.db.WithContext(ctx).Model(&userRow{}).Where("email = ?", email).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := s.Create(ctx, models.SystemActor, models.CreateUserInput{Email: email, Password: password, Name: name, Role: models.RoleAdmin})
	if models.ErrorCode(err) == models.ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// trimmed trims an optional text field before it is validated.
func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	return &t
}

func revokeUserTokens(tx *gorm.DB, userID string, now time.Time) error {
	return tx.Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", now).Error
}
