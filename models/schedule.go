package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ScheduleRule is one weekly opening in the doctor's zone: weekday 0 is
// Sunday; start and end are local "HH:MM" (end may be "24:00").
type ScheduleRule struct {
	Weekday int    `field:"weekday" validate:"gte=0,lte=6"`
	Start   string `field:"start" validate:"required,hhmm"`
	End     string `field:"end" validate:"required,hhmm"`
}

// ScheduleInput replaces a doctor's weekly schedule.
type ScheduleInput struct {
	TimeZone    string         `field:"time_zone" validate:"required,timezone"`
	SlotMinutes int            `field:"slot_minutes" validate:"gte=5,lte=240"`
	Rules       []ScheduleRule `field:"rules" validate:"max=200,dive"`
}

// Schedule is a doctor's weekly availability.
type Schedule struct {
	DoctorID    string
	TimeZone    string
	SlotMinutes int
	Rules       []ScheduleRule
	UpdatedAt   time.Time
}

// TimeOff is a range in which a doctor takes no appointments.
type TimeOff struct {
	ID        string
	DoctorID  string
	StartsAt  time.Time
	EndsAt    time.Time
	Reason    string
	CreatedAt time.Time
}

// TimeOffInput creates a time-off range.
type TimeOffInput struct {
	StartsAt string `field:"starts_at" validate:"required"`
	EndsAt   string `field:"ends_at" validate:"required"`
	Reason   string `field:"reason" validate:"omitempty,utf8,max=500"`
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

// ParseTime reads an RFC 3339 time (any offset) for field and returns it in UTC.
func ParseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, InvalidFields(map[string]any{field: "must be an RFC 3339 time such as 2026-03-08T09:00:00Z"})
	}
	return t.UTC(), nil
}

// ValidateRules checks order and overlap beyond what tags can say.
func ValidateRules(rules []ScheduleRule) error {
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
		byDay[r.Weekday] = append(byDay[r.Weekday], span{s, e, i})
	}
	for _, spans := range byDay {
		sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
		// Compare each rule with the one reaching furthest so far, so every
		// overlapping rule is named.
		reach := 0
		for k := 1; k < len(spans); k++ {
			if spans[k-1].end > spans[reach].end {
				reach = k - 1
			}
			if spans[k].start < spans[reach].end {
				fields[fmt.Sprintf("rules[%d]", spans[k].i)] = fmt.Sprintf("overlaps rules[%d] on the same weekday", spans[reach].i)
			}
		}
	}
	if len(fields) > 0 {
		return InvalidFields(fields)
	}
	return nil
}

// Covers reports whether [start, end) lies inside one rule, in local time.
func (sc Schedule) Covers(start, end time.Time) bool {
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

// Grid expands the schedule into slots whose start lies in [from, to), per
// local date in the doctor's zone. A local time that does not exist (spring
// forward) is skipped; one that occurs twice (fall back) appears once.
func (sc Schedule) Grid(from, to time.Time) []Slot {
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

// TimeOffSpan and AppointmentSpan give an item's interval, for OverlapsAny.
func TimeOffSpan(o TimeOff) (time.Time, time.Time)         { return o.StartsAt, o.EndsAt }
func AppointmentSpan(a Appointment) (time.Time, time.Time) { return a.StartsAt, a.EndsAt }

// OverlapsAny reports whether a slot overlaps any of the items.
func OverlapsAny[T any](sl Slot, items []T, span func(T) (time.Time, time.Time)) bool {
	for _, it := range items {
		s, e := span(it)
		if s.Before(sl.EndsAt) && e.After(sl.StartsAt) {
			return true
		}
	}
	return false
}

// ScheduleService manages the doctor directory, weekly schedules, time off
// and free slots.
type ScheduleService interface {
	// Get returns a doctor's schedule. Returns ENOTFOUND when they have none.
	Get(ctx context.Context, doctorID string) (Schedule, error)
	// Put replaces the actor's (a doctor's) schedule and returns how many
	// upcoming appointments now fall outside the hours. Returns EFORBIDDEN
	// or EINVALID.
	Put(ctx context.Context, actor Actor, in ScheduleInput) (Schedule, int, error)
	// FreeSlots lists a doctor's bookable slots starting in [from, to).
	// Returns EINVALID or ENOTFOUND.
	FreeSlots(ctx context.Context, doctorID string, from, to time.Time) ([]Slot, error)
	// Doctor returns one enabled doctor's public profile. Returns ENOTFOUND.
	Doctor(ctx context.Context, id string) (Doctor, error)
	// Doctors lists enabled doctors. Returns EINVALID.
	Doctors(ctx context.Context, f DoctorFilter) (Page[Doctor], error)
	// AddTimeOff records a range in which the actor (a doctor) takes no
	// bookings. Returns EFORBIDDEN or EINVALID.
	AddTimeOff(ctx context.Context, actor Actor, in TimeOffInput) (TimeOff, error)
	// TimeOffs lists the actor's time off that has not ended. Returns EFORBIDDEN.
	TimeOffs(ctx context.Context, actor Actor) ([]TimeOff, error)
	// DeleteTimeOff removes one of the actor's ranges. Returns ENOTFOUND.
	DeleteTimeOff(ctx context.Context, actor Actor, id string) error
	// SeedSchedule sets a doctor's schedule without an actor (demo data).
	SeedSchedule(ctx context.Context, doctorID string, in ScheduleInput) error
}
