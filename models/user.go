package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Role is what a user may do on the platform.
type Role string

// Roles.
const (
	RolePatient Role = "patient"
	RoleDoctor  Role = "doctor"
	RoleAdmin   Role = "admin"
)

// User is a person with an account.
type User struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	Role         Role
	TimeZone     string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Doctor is set for doctors when loaded.
	Doctor *DoctorProfile `gorm:"foreignKey:UserID"`
}

// DoctorProfile is what patients see of a doctor besides the name.
type DoctorProfile struct {
	UserID    string `gorm:"primaryKey"`
	Specialty string
	Bio       string
	UpdatedAt time.Time
}

// Actor is who performs an operation, as established by authentication.
type Actor struct {
	UserID    string
	Role      Role
	RequestID string
}

// IsAdmin reports whether the actor is an admin.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

// SystemActor is used for operations that the platform performs by itself.
var SystemActor = Actor{UserID: "system", Role: RoleAdmin}

// RegisterInput is a patient's sign-up.
type RegisterInput struct {
	Email    string `json:"email" validate:"required,utf8,max=254,email"`
	Password string `json:"password" validate:"required,utf8,min=8,max=128"`
	Name     string `json:"name" validate:"required,utf8,min=1,max=120"`
	TimeZone string `json:"time_zone" validate:"omitempty,timezone"`
}

// CreateUserInput is an admin creating any kind of user.
type CreateUserInput struct {
	Email     string `json:"email" validate:"required,utf8,max=254,email"`
	Password  string `json:"password" validate:"required,utf8,min=8,max=128"`
	Name      string `json:"name" validate:"required,utf8,min=1,max=120"`
	Role      Role   `json:"role" validate:"required,oneof=patient doctor admin"`
	TimeZone  string `json:"time_zone" validate:"omitempty,timezone"`
	Specialty string `json:"specialty" validate:"required_if=Role doctor,omitempty,utf8,max=80"`
	Bio       string `json:"bio" validate:"omitempty,utf8,max=2000"`
}

// UpdateProfileInput changes a user's own profile; nil fields stay.
type UpdateProfileInput struct {
	Name      *string `json:"name" validate:"omitempty,utf8,min=1,max=120"`
	TimeZone  *string `json:"time_zone" validate:"omitempty,timezone"`
	Specialty *string `json:"specialty" validate:"omitempty,utf8,min=1,max=80"`
	Bio       *string `json:"bio" validate:"omitempty,utf8,max=2000"`
	Password  *string `json:"password" validate:"omitempty,utf8,min=8,max=128"`
}

// AdminUpdateUserInput is what an admin may change on any user; nil fields stay.
type AdminUpdateUserInput struct {
	Name      *string `json:"name" validate:"omitempty,utf8,min=1,max=120"`
	Role      *Role   `json:"role" validate:"omitempty,oneof=patient doctor admin"`
	Disabled  *bool   `json:"disabled"`
	Specialty *string `json:"specialty" validate:"omitempty,utf8,min=1,max=80"`
	Bio       *string `json:"bio" validate:"omitempty,utf8,max=2000"`
}

// UserFilter narrows an admin's user list.
type UserFilter struct {
	Role   Role
	Query  string
	Limit  int
	Cursor string
}

// Users manages accounts.
type Users struct {
	db     *gorm.DB
	hasher *PasswordHasher
	clock  Clock
	events *Events
	audit  *Audit
}

// NewUsers builds the user service.
func NewUsers(db *gorm.DB, hasher *PasswordHasher, clock Clock, events *Events, audit *Audit) *Users {
	return &Users{db: db, hasher: hasher, clock: clock, events: events, audit: audit}
}

// NormalizeEmail is how emails are stored and compared.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Register creates a patient. Returns ECONFLICT if the email is taken.
func (s *Users) Register(ctx context.Context, in RegisterInput) (User, error) {
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	if err := Validate(in); err != nil {
		return User{}, err
	}
	return s.create(ctx, CreateUserInput{Email: in.Email, Password: in.Password, Name: in.Name, Role: RolePatient, TimeZone: in.TimeZone})
}

// Create makes a user of any role. Admins only.
func (s *Users) Create(ctx context.Context, actor Actor, in CreateUserInput) (User, error) {
	if !actor.IsAdmin() {
		return User{}, Errorf(EFORBIDDEN, "only admins create users")
	}
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	if err := Validate(in); err != nil {
		return User{}, err
	}
	u, err := s.create(ctx, in)
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, s.db, actor, "user.create", "user", u.ID, map[string]any{"role": u.Role})
	return u, nil
}

