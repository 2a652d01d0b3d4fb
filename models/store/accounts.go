package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Accounts is a user's own data: the export and the deletion of an account.
type Accounts struct {
	db     *gorm.DB
	clock  models.Clock
	audit  *Audit
	outbox *Outbox
	users  *Users
	appts  *Appointments
}

// NewAccounts builds the account data service.
func NewAccounts(db *gorm.DB, clock models.Clock, audit *Audit, outbox *Outbox, users *Users, appts *Appointments) *Accounts {
	return &Accounts{db: db, clock: clock, audit: audit, outbox: outbox, users: users, appts: appts}
}

// Export returns everything stored about the actor.
func (s *Accounts) Export(ctx context.Context, actor models.Actor) (models.Export, error) {
	u, err := s.users.Get(ctx, actor.UserID)
	if err != nil {
		return models.Export{}, err
	}
	out := models.Export{ExportedAt: s.clock.Now().UTC(), User: u}
	db := s.db.WithContext(ctx)
	var appts []appointmentRow
	// Each appointment with its payment (the receipts are the user's data too).
	if err := db.Preload("Doctor.Doctor").Preload("Patient").Preload("Payment").Where("patient_id = ? OR doctor_id = ?", actor.UserID, actor.UserID).
		Order("starts_at").Find(&appts).Error; err != nil {
		return models.Export{}, err
	}
	ids := make([]string, len(appts))
	for i, a := range appts {
		out.Appointments = append(out.Appointments, seenBy(actor, a.toModel()))
		ids[i] = a.ID
	}
	if len(ids) > 0 {
		var ms []messageRow
		if err := db.Preload("Attachment").Where("appointment_id IN ?", ids).Order("appointment_id, seq").Find(&ms).Error; err != nil {
			return models.Export{}, err
		}
		out.Messages = messagesToModel(ms)
	}
	var ns []notificationRow
	if err := db.Where("user_id = ?", actor.UserID).Order("created_at").Find(&ns).Error; err != nil {
		return models.Export{}, err
	}
	for _, n := range ns {
		out.Notifications = append(out.Notifications, n.toModel())
	}
	s.audit.recordAfter(ctx, actor, "user.export", "user", actor.UserID, nil)
	return out, nil
}

// RequestDeletion records a patient's request to delete their account.
func (s *Accounts) RequestDeletion(ctx context.Context, actor models.Actor) (models.User, error) {
	if actor.Role != models.RolePatient {
		return models.User{}, models.Errorf(models.EFORBIDDEN, "only patients delete their accounts themselves; the clinic keeps its staff's records")
	}
	now := s.clock.Now().UTC()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ? AND deletion_requested_at IS NULL", actor.UserID).
			Update("deletion_requested_at", now).Error; err != nil {
			return err
		}
		return s.audit.record(ctx, tx, actor, "user.deletion_requested", "user", actor.UserID, nil)
	})
	if err != nil {
		return models.User{}, err
	}
	return s.users.Get(ctx, actor.UserID)
}

// deletedNote is the reason given to the doctor of a booking the deletion cancels.
const deletedNote = "The patient's account was deleted."

// Anonymise deletes an account whose owner asked for it.
func (s *Accounts) Anonymise(ctx context.Context, actor models.Actor, userID string) (models.User, error) {
	if !actor.IsAdmin() {
		return models.User{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	var u userRow
	err := s.db.WithContext(ctx).Where("id = ?", userID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, models.Errorf(models.ENOTFOUND, "no such user")
	}
	if err != nil {
		return models.User{}, err
	}
	if u.AnonymisedAt != nil {
		return s.users.Get(ctx, userID)
	}
	if u.DeletionRequestedAt == nil {
		return models.User{}, models.Errorf(models.ECONFLICT, "this user has not asked for their account to be deleted")
	}
	// Bookings still ahead are cancelled first (each tells the doctor); a
	// failure leaves the account as it was, and a retry goes on.
	var ahead []string
	if err := s.db.WithContext(ctx).Model(&appointmentRow{}).Where("patient_id = ? AND status = ?", userID, models.StatusBooked).
		Pluck("id", &ahead).Error; err != nil {
		return models.User{}, err
	}
	for _, id := range ahead {
		if _, err := s.appts.Cancel(ctx, actor, id, models.CancelInput{Reason: deletedNote}); err != nil && models.ErrorCode(err) != models.ECONFLICT {
			return models.User{}, err
		}
	}
	now := s.clock.Now().UTC()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		upd := map[string]any{
			"name": "Deleted user", "email": "deleted-" + u.ID + "@invalid", "password_hash": "!" + uuid.NewString(),
			"time_zone": "UTC", "locale": models.Locales[0], "email_notifications": false, "disabled": true,
			"anonymised_at": now, "updated_at": now,
		}
		if err := tx.Model(&userRow{}).Where("id = ?", userID).Updates(upd).Error; err != nil {
			return err
		}
		if err := revokeUserTokens(tx, userID, now); err != nil {
			return err
		}
		// Their notifications and pending reset links go with them.
		if err := tx.Where("user_id = ?", userID).Delete(&notificationRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", userID).Delete(&passwordResetRow{}).Error; err != nil {
			return err
		}
		if err := s.outbox.add(tx, models.UserDisabled{UserID: userID, ActorID: actor.UserID, At: now}); err != nil {
			return err
		}
		return s.audit.record(ctx, tx, actor, "user.anonymise", "user", userID, map[string]any{"cancelled_bookings": len(ahead),
			"requested_at": u.DeletionRequestedAt.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return models.User{}, err
	}
	s.outbox.Kick()
	return s.users.Get(ctx, userID)
}
