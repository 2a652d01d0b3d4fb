package main

import "context"

// buildNotifications wires notifications, reminders and calls.
func (a *app) buildNotifications(ctx context.Context) error { return nil }
