package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Schedules manages the doctor directory, weekly schedules, time off and
// free slots.
type Schedules struct {
	db     *gorm.DB
	clock  models.Clock
	policy models.Policy
	// MaxRangeDays bounds one free-slots query.
	MaxRangeDays int
}

// NewSchedules builds the schedule service.
func NewSchedules(db *gorm.DB, clock models.Clock, policy models.Policy) *Schedules {
	return &Schedules{db: db, clock: clock, policy: policy, MaxRangeDays: 31}
}

func scheduleFromRow(r scheduleRow) (models.Schedule, error) {
	s := models.Schedule{DoctorID: r.DoctorID, TimeZone: r.TimeZone, SlotMinutes: r.SlotMinutes, UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Rules), &s.Rules); err != nil {
		return models.Schedule{}, fmt.Errorf("schedule rules of %s: %w", r.DoctorID, err)
	}
	return s, nil
}

// Get returns a doctor's schedule, or ENOTFOUND when they have none.
func (s *Schedules) Get(ctx context.Context, doctorID string) (models.Schedule, error) {
	return getSchedule(ctx, s.db, doctorID)
}

// getSchedule reads a schedule through db, which may be a transaction.
func getSchedule(ctx context.Context, db *gorm.DB, doctorID string) (models.Schedule, error) {
	var row scheduleRow
	err := db.WithContext(ctx).Where("doctor_id = ?", doctorID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Schedule{}, models.Errorf(models.ENOTFOUND, "this doctor has no schedule yet")
	}
	if err != nil {
		return models.Schedule{}, err
	}
	return scheduleFromRow(row)
}

// Put replaces the actor's (a doctor's) schedule atomically. Booked
// appointments stay booked; the count of upcoming ones that now fall outside
// the new hours is returned.
func (s *Schedules) Put(ctx context.Context, actor models.Actor, in models.ScheduleInput) (models.Schedule, int, error) {
	if actor.Role != models.RoleDoctor {
		return models.Schedule{}, 0, models.Errorf(models.EFORBIDDEN, "only doctors have a schedule")
	}
	return s.put(ctx, actor.UserID, in)
}

func (s *Schedules) put(ctx context.Context, doctorID string, in models.ScheduleInput) (models.Schedule, int, error) {
	if in.Rules == nil {
		in.Rules = []models.ScheduleRule{}
	}
	if err := models.Validate(in); err != nil {
		return models.Schedule{}, 0, err
	}
	if err := models.ValidateRules(in.Rules); err != nil {
		return models.Schedule{}, 0, err
	}
	rules, _ := json.Marshal(in.Rules)
	now := s.clock.Now()
	row := scheduleRow{DoctorID: doctorID, TimeZone: in.TimeZone, SlotMinutes: in.SlotMinutes, Rules: string(rules), UpdatedAt: now}
	sched, err := scheduleFromRow(row)
	if err != nil {
		return models.Schedule{}, 0, err
	}
	outside := 0
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		var upcoming []appointmentRow
		if err := tx.Where("doctor_id = ? AND status = ? AND starts_at >= ?", doctorID, models.StatusBooked, now).Find(&upcoming).Error; err != nil {
			return err
		}
		for _, a := range upcoming {
			if !sched.Covers(a.StartsAt, a.EndsAt) {
				outside++
			}
		}
		return nil
	})
	if err != nil {
		return models.Schedule{}, 0, err
	}
	return sched, outside, nil
}

