package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// NotificationKind names what a notification is about.
type NotificationKind string

// Notification kinds.
const (
	NotifyBooked       NotificationKind = "appointment_booked"
	NotifyCancelled    NotificationKind = "appointment_cancelled"
	NotifyRescheduled  NotificationKind = "appointment_rescheduled"
	NotifyReminder     NotificationKind = "appointment_reminder"
	NotifyStarted      NotificationKind = "consultation_started"
	NotifyDiagnosis    NotificationKind = "diagnosis_ready"
	NotifyAnnouncement NotificationKind = "announcement"
)

// Notification is a stored message to one user; it is pushed live after it
// is stored, so one missed while offline is still in the list.
type Notification struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Kind      NotificationKind
	Title     string
	Body      string
	Data      string // JSON object
	ReadAt    *time.Time
	CreatedAt time.Time
}

// DataMap decodes the notification's data.
func (n Notification) DataMap() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal([]byte(n.Data), &m)
	return m
}

// Audiences of an announcement.
const (
	AudienceAll      = "all"
	AudiencePatients = "patients"
	AudienceDoctors  = "doctors"
)

// AnnouncementInput is an admin's message to many users.
type AnnouncementInput struct {
	Title    string `json:"title" validate:"required,utf8,min=1,max=200"`
	Body     string `json:"body" validate:"required,utf8,min=1,max=4000"`
	Audience string `json:"audience" validate:"required,oneof=all patients doctors"`
}

// NotificationFilter selects a user's notifications.
type NotificationFilter struct {
	UnreadOnly bool
	Limit      int
	Cursor     string
}

// Notifications stores and lists notifications, turns domain events into
// them and sends appointment reminders.
type Notifications struct{ p *Platform }

// announceBatch is how many notifications one INSERT writes.
const announceBatch = 1000

func newNotifications(p *Platform) *Notifications {
	n := &Notifications{p: p}
	p.Events.Subscribe(n.onEvent)
	return n
}

func notification(userID string, kind NotificationKind, title, body string, data map[string]any, at time.Time) Notification {
	b, _ := json.Marshal(data)
	if data == nil {
		b = []byte("{}")
	}
	return Notification{ID: uuid.NewString(), UserID: userID, Kind: kind, Title: title, Body: body, Data: string(b), CreatedAt: at.UTC()}
}

// Send stores notifications and then announces them for live delivery.
func (n *Notifications) Send(ctx context.Context, ns ...Notification) error {
	if len(ns) == 0 {
		return nil
	}
	if err := n.p.DB.WithContext(ctx).CreateInBatches(ns, announceBatch).Error; err != nil {
		return err
	}
	n.p.Events.Publish(ctx, Event{Kind: EventNotified, Notifications: ns, At: n.p.Opts.Clock.Now()})
	return nil
}

// onEvent turns appointment events into notifications for the people concerned.
func (n *Notifications) onEvent(ctx context.Context, ev Event) {
	a := ev.Appointment
	if a == nil {
		return
	}
	var out []Notification
	at := ev.At
	data := map[string]any{"appointment_id": a.ID, "starts_at": a.StartsAt.UTC().Format(time.RFC3339)}
	doctor, patient := personName(a.Doctor, "your doctor"), personName(a.Patient, "A patient")
	switch ev.Kind {
	case EventAppointmentBooked:
		out = append(out, notification(a.DoctorID, NotifyBooked, "New appointment",
			fmt.Sprintf("%s booked %s.", patient, when(a.StartsAt, a.Doctor)), data, at))
	case EventAppointmentCancelled:
		for _, to := range otherParties(a, ev.Actor) {
			out = append(out, notification(to, NotifyCancelled, "Appointment cancelled",
				fmt.Sprintf("The appointment of %s was cancelled.", when(a.StartsAt, a.userByID(to))), data, at))
		}
	case EventAppointmentRescheduled:
		data["previous_starts_at"] = ev.PreviousStartsAt.UTC().Format(time.RFC3339)
		for _, to := range otherParties(a, ev.Actor) {
			out = append(out, notification(to, NotifyRescheduled, "Appointment moved",
				fmt.Sprintf("Your appointment moved from %s to %s.", when(ev.PreviousStartsAt, a.userByID(to)), when(a.StartsAt, a.userByID(to))), data, at))
		}
		// The new time gets its own reminders.
		if err := n.p.DB.WithContext(ctx).Where("appointment_id = ?", a.ID).Delete(&ReminderClaim{}).Error; err != nil {
			n.p.Opts.Log.ErrorContext(ctx, "reset reminders", "appointment_id", a.ID, "err", err)
		}
	case EventAppointmentStarted:
		out = append(out, notification(a.PatientID, NotifyStarted, "Your consultation has started",
			fmt.Sprintf("%s is waiting for you in the consultation room.", doctor), data, at))
	case EventDiagnosisReady:
		out = append(out, notification(a.PatientID, NotifyDiagnosis, "Your diagnosis is ready",
			fmt.Sprintf("%s has written up your consultation.", doctor), data, at))
	}
	if err := n.Send(ctx, out...); err != nil {
		n.p.Opts.Log.ErrorContext(ctx, "store notifications", "kind", ev.Kind, "appointment_id", a.ID, "err", err)
	}
}

