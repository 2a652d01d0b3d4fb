package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ScheduleRule is one weekly opening in the doctor's zone: weekday 0 is
// Sunday; start and end are local "HH:MM" (end may be "24:00").
type ScheduleRule struct {
	Weekday int    `json:"weekday" validate:"gte=0,lte=6"`
	Start   string `json:"start" validate:"required,hhmm"`
	End     string `json:"end" validate:"required,hhmm"`
}

// ScheduleInput replaces a doctor's weekly schedule.
type ScheduleInput struct {
	TimeZone    string         `json:"time_zone" validate:"required,timezone"`
	SlotMinutes int            `json:"slot_minutes" validate:"gte=5,lte=240"`
	Rules       []ScheduleRule `json:"rules" validate:"max=200,dive"`
}

// Schedule is a doctor's weekly availability.
type Schedule struct {
	DoctorID    string
	TimeZone    string
	SlotMinutes int
	Rules       []ScheduleRule
	UpdatedAt   time.Time
}

// scheduleRow is the stored form of a Schedule.
type scheduleRow struct {
	DoctorID    string `gorm:"primaryKey"`
	TimeZone    string
	SlotMinutes int
	Rules       string
	UpdatedAt   time.Time
}

func (scheduleRow) TableName() string { return "schedules" }

func (r scheduleRow) toModel() (Schedule, error) {
	s := Schedule{DoctorID: r.DoctorID, TimeZone: r.TimeZone, SlotMinutes: r.SlotMinutes, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Rules), &s.Rules); err != nil {
		return Schedule{}, fmt.Errorf("schedule rules of %s: %w", r.DoctorID, err)
	}
	return s, nil
}

// TimeOff is a range in which a doctor takes no appointments.
type TimeOff struct {
	ID        string `gorm:"primaryKey"`
	DoctorID  string
	StartsAt  time.Time
	EndsAt    time.Time
	Reason    string
	CreatedAt time.Time
}

// TableName names the table.
func (TimeOff) TableName() string { return "time_offs" }

// TimeOffInput creates a time-off range.
type TimeOffInput struct {
	StartsAt string `json:"starts_at" validate:"required"`
	EndsAt   string `json:"ends_at" validate:"required"`
	Reason   string `json:"reason" validate:"omitempty,utf8,max=500"`
}

// Slot is a bookable interval, in UTC.
type Slot struct {
	StartsAt time.Time
	EndsAt   time.Time
}

// DoctorFilter narrows the public doctor directory.
type DoctorFilter struct {
	Specialty string
	Query     string
	Limit     int
	Cursor    string
}

// Doctor is a doctor's public profile with their schedule's zone and slot size.
type Doctor struct {
	User
	ScheduleTimeZone string
	SlotMinutes      int
}

// Schedules manages the doctor directory, weekly schedules, time off and
// free slots.
type Schedules struct {
	p *Platform
}

func newSchedules(p *Platform) *Schedules { return &Schedules{p: p} }

// ParseTime reads an RFC 3339 time (any offset) for field and returns it in UTC.
func ParseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, InvalidFields(map[string]any{field: "must be an RFC 3339 time such as 2026-03-08T09:00:00Z"})
	}
	return t.UTC(), nil
}

// validateRules checks order and overlap beyond what tags can say.
func validateRules(rules []ScheduleRule) error {
	type span struct{ start, end, i int }
	byDay := map[int][]span{}
	fields := map[string]any{}
	for i, r := range rules {
		s, _ := ParseClock(r.Start)
		e, _ := ParseClock(r.End)
		if e <= s {
			fields[fmt.Sprintf("rules[%d].end", i)] = "must be after start"
			continue
		}
		if s == 24*60 {
			fields[fmt.Sprintf("rules[%d].start", i)] = "must be before 24:00"
			continue
		}
		byDay[r.Weekday] = append(byDay[r.Weekday], span{s, e, i})
	}
	for _, spans := range byDay {
		sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
		for k := 1; k < len(spans); k++ {
			if spans[k].start < spans[k-1].end {
				fields[fmt.Sprintf("rules[%d]", spans[k].i)] = fmt.Sprintf("overlaps rules[%d] on the same weekday", spans[k-1].i)
			}
		}
	}
	if len(fields) > 0 {
		return InvalidFields(fields)
	}
	return nil
}