// FreeSlots lists a doctor's bookable slots starting in [from, to): the
// weekly grid minus time off, active appointments, the past and the minimum
// lead time.
func (s *Schedules) FreeSlots(ctx context.Context, doctorID string, from, to time.Time) ([]models.Slot, error) {
	if !to.After(from) {
		return nil, models.InvalidFields(map[string]any{"to": "must be after from"})
	}
	if to.Sub(from) > time.Duration(s.MaxRangeDays)*24*time.Hour {
		return nil, models.InvalidFields(map[string]any{"to": fmt.Sprintf("the range may span at most %d days", s.MaxRangeDays)})
	}
	if _, err := enabledDoctor(ctx, s.db, doctorID); err != nil {
		return nil, err
	}
	sched, err := s.Get(ctx, doctorID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return []models.Slot{}, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if earliest := now.Add(s.policy.MinLeadTime); from.Before(earliest) {
		from = earliest
	}
	if latest := s.policy.BookableUntil(now); !latest.IsZero() && to.After(latest) {
		to = latest
	}
	if !to.After(from) {
		return []models.Slot{}, nil
	}
	grid := sched.Grid(from, to)
	if len(grid) == 0 {
		return []models.Slot{}, nil
	}
	offs, busy, err := blockers(ctx, s.db, sched.DoctorID, grid[0].StartsAt, grid[len(grid)-1].EndsAt, "")
	if err != nil {
		return nil, err
	}
	out := make([]models.Slot, 0, len(grid))
	for _, sl := range grid {
		if models.OverlapsAny(sl, offs, models.TimeOffSpan) || models.OverlapsAny(sl, busy, models.AppointmentSpan) {
			continue
		}
		out = append(out, sl)
	}
	return out, nil
}

// blockers returns the doctor's time off and active appointments
// overlapping [lo, hi), leaving out the appointment exceptID.
func blockers(ctx context.Context, db *gorm.DB, doctorID string, lo, hi time.Time, exceptID string) ([]models.TimeOff, []models.Appointment, error) {
	var offRows []timeOffRow
	if err := db.WithContext(ctx).Where("doctor_id = ? AND starts_at < ? AND ends_at > ?", doctorID, hi, lo).Find(&offRows).Error; err != nil {
		return nil, nil, err
	}
	var busyRows []appointmentRow
	q := db.WithContext(ctx).Select("id", "starts_at", "ends_at").
		Where("doctor_id = ? AND status IN ? AND starts_at < ? AND ends_at > ?", doctorID, models.ActiveStatuses, hi, lo)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	if err := q.Find(&busyRows).Error; err != nil {
		return nil, nil, err
	}
	offs := make([]models.TimeOff, len(offRows))
	for i, r := range offRows {
		offs[i] = r.toModel()
	}
	busy := make([]models.Appointment, len(busyRows))
	for i, r := range busyRows {
		busy[i] = r.toModel()
	}
	return offs, busy, nil
}

// enabledDoctor returns an enabled doctor or ENOTFOUND, through db.
func enabledDoctor(ctx context.Context, db *gorm.DB, id string) (models.User, error) {
	var r userRow
	err := db.WithContext(ctx).Preload("Doctor").Where("id = ? AND role = ? AND disabled = ?", id, models.RoleDoctor, false).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.User{}, models.Errorf(models.ENOTFOUND, "doctor not found")
	}
	if err != nil {
		return models.User{}, err
	}
	return r.toModel(), nil
}

// Doctor returns one doctor's public profile.
func (s *Schedules) Doctor(ctx context.Context, id string) (models.Doctor, error) {
	u, err := enabledDoctor(ctx, s.db, id)
	if err != nil {
		return models.Doctor{}, err
	}
	ds, err := s.withSchedules(ctx, []models.User{u})
	if err != nil {
		return models.Doctor{}, err
	}
	return ds[0], nil
}

// Doctors lists enabled doctors, filtered by specialty and a search text.
func (s *Schedules) Doctors(ctx context.Context, f models.DoctorFilter) (models.Page[models.Doctor], error) {
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.Doctor]{}, err
	}
	cur, err := models.DecodeCursor(f.Cursor)
	if err != nil {
		return models.Page[models.Doctor]{}, err
	}
	q := s.db.WithContext(ctx).Model(&userRow{}).Preload("Doctor").
		Joins("JOIN doctor_profiles dp ON dp.user_id = users.id").
		Where("users.role = ? AND users.disabled = ?", models.RoleDoctor, false)
	if f.Specialty != "" {
		q = q.Where("LOWER(dp.specialty) = ?", strings.ToLower(strings.TrimSpace(f.Specialty)))
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(strings.TrimSpace(f.Query))) + "%"
		q = q.Where("(LOWER(users.name) LIKE ? ESCAPE '\\' OR LOWER(dp.specialty) LIKE ? ESCAPE '\\' OR LOWER(dp.bio) LIKE ? ESCAPE '\\')", like, like, like)
	}
	if cur != nil {
		q = q.Where("(users.created_at > ? OR (users.created_at = ? AND users.id > ?))", cur.At, cur.At, cur.ID)
	}
	var rows []userRow
	if err := q.Order("users.created_at, users.id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Page[models.Doctor]{}, err
	}
	users := make([]models.User, len(rows))
	for i, r := range rows {
		users[i] = r.toModel()
	}
	page := models.PageOf(users, limit, func(u models.User) (time.Time, string) { return u.CreatedAt, u.ID })
	docs, err := s.withSchedules(ctx, page.Items)
	if err != nil {
		return models.Page[models.Doctor]{}, err
	}
	return models.Page[models.Doctor]{Items: docs, NextCursor: page.NextCursor}, nil
}