func personName(u *User, fallback string) string {
	if u == nil || u.Name == "" {
		return fallback
	}
	return u.Name
}

func (a *Appointment) userByID(id string) *User {
	switch {
	case a.Doctor != nil && a.Doctor.ID == id:
		return a.Doctor
	case a.Patient != nil && a.Patient.ID == id:
		return a.Patient
	}
	return nil
}

// otherParties are the participants that did not act themselves.
func otherParties(a *Appointment, actor Actor) []string {
	var out []string
	for _, id := range []string{a.PatientID, a.DoctorID} {
		if id != actor.UserID {
			out = append(out, id)
		}
	}
	return out
}

// when formats a time in the recipient's zone.
func when(t time.Time, to *User) string {
	loc := time.UTC
	if to != nil && to.TimeZone != "" {
		if l, err := time.LoadLocation(to.TimeZone); err == nil {
			loc = l
		}
	}
	return t.In(loc).Format("Mon 2 Jan 2006 at 15:04 MST")
}

// List returns the actor's notifications, newest first.
func (n *Notifications) List(ctx context.Context, actor Actor, f NotificationFilter) (Page[Notification], error) {
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return Page[Notification]{}, err
	}
	cur, err := DecodeCursor(f.Cursor)
	if err != nil {
		return Page[Notification]{}, err
	}
	q := n.p.DB.WithContext(ctx).Where("user_id = ?", actor.UserID)
	if f.UnreadOnly {
		q = q.Where("read_at IS NULL")
	}
	if cur != nil {
		q = q.Where("(created_at < ?) OR (created_at = ? AND id < ?)", cur.At, cur.At, cur.ID)
	}
	var ns []Notification
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&ns).Error; err != nil {
		return Page[Notification]{}, err
	}
	page := Page[Notification]{Items: ns}
	if len(ns) > limit {
		page.Items = ns[:limit]
		last := ns[limit-1]
		page.NextCursor = EncodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// UnreadCount counts the actor's unread notifications.
func (n *Notifications) UnreadCount(ctx context.Context, actor Actor) (int64, error) {
	var c int64
	err := n.p.DB.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND read_at IS NULL", actor.UserID).Count(&c).Error
	return c, err
}

// MarkRead marks one of the actor's notifications read; another user's is ENOTFOUND.
func (n *Notifications) MarkRead(ctx context.Context, actor Actor, id string) (Notification, error) {
	now := n.p.Opts.Clock.Now().UTC()
	db := n.p.DB.WithContext(ctx)
	if err := db.Model(&Notification{}).Where("id = ? AND user_id = ? AND read_at IS NULL", id, actor.UserID).Update("read_at", now).Error; err != nil {
		return Notification{}, err
	}
	var out Notification
	err := db.Where("id = ? AND user_id = ?", id, actor.UserID).Take(&out).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Notification{}, Errorf(ENOTFOUND, "notification not found")
	}
	return out, err
}

// MarkAllRead marks every unread notification of the actor read.
func (n *Notifications) MarkAllRead(ctx context.Context, actor Actor) (int64, error) {
	res := n.p.DB.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND read_at IS NULL", actor.UserID).
		Update("read_at", n.p.Opts.Clock.Now().UTC())
	return res.RowsAffected, res.Error
}

