package models

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// AuditEntry records who did what to which record, and from which request.
type AuditEntry struct {
	ID         string `gorm:"primaryKey"`
	ActorID    string
	ActorRole  Role
	Action     string
	TargetType string
	TargetID   string
	RequestID  string
	Details    *string
	CreatedAt  time.Time
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorID    string
	TargetType string
	TargetID   string
	Limit      int
	Cursor     string
}

// Audit writes and reads the audit log.
type Audit struct {
	db    *gorm.DB
	clock Clock
	log   *slog.Logger
}

// NewAudit builds the audit log service.
func NewAudit(db *gorm.DB, clock Clock, log *slog.Logger) *Audit {
	return &Audit{db: db, clock: clock, log: log}
}

// Record writes one entry through db (pass a transaction to make the entry
// part of it). A failure outside a transaction is logged, not returned: the
// audited operation has already happened.
func (a *Audit) Record(ctx context.Context, db *gorm.DB, actor Actor, action, targetType, targetID string, details map[string]any) {
	if err := a.RecordTx(ctx, db, actor, action, targetType, targetID, details); err != nil {
		a.log.ErrorContext(ctx, "audit write failed", "action", action, "target_id", targetID, "err", err)
	}
}

// RecordTx writes one entry and returns the error, for use inside a transaction.
func (a *Audit) RecordTx(ctx context.Context, db *gorm.DB, actor Actor, action, targetType, targetID string, details map[string]any) error {
	e := AuditEntry{
		ID: uuid.NewString(), ActorID: actor.UserID, ActorRole: actor.Role, Action: action,
		TargetType: targetType, TargetID: targetID, RequestID: actor.RequestID, CreatedAt: a.clock.Now(),
	}
	if len(details) > 0 {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		s := string(b)
		e.Details = &s
	}
	return db.WithContext(ctx).Create(&e).Error
}

// List returns audit entries, newest first. Admins only.
func (a *Audit) List(ctx context.Context, actor Actor, f AuditFilter) (Page[AuditEntry], error) {
	if !actor.IsAdmin() {
		return Page[AuditEntry]{}, Errorf(EFORBIDDEN, "admins only")
	}
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	cur, err := DecodeCursor(f.Cursor)
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	q := a.db.WithContext(ctx).Model(&AuditEntry{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if cur != nil {
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", cur.At, cur.At, cur.ID)
	}
	var rows []AuditEntry
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return Page[AuditEntry]{}, err
	}
	return pageOf(rows, limit, func(e AuditEntry) (time.Time, string) { return e.CreatedAt, e.ID }), nil
}