func (s *Schedules) withSchedules(ctx context.Context, users []models.User) ([]models.Doctor, error) {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	var rows []scheduleRow
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Where("doctor_id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, err
		}
	}
	byID := map[string]scheduleRow{}
	for _, r := range rows {
		byID[r.DoctorID] = r
	}
	out := make([]models.Doctor, len(users))
	for i, u := range users {
		d := models.Doctor{User: u, ScheduleTimeZone: u.TimeZone}
		if r, ok := byID[u.ID]; ok {
			d.ScheduleTimeZone, d.SlotMinutes = r.TimeZone, r.SlotMinutes
		}
		out[i] = d
	}
	return out, nil
}

// AddTimeOff records a range in which the actor (a doctor) takes no bookings.
// Appointments already booked in it stay booked.
func (s *Schedules) AddTimeOff(ctx context.Context, actor models.Actor, in models.TimeOffInput) (models.TimeOff, error) {
	if actor.Role != models.RoleDoctor {
		return models.TimeOff{}, models.Errorf(models.EFORBIDDEN, "only doctors take time off")
	}
	if err := models.Validate(in); err != nil {
		return models.TimeOff{}, err
	}
	start, err := models.ParseTime("starts_at", in.StartsAt)
	if err != nil {
		return models.TimeOff{}, err
	}
	end, err := models.ParseTime("ends_at", in.EndsAt)
	if err != nil {
		return models.TimeOff{}, err
	}
	if !end.After(start) {
		return models.TimeOff{}, models.InvalidFields(map[string]any{"ends_at": "must be after starts_at"})
	}
	if end.Sub(start) > 366*24*time.Hour {
		return models.TimeOff{}, models.InvalidFields(map[string]any{"ends_at": "time off may last at most a year"})
	}
	r := timeOffRow{ID: uuid.NewString(), DoctorID: actor.UserID, StartsAt: start, EndsAt: end, Reason: strings.TrimSpace(in.Reason), CreatedAt: s.clock.Now()}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return models.TimeOff{}, err
	}
	return r.toModel(), nil
}

// TimeOffs lists the actor's time off that has not ended yet.
func (s *Schedules) TimeOffs(ctx context.Context, actor models.Actor) ([]models.TimeOff, error) {
	if actor.Role != models.RoleDoctor {
		return nil, models.Errorf(models.EFORBIDDEN, "only doctors take time off")
	}
	var rows []timeOffRow
	if err := s.db.WithContext(ctx).Where("doctor_id = ? AND ends_at > ?", actor.UserID, s.clock.Now()).Order("starts_at").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.TimeOff, len(rows))
	for i, r := range rows {
		out[i] = r.toModel()
	}
	return out, nil
}

// DeleteTimeOff removes one of the actor's time-off ranges.
func (s *Schedules) DeleteTimeOff(ctx context.Context, actor models.Actor, id string) error {
	res := s.db.WithContext(ctx).Where("id = ? AND doctor_id = ?", id, actor.UserID).Delete(&timeOffRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.ENOTFOUND, "time off not found")
	}
	return nil
}

// SeedSchedule sets a doctor's schedule without an actor (demo data, admin tools).
func (s *Schedules) SeedSchedule(ctx context.Context, doctorID string, in models.ScheduleInput) error {
	_, _, err := s.put(ctx, doctorID, in)
	return err
}
