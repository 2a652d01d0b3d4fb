package store

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"teleconsult/models"
)

// announceBatch is how many notifications one INSERT writes.
const announceBatch = 1000

// Notifications stores and lists notifications, turns events into them and
// raises reminders.
type Notifications struct {
	db     *gorm.DB
	clock  models.Clock
	audit  *Audit
	outbox *Outbox
	// ReminderOffsets are how long before a start reminders go out.
	ReminderOffsets []time.Duration

	mailer    models.Mailer // nil: no notification mails
	publicURL string
}

// MailTo turns on notification mails (for users who opted in) through
// mailer; links in them point at publicURL.
func (n *Notifications) MailTo(mailer models.Mailer, publicURL string) {
	n.mailer, n.publicURL = mailer, strings.TrimRight(publicURL, "/")
}

// NewNotifications builds the notification service.
func NewNotifications(db *gorm.DB, clock models.Clock, audit *Audit, outbox *Outbox, reminderOffsets []time.Duration) *Notifications {
	return &Notifications{db: db, clock: clock, audit: audit, outbox: outbox, ReminderOffsets: reminderOffsets}
}

// List returns the actor's notifications, newest first.
func (n *Notifications) List(ctx context.Context, actor models.Actor, f models.NotificationFilter) (models.Page[models.Notification], error) {
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.Notification]{}, err
	}
	cur, err := models.DecodeCursor(f.Cursor)
	if err != nil {
		return models.Page[models.Notification]{}, err
	}
	q := n.db.WithContext(ctx).Where("user_id = ?", actor.UserID)
	if f.UnreadOnly {
		q = q.Where("read_at IS NULL")
	}
	if cur != nil {
		q = q.Where("(created_at < ?) OR (created_at = ? AND id < ?)", cur.At, cur.At, cur.ID)
	}
	var rows []notificationRow
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Page[models.Notification]{}, err
	}
	items := make([]models.Notification, len(rows))
	for i, r := range rows {
		items[i] = r.toModel()
	}
	return models.PageOf(items, limit, func(x models.Notification) (time.Time, string) { return x.CreatedAt, x.ID }), nil
}

// UnreadCount counts the actor's unread notifications.
func (n *Notifications) UnreadCount(ctx context.Context, actor models.Actor) (int64, error) {
	var c int64
	err := n.db.WithContext(ctx).Model(&notificationRow{}).Where("user_id = ? AND read_at IS NULL", actor.UserID).Count(&c).Error
	return c, err
}

// MarkRead marks one of the actor's notifications read; another user's is ENOTFOUND.
func (n *Notifications) MarkRead(ctx context.Context, actor models.Actor, id string) (models.Notification, error) {
	now := n.clock.Now().UTC()
	db := n.db.WithContext(ctx)
	if err := db.Model(&notificationRow{}).Where("id = ? AND user_id = ? AND read_at IS NULL", id, actor.UserID).Update("read_at", now).Error; err != nil {
		return models.Notification{}, err
	}
	var out notificationRow
	err := db.Where("id = ? AND user_id = ?", id, actor.UserID).Take(&out).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Notification{}, models.Errorf(models.ENOTFOUND, "notification not found")
	}
	if err != nil {
		return models.Notification{}, err
	}
	return out.toModel(), nil
}

// MarkAllRead marks every unread notification of the actor read.
func (n *Notifications) MarkAllRead(ctx context.Context, actor models.Actor) (int64, error) {
	res := n.db.WithContext(ctx).Model(&notificationRow{}).Where("user_id = ? AND read_at IS NULL", actor.UserID).
		Update("read_at", n.clock.Now().UTC())
	return res.RowsAffected, res.Error
}

// audienceQuery selects the enabled users an announcement reaches.
func (n *Notifications) audienceQuery(ctx context.Context, db *gorm.DB, audience string) *gorm.DB {
	q := db.WithContext(ctx).Model(&userRow{}).Where("disabled = ?", false)
	if role := models.AudienceRole(audience); role != "" {
		q = q.Where("role = ?", string(role))
	}
	return q
}

