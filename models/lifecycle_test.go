package models_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"teleconsult/models"
)

func TestNextStatus(t *testing.T) {
	cases := []struct {
		from   models.AppointmentStatus
		action models.Action
		want   models.AppointmentStatus
	}{
		{models.StatusBooked, models.ActionStart, models.StatusInProgress},
		{models.StatusInProgress, models.ActionComplete, models.StatusCompleted},
		{models.StatusBooked, models.ActionCancel, models.StatusCancelled},
		{models.StatusBooked, models.ActionNoShow, models.StatusNoShow},
		{models.StatusBooked, models.ActionReschedule, models.StatusBooked},
		{models.StatusInProgress, models.ActionDiagnose, models.StatusInProgress},
		{models.StatusCompleted, models.ActionDiagnose, models.StatusCompleted},
		{models.StatusCompleted, models.ActionView, models.StatusCompleted},
		{models.StatusBooked, models.ActionSend, models.StatusBooked},
	}
	for _, c := range cases {
		if got := models.NextStatus(models.Appointment{Status: c.from}, c.action); got != c.want {
			t.Errorf("NextStatus(%s, %s) = %s, want %s", c.from, c.action, got, c.want)
		}
	}
}

func TestLifecycleTable(t *testing.T) {
	for action, tr := range models.Lifecycle {
		if len(tr.From) == 0 || len(tr.By) == 0 {
			t.Errorf("%s: empty From or By", action)
		}
		for _, s := range tr.From {
			if !slices.Contains(models.Statuses, s) {
				t.Errorf("%s: unknown from status %q", action, s)
			}
		}
		if tr.To != "" && !slices.Contains(models.Statuses, tr.To) {
			t.Errorf("%s: unknown to status %q", action, tr.To)
		}
		if slices.Contains(tr.By, models.Stranger) {
			t.Errorf("%s: strangers may act", action)
		}
	}
	// Terminal statuses have no way out.
	for action, tr := range models.Lifecycle {
		for _, s := range []models.AppointmentStatus{models.StatusCancelled, models.StatusNoShow} {
			if slices.Contains(tr.From, s) {
				t.Errorf("%s leaves terminal status %s", action, s)
			}
		}
	}
}

func TestNoShowDue(t *testing.T) {
	a := appt(models.StatusBooked, t0)
	due := a.EndsAt.Add(policy.NoShowAfter)
	cases := []struct {
		name   string
		status models.AppointmentStatus
		now    time.Time
		want   bool
	}{
		{"before the start", models.StatusBooked, t0.Add(-time.Hour), false},
		{"right after the end", models.StatusBooked, a.EndsAt.Add(time.Minute), false},
		{"exactly NoShowAfter after the end", models.StatusBooked, due, false},
		{"just past", models.StatusBooked, due.Add(time.Nanosecond), true},
		{"long past", models.StatusBooked, due.Add(48 * time.Hour), true},
		{"in progress", models.StatusInProgress, due.Add(time.Hour), false},
		{"completed", models.StatusCompleted, due.Add(time.Hour), false},
		{"cancelled", models.StatusCancelled, due.Add(time.Hour), false},
		{"already no_show", models.StatusNoShow, due.Add(time.Hour), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := appt(c.status, c.now)
			if got := policy.NoShowDue(a, c.now); got != c.want {
				t.Errorf("NoShowDue = %v, want %v", got, c.want)
			}
		})
	}
}

func TestStatusConflict(t *testing.T) {
	err := models.StatusConflict(models.Appointment{Status: models.StatusCompleted}, models.ActionNoShow)
	e := domainErr(t, err)
	if e.Code != models.ECONFLICT {
		t.Errorf("code = %q, want conflict", e.Code)
	}
	if e.Details["status"] != models.StatusCompleted {
		t.Errorf("details.status = %#v, want completed", e.Details["status"])
	}
	if want := "cannot no-show an appointment that is completed"; e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
	if models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("ErrorCode = %q", models.ErrorCode(err))
	}
}