// Announce stores one notification per recipient, in batches of
// announceBatch rows, and pushes each batch live. It returns the count.
func (n *Notifications) Announce(ctx context.Context, actor Actor, in AnnouncementInput) (int, error) {
	if !actor.IsAdmin() {
		return 0, Errorf(EFORBIDDEN, "only admins make announcements")
	}
	if err := Validate(in); err != nil {
		return 0, err
	}
	now := n.p.Opts.Clock.Now().UTC()
	data := map[string]any{"audience": in.Audience}
	total, after := 0, ""
	for {
		q := n.p.DB.WithContext(ctx).Model(&User{}).Where("disabled = ? AND id > ?", false, after)
		switch in.Audience {
		case AudiencePatients:
			q = q.Where("role = ?", RolePatient)
		case AudienceDoctors:
			q = q.Where("role = ?", RoleDoctor)
		}
		var ids []string
		if err := q.Order("id").Limit(announceBatch).Pluck("id", &ids).Error; err != nil {
			return total, err
		}
		if len(ids) == 0 {
			break
		}
		batch := make([]Notification, len(ids))
		for i, id := range ids {
			batch[i] = notification(id, NotifyAnnouncement, in.Title, in.Body, data, now)
		}
		if err := n.p.DB.WithContext(ctx).CreateInBatches(batch, announceBatch).Error; err != nil {
			return total, err
		}
		n.p.Events.Publish(ctx, Event{Kind: EventNotified, Notifications: batch, Audience: in.Audience, At: now})
		total += len(ids)
		after = ids[len(ids)-1]
	}
	n.p.Audit.Record(ctx, n.p.DB, actor, "announcement.create", "announcement", "", map[string]any{"audience": in.Audience, "recipients": total, "title": in.Title})
	return total, nil
}

// ReminderClaim records that a reminder was sent (or skipped).
type ReminderClaim struct {
	AppointmentID string `gorm:"primaryKey"`
	OffsetSeconds int64  `gorm:"primaryKey"`
	ClaimedAt     time.Time
}

// SendReminders sends the reminders that are due: for each booked
// appointment that has not started and each configured offset whose time
// has come (and that was still ahead when the appointment was booked). A
// claim row per appointment and offset makes each go out once across
// nodes; a reminder missed while no node ran goes out late, once. When
// several offsets are due at once only the nearest is sent.
func (n *Notifications) SendReminders(ctx context.Context) (int, error) {
	offsets := slices.Clone(n.p.Opts.ReminderOffsets)
	if len(offsets) == 0 {
		return 0, nil
	}
	slices.Sort(offsets)
	now := n.p.Opts.Clock.Now().UTC()
	longest := offsets[len(offsets)-1]
	var due []Appointment
	err := n.p.DB.WithContext(ctx).Preload("Doctor").Preload("Patient").
		Where("status = ? AND starts_at > ? AND starts_at <= ?", StatusBooked, now, now.Add(longest)).
		Order("starts_at").Limit(5000).Find(&due).Error
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, a := range due {
		var claim []int64
		var nearest time.Duration = -1
		for _, off := range offsets {
			at := a.StartsAt.Add(-off)
			if at.After(now) || a.CreatedAt.After(at) {
				continue
			}
			claim = append(claim, int64(off/time.Second))
			if nearest < 0 {
				nearest = off
			}
		}
		if len(claim) == 0 {
			continue
		}
		ok, err := n.claim(ctx, a, claim, nearest, now)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// claim inserts the claims and, when the nearest offset's claim is new,
// stores the reminders in the same transaction; then pushes them.
func (n *Notifications) claim(ctx context.Context, a Appointment, offsets []int64, nearest time.Duration, now time.Time) (bool, error) {
	var out []Notification
	err := n.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		first := true
		for _, off := range offsets {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ReminderClaim{AppointmentID: a.ID, OffsetSeconds: off, ClaimedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if first && res.RowsAffected == 0 {
				return nil // another node sent the nearest one
			}
			first = false
		}
		data := map[string]any{"appointment_id": a.ID, "starts_at": a.StartsAt.UTC().Format(time.RFC3339), "offset_seconds": int64(nearest / time.Second)}
		out = []Notification{
			notification(a.PatientID, NotifyReminder, "Upcoming consultation",
				fmt.Sprintf("Your consultation with %s starts %s (%s).", personName(a.Doctor, "your doctor"), inHuman(a.StartsAt.Sub(now)), when(a.StartsAt, a.Patient)), data, now),
			notification(a.DoctorID, NotifyReminder, "Upcoming consultation",
				fmt.Sprintf("Your consultation with %s starts %s (%s).", personName(a.Patient, "a patient"), inHuman(a.StartsAt.Sub(now)), when(a.StartsAt, a.Doctor)), data, now),
		}
		return tx.Create(&out).Error
	})
	if err != nil || out == nil {
		return false, err
	}
	n.p.Events.Publish(ctx, Event{Kind: EventNotified, Notifications: out, At: now})
	return true, nil
}

// inHuman says how far ahead a time is ("in 15 minutes", "in 24 hours").
func inHuman(d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case m <= 1:
		return "now"
	case m < 120:
		return fmt.Sprintf("in %d minutes", m)
	default:
		return fmt.Sprintf("in %d hours", int(d.Round(time.Hour)/time.Hour))
	}
}
