package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Audit writes the audit log inside the operations' transactions and reads it.
type Audit struct {
	db    *gorm.DB
	clock models.Clock
	log   *slog.Logger
}

// NewAudit builds the audit log on db.
func NewAudit(db *gorm.DB, clock models.Clock, log *slog.Logger) *Audit {
	return &Audit{db: db, clock: clock, log: discardIfNil(log)}
}

// record writes one entry through db (a transaction makes it part of it).
func (a *Audit) record(ctx context.Context, db *gorm.DB, actor models.Actor, action, targetType, targetID string, details map[string]any) error {
	e := auditRow{ID: uuid.NewString(), ActorID: actor.UserID, ActorRole: string(actor.Role), Action: action,
		TargetType: targetType, TargetID: targetID, RequestID: actor.RequestID, CreatedAt: a.clock.Now()}
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

// recordAfter writes an entry for an operation that has already happened:
// a failure is logged, not returned.
func (a *Audit) recordAfter(ctx context.Context, actor models.Actor, action, targetType, targetID string, details map[string]any) {
	if err := a.record(ctx, a.db, actor, action, targetType, targetID, details); err != nil {
		a.log.ErrorContext(ctx, "audit write failed", "action", action, "target_id", targetID, "err", err)
	}
}

// List returns audit entries, newest first. Admins only.
func (a *Audit) List(ctx context.Context, actor models.Actor, f models.AuditFilter) (models.Page[models.AuditEntry], error) {
	if !actor.IsAdmin() {
		return models.Page[models.AuditEntry]{}, models.Errorf(models.EFORBIDDEN, "admins only")
	}
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.AuditEntry]{}, err
	}
	cur, err := models.DecodeCursor(f.Cursor)
	if err != nil {
		return models.Page[models.AuditEntry]{}, err
	}
	q := a.db.WithContext(ctx).Model(&auditRow{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if strings.HasSuffix(f.Action, ".") {
		q = q.Where("action LIKE ? ESCAPE '\\'", escapeLike(f.Action)+"%")
	} else if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.From != "" {
		from, err := models.ParseTime("from", f.From)
		if err != nil {
			return models.Page[models.AuditEntry]{}, err
		}
		q = q.Where("created_at >= ?", from)
	}
	if f.To != "" {
		to, err := models.ParseTime("to", f.To)
		if err != nil {
			return models.Page[models.AuditEntry]{}, err
		}
		q = q.Where("created_at < ?", to)
	}
	if cur != nil {
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", cur.At, cur.At, cur.ID)
	}
	var rows []auditRow
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Page[models.AuditEntry]{}, err
	}
	entries := make([]models.AuditEntry, len(rows))
	for i, r := range rows {
		entries[i] = r.toModel()
	}
	return models.PageOf(entries, limit, func(e models.AuditEntry) (time.Time, string) { return e.CreatedAt, e.ID }), nil
}
