package main

import (
	"context"
	"time"

	"teleconsult/models"
)

// buildScheduling adds the no-show sweeper. Every node runs it; each row
// changes by a conditional update, so nodes never double-apply.
func (a *app) buildScheduling(ctx context.Context) error {
	a.workers = append(a.workers, func(ctx context.Context) {
		every(ctx, time.Minute, func(ctx context.Context) {
			n, err := a.svc.Appointments.SweepNoShows(ctx)
			if err != nil {
				a.log.ErrorContext(ctx, "no-show sweep failed", "err", err)
			} else if n > 0 {
				a.log.InfoContext(ctx, "marked no-shows", "count", n)
			}
		})
	})
	return nil
}

// every runs f now and then on each tick until ctx ends.
func every(ctx context.Context, d time.Duration, f func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// seedSchedule gives a demo doctor their weekly schedule.
func (a *app) seedSchedule(ctx context.Context, doctorID string, s demoSchedule) error {
	in := models.ScheduleInput{TimeZone: s.TimeZone, SlotMinutes: s.SlotMinutes}
	for _, r := range s.Rules {
		in.Rules = append(in.Rules, models.ScheduleRule{Weekday: r.Weekday, Start: r.Start, End: r.End})
	}
	return a.svc.Schedules.SeedSchedule(ctx, doctorID, in)
}
