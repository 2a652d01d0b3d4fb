package main

import "context"

// buildNotifications adds the reminder scheduler. Every node runs it; the
// claim rows in the database make each reminder go out once.
func (a *app) buildNotifications(ctx context.Context) error {
	a.workers = append(a.workers, func(ctx context.Context) {
		every(ctx, a.cfg.ReminderEvery, func(ctx context.Context) {
			n, err := a.svc.Notifications.SendReminders(ctx)
			if err != nil {
				a.log.ErrorContext(ctx, "sending reminders failed", "err", err)
			} else if n > 0 {
				a.log.InfoContext(ctx, "sent reminders", "appointments", n)
			}
		})
	})
	return nil
}
