package models

import (
	"context"
	"time"
)

// AuditEntry records who did what to which record, and from which request.
type AuditEntry struct {
	ID         string
	ActorID    string
	ActorRole  Role
	Action     string
	TargetType string
	TargetID   string
	RequestID  string
	Details    map[string]any
	CreatedAt  time.Time
}

// AuditAnnouncement is the audit action of an announcement; its details
// keep what was sent (title, body, audience, recipients).
const AuditAnnouncement = "announcement.create"

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorID    string
	TargetType string
	TargetID   string
	// Action is an action ("chat.read") or, ending in ".", a family of them
	// ("user.").
	Action string
	// From and To (RFC 3339) bound when the entries were written: From
	// included, To excluded.
	From   string
	To     string
	Limit  int
	Cursor string
}

// AuditService reads the audit log (operations write it in their own
// transactions).
type AuditService interface {
	// List returns audit entries, newest first. Returns EFORBIDDEN unless
	// the actor is an admin, or EINVALID.
	List(ctx context.Context, actor Actor, f AuditFilter) (Page[AuditEntry], error)
}

// Stats is the admin's overview of the platform.
type Stats struct {
	UsersByRole          map[Role]int64
	AppointmentsByStatus map[AppointmentStatus]int64
	// MessagesToday counts chat messages since midnight UTC.
	MessagesToday int64
	// The last StatsDays days (UTC), oldest first: appointments by the day
	// they are for, by status; messages by the day they were sent.
	AppointmentsByDay []DayStatuses
	MessagesByDay     []DayCount
	// PaymentsByDay: per currency with payments in the window, every day:
	// what was paid (by the day it arrived) and refunded (by the day it
	// went back). PaymentTotals: all time, per currency.
	PaymentsByDay []PaymentDay
	PaymentTotals []PaymentTotal
}

// PaymentDay is one day of payments in a currency, for the dashboard:
// how many arrived and their sum, and the sum refunded that day (minor
// units).
type PaymentDay struct {
	Date     string
	Currency string
	Count    int64
	Paid     int64
	Refunded int64
}

// PaymentTotal is all the money of one currency.
type PaymentTotal struct {
	Currency string
	// Count is how many payments arrived; Paid and Refunded are sums in
	// minor units.
	Count    int64
	Paid     int64
	Refunded int64
}

// StatsDays is how many days the admin's charts cover.
const StatsDays = 30

// DayStatuses counts one day's appointments by status.
type DayStatuses struct {
	Date     string // YYYY-MM-DD
	Total    int64
	ByStatus map[AppointmentStatus]int64
}

// DayCount counts one day's messages.
type DayCount struct {
	Date  string
	Count int64
}

// StatsService counts for the admin's overview.
type StatsService interface {
	// Stats counts users, appointments and today's messages. Returns
	// EFORBIDDEN unless the actor is an admin.
	Stats(ctx context.Context, actor Actor) (Stats, error)
}