func TestAppointmentHelpers(t *testing.T) {
	a := appt(models.StatusBooked, t0)
	for _, c := range []struct {
		id   string
		want bool
	}{{patientID, true}, {doctorID, true}, {adminID, false}, {"", false}} {
		if got := a.IsParticipant(c.id); got != c.want {
			t.Errorf("IsParticipant(%q) = %v, want %v", c.id, got, c.want)
		}
	}
	if (models.Appointment{PatientID: ""}).IsParticipant("") {
		t.Error("empty id is a participant of an appointment without parties")
	}

	for _, s := range models.Statuses {
		// A hold awaiting payment keeps its slot but is not active yet.
		want := slices.Contains(models.ActiveStatuses, s) && s != models.StatusPendingPayment
		if got := (models.Appointment{Status: s}).Active(); got != want {
			t.Errorf("Active(%s) = %v, want %v", s, got, want)
		}
	}

	doc := &models.Party{ID: doctorID, Name: "Dr Doc"}
	pat := &models.Party{ID: patientID, Name: "Pat"}
	a.Doctor, a.Patient = doc, pat
	if a.PartyByID(doctorID) != doc || a.PartyByID(patientID) != pat || a.PartyByID(adminID) != nil {
		t.Error("PartyByID picks the wrong party")
	}
	if (models.Appointment{}).PartyByID(doctorID) != nil {
		t.Error("PartyByID without loaded parties is not nil")
	}
}

func TestActorsAndClocks(t *testing.T) {
	if !models.SystemActor.IsSystem() || !models.SystemActor.IsAdmin() {
		t.Error("SystemActor is not a system admin")
	}
	if anAdmin.IsSystem() || !anAdmin.IsAdmin() || theDoctor.IsAdmin() {
		t.Error("IsSystem/IsAdmin wrong")
	}
	p := models.Principal{User: models.User{ID: "u1", Role: models.RoleDoctor}}
	if got := p.Actor("req-1"); got != (models.Actor{UserID: "u1", Role: models.RoleDoctor, RequestID: "req-1"}) {
		t.Errorf("Principal.Actor = %+v", got)
	}
	if got := models.NormalizeEmail("  Foo@Example.COM "); got != "foo@example.com" {
		t.Errorf("NormalizeEmail = %q", got)
	}

	now := models.SystemClock{}.Now()
	if now.Location() != time.UTC || time.Since(now) > time.Minute {
		t.Errorf("SystemClock.Now = %v", now)
	}
	fixed := models.ClockFunc(func() time.Time { return t0 })
	if !fixed.Now().Equal(t0) {
		t.Errorf("ClockFunc.Now = %v", fixed.Now())
	}
}

func TestCheckBookable(t *testing.T) {
	now := t0.Add(-72 * time.Hour)
	p := policy
	p.BookingHorizon = 30 * 24 * time.Hour
	odd := policy
	odd.BookingHorizon = 36 * time.Hour
	cases := []struct {
		name  string
		p     models.Policy
		start time.Time
		want  string // details.fields.starts_at, "" when bookable
	}{
		{"in the past", p, now.Add(-time.Hour), "lies in the past or too soon to book"},
		{"now", p, now, "lies in the past or too soon to book"},
		{"inside the lead time", p, now.Add(policy.MinLeadTime - time.Second), "lies in the past or too soon to book"},
		{"at the lead time", p, now.Add(policy.MinLeadTime), ""},
		{"at the horizon", p, now.Add(p.BookingHorizon), ""},
		{"past the horizon", p, now.Add(p.BookingHorizon + time.Second),
			"lies more than 30 days ahead; appointments can be booked up to 30 days in advance"},
		{"past an odd horizon", odd, now.Add(37 * time.Hour),
			"lies more than 36h0m0s ahead; appointments can be booked up to 36h0m0s in advance"},
		{"no horizon", policy, now.Add(10 * 365 * 24 * time.Hour), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.CheckBookable(c.start, now)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckBookable = %v", err)
				}
				return
			}
			if got := invalidFields(t, err); !reflect.DeepEqual(got, map[string]any{"starts_at": c.want}) {
				t.Errorf("fields = %v, want starts_at: %q", got, c.want)
			}
		})
	}

	if got := policy.BookableUntil(now); !got.IsZero() {
		t.Errorf("BookableUntil without a horizon = %v", got)
	}
	if got := p.BookableUntil(now); !got.Equal(now.Add(p.BookingHorizon)) {
		t.Errorf("BookableUntil = %v", got)
	}
}

func TestCheckActiveCount(t *testing.T) {
	if err := policy.CheckActiveCount(1000); err != nil {
		t.Errorf("no limit: %v", err)
	}
	p := policy
	p.MaxActiveAppointments = 3
	for _, c := range []struct {
		active int64
		want   string
	}{{0, ""}, {2, ""}, {3, models.ECONFLICT}, {4, models.ECONFLICT}} {
		err := p.CheckActiveCount(c.active)
		if got := code(err); got != c.want {
			t.Errorf("CheckActiveCount(%d) = %q (%v), want %q", c.active, got, err, c.want)
			continue
		}
		if err != nil {
			if e := domainErr(t, err); e.Details["max_active_appointments"] != 3 {
				t.Errorf("details = %#v", e.Details)
			}
		}
	}
}