// Announce raises AnnouncementPosted in one transaction with its audit
// entry; the dispatcher stores one notification per recipient.
func (n *Notifications) Announce(ctx context.Context, actor models.Actor, in models.AnnouncementInput) (int, error) {
	if !actor.IsAdmin() {
		return 0, models.Errorf(models.EFORBIDDEN, "only admins make announcements")
	}
	if err := models.Validate(in); err != nil {
		return 0, err
	}
	now := n.clock.Now().UTC()
	var total int64
	err := n.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := n.audienceQuery(ctx, tx, in.Audience).Count(&total).Error; err != nil {
			return err
		}
		if err := n.outbox.add(tx, models.AnnouncementPosted{Title: in.Title, Body: in.Body, Audience: in.Audience, ActorID: actor.UserID, At: now}); err != nil {
			return err
		}
		return n.audit.record(ctx, tx, actor, models.AuditAnnouncement, "announcement", "", map[string]any{"audience": in.Audience, "recipients": total, "title": in.Title, "body": in.Body})
	})
	if err != nil {
		return 0, err
	}
	n.outbox.Kick()
	return int(total), nil
}

// Record stores the notifications an event raises, once per event and
// recipient (the key's unique index makes a second call store nothing), and
// returns them as stored.
func (n *Notifications) Record(ctx context.Context, env models.Envelope) ([]models.Notification, error) {
	if _, ok := env.Event.(models.AnnouncementPosted); ok {
		return n.recordAnnouncement(ctx, env)
	}
	return n.insert(ctx, models.NotificationsFor(env))
}

func (n *Notifications) recordAnnouncement(ctx context.Context, env models.Envelope) ([]models.Notification, error) {
	ev := env.Event.(models.AnnouncementPosted)
	var out []models.Notification
	after := ""
	for {
		var ids []string
		if err := n.audienceQuery(ctx, n.db, ev.Audience).Where("id > ?", after).
			Order("id").Limit(announceBatch).Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return out, nil
		}
		batch := make([]models.Notification, len(ids))
		for i, id := range ids {
			batch[i] = models.AnnouncementFor(env, id)
		}
		stored, err := n.insert(ctx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, stored...)
		after = ids[len(ids)-1]
	}
}

// insert writes ns, skipping those whose key is already stored, and
// returns every one of them as stored (with its id).
func (n *Notifications) insert(ctx context.Context, ns []models.Notification) ([]models.Notification, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	db := n.db.WithContext(ctx)
	mailed, err := n.optedIn(ctx, ns)
	if err != nil {
		return nil, err
	}
	rows := make([]notificationRow, len(ns))
	keys := make([]string, len(ns))
	for i, x := range ns {
		x.ID = uuid.NewString()
		rows[i] = notificationFromModel(x)
		if mailed[x.UserID] && models.Mailable(x.Kind) || mailed[x.UserID+always] && models.AlwaysMailed(x.Kind) {
			// Stored once (the key), so mailed once.
			rows[i].MailState = mailPending
		}
		keys[i] = x.Key
	}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, announceBatch).Error; err != nil {
		return nil, err
	}
	var stored []notificationRow
	for chunk := range slices.Chunk(keys, 500) {
		var part []notificationRow
		if err := db.Where("dedupe_key IN ?", chunk).Find(&part).Error; err != nil {
			return nil, err
		}
		stored = append(stored, part...)
	}
	out := make([]models.Notification, len(stored))
	for i, r := range stored {
		out[i] = r.toModel()
	}
	return out, nil
}

// SendReminders raises the reminders that are due: for each booked
// appointment that has not started and each configured offset whose time
// has come (and that was still ahead when the appointment was booked). A
// claim row per appointment and offset makes each go out once across
// nodes; a reminder missed while no node ran goes out late, once. When
// several offsets are due at once only the nearest is sent.
func (n *Notifications) SendReminders(ctx context.Context) (int, error) {
	offsets := slices.Clone(n.ReminderOffsets)
	if len(offsets) == 0 {
		return 0, nil
	}
	slices.Sort(offsets)
	now := n.clock.Now().UTC()
	longest := offsets[len(offsets)-1]
	var due []appointmentRow
	err := n.db.WithContext(ctx).Preload("Doctor.Doctor").Preload("Patient").
		Where("status = ? AND starts_at > ? AND starts_at <= ?", models.StatusBooked, now, now.Add(longest)).
		Order("starts_at").Limit(5000).Find(&due).Error
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, r := range due {
		a := r.toModel()
		offs := models.DueReminder(a, offsets, now)
		if len(offs) == 0 {
			continue
		}
		ok, err := n.claim(ctx, a, offs, now)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	if sent > 0 {
		n.outbox.Kick()
	}
	return sent, nil
}

// claim inserts the claims and, when the nearest offset's claim is new,
// raises the reminder in the same transaction.
func (n *Notifications) claim(ctx context.Context, a models.Appointment, offsets []time.Duration, now time.Time) (bool, error) {
	raised := false
	err := n.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i, off := range offsets {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&reminderClaimRow{AppointmentID: a.ID, OffsetSeconds: int64(off / time.Second), ClaimedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if i == 0 && res.RowsAffected == 0 {
				return nil // another node sent the nearest one
			}
		}
		raised = true
		return n.outbox.add(tx, models.ReminderDue{AppointmentEvent: models.AppointmentEvent{Appointment: a, ActorID: models.SystemActor.UserID, At: now}, Offset: offsets[0]})
	})
	return raised && err == nil, err
}