// Get returns a doctor's schedule, or ENOTFOUND when they have none.
func (s *Schedules) Get(ctx context.Context, doctorID string) (Schedule, error) {
	return s.get(ctx, s.p.DB, doctorID)
}

// get reads a schedule through db, which may be a transaction.
func (s *Schedules) get(ctx context.Context, db *gorm.DB, doctorID string) (Schedule, error) {
	var row scheduleRow
	err := db.WithContext(ctx).Where("doctor_id = ?", doctorID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Schedule{}, Errorf(ENOTFOUND, "this doctor has no schedule yet")
	}
	if err != nil {
		return Schedule{}, err
	}
	return row.toModel()
}

// Put replaces the actor's (a doctor's) schedule atomically. Booked
// appointments stay booked; the count of upcoming ones that now fall outside
// the new hours is returned.
func (s *Schedules) Put(ctx context.Context, actor Actor, in ScheduleInput) (Schedule, int, error) {
	if actor.Role != RoleDoctor {
		return Schedule{}, 0, Errorf(EFORBIDDEN, "only doctors have a schedule")
	}
	return s.put(ctx, actor.UserID, in)
}

func (s *Schedules) put(ctx context.Context, doctorID string, in ScheduleInput) (Schedule, int, error) {
	if in.Rules == nil {
		in.Rules = []ScheduleRule{}
	}
	if err := Validate(in); err != nil {
		return Schedule{}, 0, err
	}
	if err := validateRules(in.Rules); err != nil {
		return Schedule{}, 0, err
	}
	rules, _ := json.Marshal(in.Rules)
	now := s.p.Opts.Clock.Now()
	row := scheduleRow{DoctorID: doctorID, TimeZone: in.TimeZone, SlotMinutes: in.SlotMinutes, Rules: string(rules), UpdatedAt: now}
	sched, _ := row.toModel()
	outside := 0
	err := s.p.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		var upcoming []Appointment
		if err := tx.Where("doctor_id = ? AND status = ? AND starts_at >= ?", doctorID, StatusBooked, now).Find(&upcoming).Error; err != nil {
			return err
		}
		for _, a := range upcoming {
			if !sched.covers(a.StartsAt, a.EndsAt) {
				outside++
			}
		}
		return nil
	})
	if err != nil {
		return Schedule{}, 0, err
	}
	return sched, outside, nil
}

// covers reports whether [start, end) lies inside one rule, in local time.
func (sc Schedule) covers(start, end time.Time) bool {
	loc, err := time.LoadLocation(sc.TimeZone)
	if err != nil {
		return false
	}
	ls := start.In(loc)
	startMin := ls.Hour()*60 + ls.Minute()
	dur := int(end.Sub(start) / time.Minute)
	for _, r := range sc.Rules {
		rs, _ := ParseClock(r.Start)
		re, _ := ParseClock(r.End)
		if int(ls.Weekday()) == r.Weekday && rs <= startMin && startMin+dur <= re {
			return true
		}
	}
	return false
}