func (s *Users) create(ctx context.Context, in CreateUserInput) (User, error) {
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.clock.Now()
	tz := in.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	u := User{ID: uuid.NewString(), Email: in.Email, Name: in.Name, PasswordHash: hash, Role: in.Role, TimeZone: tz, CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("Doctor").Create(&u).Error; err != nil {
			return err
		}
		if u.Role == RoleDoctor {
			p := DoctorProfile{UserID: u.ID, Specialty: strings.TrimSpace(in.Specialty), Bio: in.Bio, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			u.Doctor = &p
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return User{}, Errorf(ECONFLICT, "an account with this email already exists").WithDetails(map[string]any{"fields": map[string]any{"email": "is already registered"}})
	}
	return u, err
}

// Get returns a user with the doctor profile, or ENOTFOUND.
func (s *Users) Get(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Preload("Doctor").Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, Errorf(ENOTFOUND, "user not found")
	}
	return u, err
}

// AdminGet returns any user to an admin.
func (s *Users) AdminGet(ctx context.Context, actor Actor, id string) (User, error) {
	if !actor.IsAdmin() {
		return User{}, Errorf(EFORBIDDEN, "admins only")
	}
	return s.Get(ctx, id)
}

// UpdateProfile changes the actor's own profile.
func (s *Users) UpdateProfile(ctx context.Context, actor Actor, in UpdateProfileInput) (User, error) {
	if err := Validate(in); err != nil {
		return User{}, err
	}
	u, err := s.Get(ctx, actor.UserID)
	if err != nil {
		return User{}, err
	}
	if (in.Specialty != nil || in.Bio != nil) && u.Role != RoleDoctor {
		return User{}, InvalidFields(map[string]any{"specialty": "only doctors have a specialty and bio"})
	}
	now := s.clock.Now()
	upd := map[string]any{"updated_at": now}
	if in.Name != nil {
		upd["name"] = strings.TrimSpace(*in.Name)
	}
	if in.TimeZone != nil {
		upd["time_zone"] = *in.TimeZone
	}
	if in.Password != nil {
		h, err := s.hasher.Hash(*in.Password)
		if err != nil {
			return User{}, err
		}
		upd["password_hash"] = h
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(upd).Error; err != nil {
			return err
		}
		return updateDoctorProfile(tx, u.ID, in.Specialty, in.Bio, now)
	})
	if err != nil {
		return User{}, err
	}
	return s.Get(ctx, u.ID)
}

func updateDoctorProfile(tx *gorm.DB, userID string, specialty, bio *string, now time.Time) error {
	if specialty == nil && bio == nil {
		return nil
	}
	upd := map[string]any{"updated_at": now}
	if specialty != nil {
		upd["specialty"] = strings.TrimSpace(*specialty)
	}
	if bio != nil {
		upd["bio"] = *bio
	}
	return tx.Model(&DoctorProfile{}).Where("user_id = ?", userID).Updates(upd).Error
}

// AdminUpdate changes role, name or the disabled flag of any user. Disabling
// revokes every refresh token of the user at once, and access tokens stop
// working at their next check because every check reads the flag.
func (s *Users) AdminUpdate(ctx context.Context, actor Actor, id string, in AdminUpdateUserInput) (User, error) {
	if !actor.IsAdmin() {
		return User{}, Errorf(EFORBIDDEN, "admins only")
	}
	if err := Validate(in); err != nil {
		return User{}, err
	}
	if id == actor.UserID && ((in.Disabled != nil && *in.Disabled) || (in.Role != nil && *in.Role != RoleAdmin)) {
		return User{}, Errorf(ECONFLICT, "admins cannot disable or demote themselves")
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return User{}, err
	}
	now := s.clock.Now()
	upd := map[string]any{"updated_at": now}
	changes := map[string]any{}
	if in.Name != nil {
		upd["name"] = strings.TrimSpace(*in.Name)
		changes["name"] = upd["name"]
	}
	if in.Role != nil && *in.Role != u.Role {
		upd["role"] = *in.Role
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
	if (in.Specialty != nil || in.Bio != nil) && newRole != RoleDoctor {
		return User{}, InvalidFields(map[string]any{"specialty": "only doctors have a specialty and bio"})
	}
	if newRole == RoleDoctor && u.Doctor == nil && in.Specialty == nil {
		return User{}, InvalidFields(map[string]any{"specialty": "is required to make a user a doctor"})
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if newRole == RoleDoctor && u.Doctor == nil {
			p := DoctorProfile{UserID: id, Specialty: strings.TrimSpace(*in.Specialty), UpdatedAt: now}
			if in.Bio != nil {
				p.Bio = *in.Bio
			}
			return tx.Create(&p).Error
		}
		if err := updateDoctorProfile(tx, id, in.Specialty, in.Bio, now); err != nil {
			return err
		}
		if in.Disabled != nil && *in.Disabled {
			return revokeUserTokens(tx, id, now)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, s.db, actor, "user.update", "user", id, changes)
	if in.Disabled != nil && *in.Disabled && !u.Disabled {
		s.events.Publish(ctx, Event{Kind: EventUserDisabled, Actor: actor, UserID: id, At: now})
	}
	return s.Get(ctx, id)
}

// List returns users for an admin, newest first.
func (s *Users) List(ctx context.Context, actor Actor, f UserFilter) (Page[User], error) {
	if !actor.IsAdmin() {
		return Page[User]{}, Errorf(EFORBIDDEN, "admins only")
	}
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return Page[User]{}, err
	}
	cur, err := DecodeCursor(f.Cursor)
	if err != nil {
		return Page[User]{}, err
	}
	q := s.db.WithContext(ctx).Model(&User{}).Preload("Doctor")
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		q = q.Where("(LOWER(name) LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')", like, like)
	}
	if cur != nil {
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", cur.At, cur.At, cur.ID)
	}
	var rows []User
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return Page[User]{}, err
	}
	return pageOf(rows, limit, func(u User) (time.Time, string) { return u.CreatedAt, u.ID }), nil
}

// EnsureAdmin creates an admin with email and password unless a user with
// that email exists. It reports whether it created one.
func (s *Users) EnsureAdmin(ctx context.Context, email, password, name string) (bool, error) {
	email = NormalizeEmail(email)
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Where("email = ?", email).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := s.Create(ctx, SystemActor, CreateUserInput{Email: email, Password: password, Name: name, Role: RoleAdmin})
	if ErrorCode(err) == ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// escapeLike escapes LIKE wildcards in user input.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