// Notification mail states.
const (
	mailPending = "pending"
	mailSending = "sending"
	mailSent    = "sent"
	mailFailed  = "failed"
	// mailLease is how long a node's claim on a mail lasts; a node that
	// died while sending leaves it to another after this.
	mailLease = 5 * time.Minute
	// mailTries is how many failed sends end in "failed".
	mailTries = 5
)

// always marks, in optedIn's answer, a recipient who gets the mails that
// go to everyone (models.AlwaysMailed).
const always = "\x00always"

// optedIn returns which recipients of ns want mails, and (id+always) which
// may get the mails everyone gets; none when mails are off.
func (n *Notifications) optedIn(ctx context.Context, ns []models.Notification) (map[string]bool, error) {
	out := map[string]bool{}
	if n.mailer == nil {
		return out, nil
	}
	var ids []string
	for _, x := range ns {
		if models.Mailable(x.Kind) && !slices.Contains(ids, x.UserID) {
			ids = append(ids, x.UserID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var users []struct {
		ID                 string
		EmailNotifications bool
	}
	if err := n.db.WithContext(ctx).Model(&userRow{}).Select("id, email_notifications").Where("id IN ? AND disabled = ?", ids, false).
		Scan(&users).Error; err != nil {
		return nil, err
	}
	for _, u := range users {
		out[u.ID], out[u.ID+always] = u.EmailNotifications, true
	}
	return out, nil
}

// SendMails mails the pending notifications that are due, each once
// across nodes: a node claims a mail with a conditional update before
// sending it. A node that dies between sending and marking it sent leaves
// it to be sent again after the lease (the only way a mail can repeat).
// It returns how many it sent.
func (n *Notifications) SendMails(ctx context.Context) (int, error) {
	if n.mailer == nil {
		return 0, nil
	}
	now := n.clock.Now().UTC()
	db := n.db.WithContext(ctx)
	var due []notificationRow
	if err := db.Where("(mail_state = ? AND (mail_after IS NULL OR mail_after <= ?)) OR (mail_state = ? AND mail_after <= ?)",
		mailPending, now, mailSending, now).Order("created_at").Limit(100).Find(&due).Error; err != nil {
		return 0, err
	}
	sent := 0
	for _, r := range due {
		res := db.Model(&notificationRow{}).Where("id = ? AND mail_state = ? AND mail_attempts = ?", r.ID, r.MailState, r.MailAttempts).
			Updates(map[string]any{"mail_state": mailSending, "mail_after": now.Add(mailLease), "mail_attempts": r.MailAttempts + 1})
		if res.Error != nil {
			return sent, res.Error
		}
		if res.RowsAffected == 0 {
			continue // another node has it
		}
		var u userRow
		if err := db.Where("id = ?", r.UserID).Take(&u).Error; err != nil {
			return sent, err
		}
		t := models.TextIn(u.Locale)
		m := models.Mail{To: u.Email, Subject: r.Title, Text: r.Body + "\n\n" + t.T(notificationMailFooter, n.publicURL+"/appointments", n.publicURL+"/profile")}
		state, after := mailSent, (*time.Time)(nil)
		if err := n.mailer.Send(ctx, m); err != nil {
			state = mailPending
			if r.MailAttempts+1 >= mailTries {
				state = mailFailed
			}
			retry := now.Add(time.Duration(1<<r.MailAttempts) * time.Minute)
			after = &retry
			slog.Default().WarnContext(ctx, "notification mail not sent", "notification_id", r.ID, "attempt", r.MailAttempts+1, "err", err)
		} else {
			sent++
		}
		if err := db.Model(&notificationRow{}).Where("id = ?", r.ID).Updates(map[string]any{"mail_state": state, "mail_after": after}).Error; err != nil {
			return sent, err
		}
	}
	return sent, nil
}

const notificationMailFooter = "Open Teleconsult: %s\n\nYou get these mails because email notifications are on in your profile (%s)."