// grid expands the schedule into slots whose start lies in [from, to), per
// local date in the doctor's zone. A local time that does not exist (spring
// forward) is skipped; one that occurs twice (fall back) appears once.
func (sc Schedule) grid(from, to time.Time) []Slot {
	loc, err := time.LoadLocation(sc.TimeZone)
	if err != nil || sc.SlotMinutes <= 0 {
		return nil
	}
	step := sc.SlotMinutes
	var out []Slot
	lf := from.In(loc)
	day := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	last := to.In(loc)
	lastDay := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	for ; !day.After(lastDay); day = day.AddDate(0, 0, 1) {
		for _, r := range sc.Rules {
			if r.Weekday != int(day.Weekday()) {
				continue
			}
			rs, _ := ParseClock(r.Start)
			re, _ := ParseClock(r.End)
			for m := rs; m+step <= re; m += step {
				start := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, loc)
				if start.Hour() != m/60 || start.Minute() != m%60 || start.Day() != day.Day() {
					continue // this wall time does not exist on this date
				}
				s := start.UTC()
				if s.Before(from) || !s.Before(to) {
					continue
				}
				out = append(out, Slot{StartsAt: s, EndsAt: s.Add(time.Duration(step) * time.Minute)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartsAt.Before(out[j].StartsAt) })
	return out
}

// FreeSlots lists a doctor's bookable slots starting in [from, to): the
// weekly grid minus time off, active appointments, the past and the minimum
// lead time.
func (s *Schedules) FreeSlots(ctx context.Context, doctorID string, from, to time.Time) ([]Slot, error) {
	if !to.After(from) {
		return nil, InvalidFields(map[string]any{"to": "must be after from"})
	}
	if to.Sub(from) > time.Duration(s.p.Opts.MaxSlotRangeDays)*24*time.Hour {
		return nil, InvalidFields(map[string]any{"to": fmt.Sprintf("the range may span at most %d days", s.p.Opts.MaxSlotRangeDays)})
	}
	if _, err := s.doctor(ctx, doctorID); err != nil {
		return nil, err
	}
	sched, err := s.Get(ctx, doctorID)
	if ErrorCode(err) == ENOTFOUND {
		return []Slot{}, nil
	}
	if err != nil {
		return nil, err
	}
	earliest := s.p.Opts.Clock.Now().Add(s.p.Opts.MinLeadTime)
	if from.Before(earliest) {
		from = earliest
	}
	if !to.After(from) {
		return []Slot{}, nil
	}
	return s.free(ctx, s.p.DB, sched, from, to, "")
}

// free filters the grid in [from, to) against time off and active
// appointments (ignoring exceptID, the appointment being moved).
func (s *Schedules) free(ctx context.Context, db *gorm.DB, sched Schedule, from, to time.Time, exceptID string) ([]Slot, error) {
	grid := sched.grid(from, to)
	if len(grid) == 0 {
		return []Slot{}, nil
	}
	offs, busy, err := s.blockers(ctx, db, sched.DoctorID, grid[0].StartsAt, grid[len(grid)-1].EndsAt, exceptID)
	if err != nil {
		return nil, err
	}
	out := make([]Slot, 0, len(grid))
	for _, sl := range grid {
		if overlapsAny(sl, offs, timeOffSpan) || overlapsAny(sl, busy, appointmentSpan) {
			continue
		}
		out = append(out, sl)
	}
	return out, nil
}

// blockers returns the doctor's time off and active appointments
// overlapping [lo, hi), leaving out the appointment exceptID.
func (s *Schedules) blockers(ctx context.Context, db *gorm.DB, doctorID string, lo, hi time.Time, exceptID string) ([]TimeOff, []Appointment, error) {
	var offs []TimeOff
	if err := db.WithContext(ctx).Where("doctor_id = ? AND starts_at < ? AND ends_at > ?", doctorID, hi, lo).Find(&offs).Error; err != nil {
		return nil, nil, err
	}
	var busy []Appointment
	q := db.WithContext(ctx).Select("id", "starts_at", "ends_at").
		Where("doctor_id = ? AND status IN ? AND starts_at < ? AND ends_at > ?", doctorID, activeStatuses, hi, lo)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	if err := q.Find(&busy).Error; err != nil {
		return nil, nil, err
	}
	return offs, busy, nil
}

func timeOffSpan(o TimeOff) (time.Time, time.Time)         { return o.StartsAt, o.EndsAt }
func appointmentSpan(a Appointment) (time.Time, time.Time) { return a.StartsAt, a.EndsAt }

func overlapsAny[T any](sl Slot, items []T, span func(T) (time.Time, time.Time)) bool {
	for _, it := range items {
		s, e := span(it)
		if s.Before(sl.EndsAt) && e.After(sl.StartsAt) {
			return true
		}
	}
	return false
}

// doctor returns an enabled doctor or ENOTFOUND.
func (s *Schedules) doctor(ctx context.Context, id string) (User, error) {
	return s.doctorIn(ctx, s.p.DB, id)
}

// doctorIn reads through db, which may be a transaction.
func (s *Schedules) doctorIn(ctx context.Context, db *gorm.DB, id string) (User, error) {
	var u User
	err := db.WithContext(ctx).Preload("Doctor").Where("id = ? AND role = ? AND disabled = ?", id, RoleDoctor, false).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, Errorf(ENOTFOUND, "doctor not found")
	}
	return u, err
}

// Doctor returns one doctor's public profile.
func (s *Schedules) Doctor(ctx context.Context, id string) (Doctor, error) {
	u, err := s.doctor(ctx, id)
	if err != nil {
		return Doctor{}, err
	}
	ds, err := s.withSchedules(ctx, []User{u})
	if err != nil {
		return Doctor{}, err
	}
	return ds[0], nil
}

// Doctors lists enabled doctors, filtered by specialty and a search text.
func (s *Schedules) Doctors(ctx context.Context, f DoctorFilter) (Page[Doctor], error) {
	limit, err := PageLimit(f.Limit)
	if err != nil {
		return Page[Doctor]{}, err
	}
	cur, err := DecodeCursor(f.Cursor)
	if err != nil {
		return Page[Doctor]{}, err
	}
	q := s.p.DB.WithContext(ctx).Model(&User{}).Preload("Doctor").
		Joins("JOIN doctor_profiles dp ON dp.user_id = users.id").
		Where("users.role = ? AND users.disabled = ?", RoleDoctor, false)
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
	var users []User
	if err := q.Order("users.created_at, users.id").Limit(limit + 1).Find(&users).Error; err != nil {
		return Page[Doctor]{}, err
	}
	page := pageOf(users, limit, func(u User) (time.Time, string) { return u.CreatedAt, u.ID })
	docs, err := s.withSchedules(ctx, page.Items)
	if err != nil {
		return Page[Doctor]{}, err
	}
	return Page[Doctor]{Items: docs, NextCursor: page.NextCursor}, nil
}

func (s *Schedules) withSchedules(ctx context.Context, users []User) ([]Doctor, error) {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	var rows []scheduleRow
	if len(ids) > 0 {
		if err := s.p.DB.WithContext(ctx).Where("doctor_id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, err
		}
	}
	byID := map[string]scheduleRow{}
	for _, r := range rows {
		byID[r.DoctorID] = r
	}
	out := make([]Doctor, len(users))
	for i, u := range users {
		d := Doctor{User: u, ScheduleTimeZone: u.TimeZone}
		if r, ok := byID[u.ID]; ok {
			d.ScheduleTimeZone, d.SlotMinutes = r.TimeZone, r.SlotMinutes
		}
		out[i] = d
	}
	return out, nil
}

// AddTimeOff records a range in which the actor (a doctor) takes no bookings.
// Appointments already booked in it stay booked.
func (s *Schedules) AddTimeOff(ctx context.Context, actor Actor, in TimeOffInput) (TimeOff, error) {
	if actor.Role != RoleDoctor {
		return TimeOff{}, Errorf(EFORBIDDEN, "only doctors take time off")
	}
	if err := Validate(in); err != nil {
		return TimeOff{}, err
	}
	start, err := ParseTime("starts_at", in.StartsAt)
	if err != nil {
		return TimeOff{}, err
	}
	end, err := ParseTime("ends_at", in.EndsAt)
	if err != nil {
		return TimeOff{}, err
	}
	if !end.After(start) {
		return TimeOff{}, InvalidFields(map[string]any{"ends_at": "must be after starts_at"})
	}
	if end.Sub(start) > 366*24*time.Hour {
		return TimeOff{}, InvalidFields(map[string]any{"ends_at": "time off may last at most a year"})
	}
	t := TimeOff{ID: uuid.NewString(), DoctorID: actor.UserID, StartsAt: start, EndsAt: end, Reason: strings.TrimSpace(in.Reason), CreatedAt: s.p.Opts.Clock.Now()}
	return t, s.p.DB.WithContext(ctx).Create(&t).Error
}

// TimeOffs lists the actor's time off that has not ended yet.
func (s *Schedules) TimeOffs(ctx context.Context, actor Actor) ([]TimeOff, error) {
	if actor.Role != RoleDoctor {
		return nil, Errorf(EFORBIDDEN, "only doctors take time off")
	}
	out := []TimeOff{}
	err := s.p.DB.WithContext(ctx).Where("doctor_id = ? AND ends_at > ?", actor.UserID, s.p.Opts.Clock.Now()).Order("starts_at").Find(&out).Error
	return out, err
}

// DeleteTimeOff removes one of the actor's time-off ranges.
func (s *Schedules) DeleteTimeOff(ctx context.Context, actor Actor, id string) error {
	res := s.p.DB.WithContext(ctx).Where("id = ? AND doctor_id = ?", id, actor.UserID).Delete(&TimeOff{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return Errorf(ENOTFOUND, "time off not found")
	}
	return nil
}

// SeedSchedule sets a doctor's schedule without an actor (demo data, admin tools).
func (s *Schedules) SeedSchedule(ctx context.Context, doctorID string, in ScheduleInput) error {
	_, _, err := s.put(ctx, doctorID, in)
	return err
}
