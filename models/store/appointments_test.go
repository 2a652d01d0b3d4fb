package store_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// apptBase is where the fixtures' clock starts: a Monday morning, a day
// before most appointments the tests book.
var apptBase = time.Date(2030, 3, 4, 8, 0, 0, 0, time.UTC)

// apptFixture is one fresh database with every service, two doctors (both
// open all week, UTC, 30-minute slots), two patients and an admin.
type apptFixture struct {
	p                 *modeltest.Services
	clock             *modeltest.Clock
	doctor, doctor2   models.User
	patient, patient2 models.User
	admin             models.User
}

// apptSetup builds a fixture on the database open returns; mutate may
// change the options before the services are built.
func apptSetup(t *testing.T, open func(testing.TB) *database.DB, mutate func(*modeltest.Options)) *apptFixture {
	t.Helper()
	db := open(t)
	clock := &modeltest.Clock{}
	clock.Set(apptBase)
	opts := modeltest.DefaultOptions(t, clock)
	if mutate != nil {
		mutate(&opts)
	}
	p := modeltest.NewServices(db, opts)
	f := &apptFixture{p: p, clock: clock}
	f.doctor = modeltest.MustUser(t, p, models.RoleDoctor, "doctor@example.com")
	f.doctor2 = modeltest.MustUser(t, p, models.RoleDoctor, "doctor2@example.com")
	f.patient = modeltest.MustUser(t, p, models.RolePatient, "patient@example.com")
	f.patient2 = modeltest.MustUser(t, p, models.RolePatient, "patient2@example.com")
	f.admin = modeltest.MustUser(t, p, models.RoleAdmin, "admin@example.com")
	apptSeedSchedule(t, p, f.doctor.ID, everyDayRule("00:00", "24:00"), 30)
	apptSeedSchedule(t, p, f.doctor2.ID, everyDayRule("00:00", "24:00"), 30)
	return f
}

// apptEachDriver runs fn on a fresh fixture on Postgres and on SQLite.
func apptEachDriver(t *testing.T, mutate func(*modeltest.Options), fn func(t *testing.T, f *apptFixture)) {
	t.Helper()
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			fn(t, apptSetup(t, d.Open, mutate))
		})
	}
}

func apptSeedSchedule(t *testing.T, p *modeltest.Services, doctorID string, rules []models.ScheduleRule, slotMinutes int) {
	t.Helper()
	in := models.ScheduleInput{TimeZone: "UTC", SlotMinutes: slotMinutes, Rules: rules}
	if err := p.Schedules.SeedSchedule(t.Context(), doctorID, in); err != nil {
		t.Fatalf("seed schedule: %v", err)
	}
}

func apptActor(u models.User) models.Actor { return models.Actor{UserID: u.ID, Role: u.Role} }

// apptBook books start with doctor for patient through the service.
func apptBook(t *testing.T, f *apptFixture, patient, doctor models.User, start string) models.Appointment {
	t.Helper()
	a, err := f.p.Appointments.Book(t.Context(), apptActor(patient), models.BookInput{DoctorID: doctor.ID, StartsAt: start})
	if err != nil {
		t.Fatalf("book %s: %v", start, err)
	}
	return a
}

// apptWantCode fails unless err is a non-nil error with code.
func apptWantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %s", code)
	}
	if got := models.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %s), want code %s", err, got, code)
	}
}

// apptWantField fails unless err is EINVALID naming field in details.fields.
func apptWantField(t *testing.T, err error, field string) {
	t.Helper()
	apptWantCode(t, err, models.EINVALID)
	fields, ok := models.AsError(err).Details["fields"].(map[string]any)
	if !ok {
		t.Fatalf("error %v has no details.fields", err)
	}
	if _, ok := fields[field]; !ok {
		t.Fatalf("details.fields = %v, want a problem with %q", fields, field)
	}
}

// apptAudits counts audit entries of action on target.
func apptAudits(t *testing.T, p *modeltest.Services, action, targetID string) int64 {
	t.Helper()
	var n int64
	if err := p.DB.Table("audit_entries").Where("action = ? AND target_id = ?", action, targetID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// apptEvents counts outbox events of kind about the appointment id.
func apptEvents(t *testing.T, p *modeltest.Services, kind models.EventKind, appointmentID string) int64 {
	t.Helper()
	var n int64
	if err := p.DB.Table("outbox_events").Where("kind = ? AND payload LIKE ?", string(kind), "%"+appointmentID+"%").
		Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func apptGet(t *testing.T, f *apptFixture, id string) models.Appointment {
	t.Helper()
	a, err := f.p.Appointments.Get(t.Context(), apptActor(f.admin), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return a
}

func apptNotificationsOf(t *testing.T, f *apptFixture, u models.User, kind models.NotificationKind, appointmentID string) []models.Notification {
	t.Helper()
	page, err := f.p.Notifications.List(t.Context(), apptActor(u), models.NotificationFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []models.Notification
	for _, n := range page.Items {
		if n.Kind == kind && n.Data["appointment_id"] == appointmentID {
			out = append(out, n)
		}
	}
	return out
}

func apptCountAppointments(t *testing.T, p *modeltest.Services) int64 {
	t.Helper()
	var n int64
	if err := p.DB.Table("appointments").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBookFreeSlot(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		start := mustTime(t, "2030-03-05T10:00:00Z")
		// Any offset is accepted and stored in UTC.
		a, err := p.Appointments.Book(ctx, apptActor(f.patient),
			models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T11:00:00+01:00", Reason: "  chest pain  "})
		if err != nil {
			t.Fatal(err)
		}
		if !a.StartsAt.Equal(start) || !a.EndsAt.Equal(start.Add(30*time.Minute)) || a.Status != models.StatusBooked {
			t.Fatalf("booked %v–%v %s, want %v for 30 minutes, booked", a.StartsAt, a.EndsAt, a.Status, start)
		}
		if a.Reason != "chest pain" || a.DoctorID != f.doctor.ID || a.PatientID != f.patient.ID {
			t.Fatalf("booked %+v", a)
		}
		if a.Doctor == nil || a.Doctor.ID != f.doctor.ID || a.Doctor.Name != f.doctor.Name || a.Doctor.Specialty != "Cardiology" ||
			a.Doctor.TimeZone != "Europe/Berlin" {
			t.Fatalf("doctor party = %+v", a.Doctor)
		}
		if a.Patient == nil || a.Patient.ID != f.patient.ID || a.Patient.Name != f.patient.Name {
			t.Fatalf("patient party = %+v", a.Patient)
		}

		// The event and the audit entry were written with the booking.
		if n, err := p.Outbox.Pending(ctx); err != nil || n != 1 {
			t.Fatalf("pending events = %d, %v; want 1", n, err)
		}
		if n := apptEvents(t, p, models.KindAppointmentBooked, a.ID); n != 1 {
			t.Fatalf("appointment_booked events = %d, want 1", n)
		}
		if n := apptAudits(t, p, "appointment.book", a.ID); n != 1 {
			t.Fatalf("appointment.book audit entries = %d, want 1", n)
		}

		// The slot is no longer offered.
		slots, err := p.Schedules.FreeSlots(ctx, f.doctor.ID, start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := starts(slots); len(got) != 1 || got[0] != "2030-03-05T10:30:00Z" {
			t.Fatalf("free slots after booking = %v, want only 10:30", got)
		}

		// Delivered, the event notifies the doctor once and nobody else.
		p.RecordNotifications()
		p.Dispatch(t)
		p.Dispatch(t)
		docs, err := p.Notifications.List(ctx, apptActor(f.doctor), models.NotificationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(docs.Items) != 1 || docs.Items[0].Kind != models.NotifyBooked || docs.Items[0].Data["appointment_id"] != a.ID {
			t.Fatalf("doctor notifications = %+v, want one appointment_booked", docs.Items)
		}
		pats, err := p.Notifications.List(ctx, apptActor(f.patient), models.NotificationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(pats.Items) != 0 {
			t.Fatalf("patient notifications = %+v, want none", pats.Items)
		}
		if n, err := p.Outbox.Pending(ctx); err != nil || n != 0 {
			t.Fatalf("pending events after dispatch = %d, %v; want 0", n, err)
		}
	})
}

func TestBookRefusals(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		// A doctor without a schedule, and a disabled one with a schedule.
		noSchedule := modeltest.MustUser(t, p, models.RoleDoctor, "noschedule@example.com")
		disabled := modeltest.MustUser(t, p, models.RoleDoctor, "disabled@example.com")
		apptSeedSchedule(t, p, disabled.ID, everyDayRule("00:00", "24:00"), 30)
		yes := true
		if _, err := p.Users.AdminUpdate(ctx, apptActor(f.admin), disabled.ID, models.AdminUpdateUserInput{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		// The doctor is away on Wednesday morning.
		if _, err := p.Schedules.AddTimeOff(ctx, apptActor(f.doctor), models.TimeOffInput{
			StartsAt: "2030-03-06T09:00:00Z", EndsAt: "2030-03-06T12:00:00Z", Reason: "conference"}); err != nil {
			t.Fatal(err)
		}

		pat := apptActor(f.patient)
		cases := []struct {
			name  string
			actor models.Actor
			in    models.BookInput
			code  string
			field string // for EINVALID
		}{
			{"doctor", apptActor(f.doctor2), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:00:00Z"}, models.EFORBIDDEN, ""},
			{"admin", apptActor(f.admin), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:00:00Z"}, models.EFORBIDDEN, ""},
			{"missing starts_at", pat, models.BookInput{DoctorID: f.doctor.ID}, models.EINVALID, "starts_at"},
			{"missing doctor_id", pat, models.BookInput{StartsAt: "2030-03-05T10:00:00Z"}, models.EINVALID, "doctor_id"},
			{"not RFC 3339", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05 10:00"}, models.EINVALID, "starts_at"},
			{"words", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "tomorrow"}, models.EINVALID, "starts_at"},
			{"reason too long", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:00:00Z", Reason: strings.Repeat("x", 2001)}, models.EINVALID, "reason"},
			{"off the grid", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:15:00Z"}, models.EINVALID, "starts_at"},
			{"seconds off the grid", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:00:30Z"}, models.EINVALID, "starts_at"},
			{"in the past", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-04T07:30:00Z"}, models.EINVALID, "starts_at"},
			{"in time off", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-06T10:00:00Z"}, models.EINVALID, "starts_at"},
			{"time off edge", pat, models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-06T11:30:00Z"}, models.EINVALID, "starts_at"},
			{"no schedule", pat, models.BookInput{DoctorID: noSchedule.ID, StartsAt: "2030-03-05T10:00:00Z"}, models.EINVALID, "starts_at"},
			{"unknown doctor", pat, models.BookInput{DoctorID: "00000000-0000-0000-0000-000000000000", StartsAt: "2030-03-05T10:00:00Z"}, models.ENOTFOUND, ""},
			{"a patient is no doctor", pat, models.BookInput{DoctorID: f.patient2.ID, StartsAt: "2030-03-05T10:00:00Z"}, models.ENOTFOUND, ""},
			{"disabled doctor", pat, models.BookInput{DoctorID: disabled.ID, StartsAt: "2030-03-05T10:00:00Z"}, models.ENOTFOUND, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := p.Appointments.Book(ctx, c.actor, c.in)
				if c.field != "" {
					apptWantField(t, err, c.field)
					return
				}
				apptWantCode(t, err, c.code)
			})
		}
		if n := apptCountAppointments(t, p); n != 0 {
			t.Fatalf("refused bookings stored %d appointments", n)
		}
		var events int64
		if err := p.DB.Table("outbox_events").Where("kind = ?", string(models.KindAppointmentBooked)).Count(&events).Error; err != nil {
			t.Fatal(err)
		}
		if events != 0 {
			t.Fatalf("refused bookings wrote %d appointment_booked events", events)
		}

		// Just outside the time off is bookable.
		apptBook(t, f, f.patient, f.doctor, "2030-03-06T12:00:00Z")
		apptBook(t, f, f.patient, f.doctor, "2030-03-06T08:30:00Z")
	})
}

func TestBookTakenSlotAndBusyPatient(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")

		_, err := p.Appointments.Book(ctx, apptActor(f.patient2), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:00:00Z"})
		apptWantCode(t, err, models.ESLOTTAKEN)

		// The patient is busy at 10:00 with another doctor.
		_, err = p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: f.doctor2.ID, StartsAt: "2030-03-05T10:00:00Z"})
		apptWantCode(t, err, models.ECONFLICT)

		// A doctor with hour slots on the half hour: 09:30–10:30 overlaps 10:00–10:30.
		halves := modeltest.MustUser(t, p, models.RoleDoctor, "halves@example.com")
		apptSeedSchedule(t, p, halves.ID, everyDayRule("00:30", "23:30"), 60)
		_, err = p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: halves.ID, StartsAt: "2030-03-05T09:30:00Z"})
		apptWantCode(t, err, models.ECONFLICT)
		b := apptBook(t, f, f.patient, halves, "2030-03-05T10:30:00Z")
		if !b.EndsAt.Equal(mustTime(t, "2030-03-05T11:30:00Z")) {
			t.Fatalf("hour slot ends at %v", b.EndsAt)
		}

		// Once cancelled, the slot can be booked again.
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.patient), a.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		c := apptBook(t, f, f.patient2, f.doctor, "2030-03-05T10:00:00Z")
		if c.ID == a.ID {
			t.Fatal("rebooking returned the cancelled appointment")
		}
		// And the first patient is free again at 10:00 elsewhere.
		apptBook(t, f, f.patient, f.doctor2, "2030-03-05T10:00:00Z")
	})
}

func TestBookSameSlotConcurrently(t *testing.T) {
	const n = 8
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		patients := make([]models.User, n)
		for i := range patients {
			patients[i] = modeltest.MustUser(t, p, models.RolePatient, "racer"+string(rune('a'+i))+"@example.com")
		}
		errs := make([]error, n)
		booked := make([]models.Appointment, n)
		var ready, wg sync.WaitGroup
		ready.Add(1)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Wait()
				booked[i], errs[i] = p.Appointments.Book(ctx, apptActor(patients[i]),
					models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T10:00:00Z"})
			}()
		}
		ready.Done()
		wg.Wait()

		winners := 0
		var winner models.Appointment
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = booked[i]
			case models.ErrorCode(err) != models.ESLOTTAKEN:
				t.Errorf("booking %d: %v, want slot_taken", i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("%d bookings won, want exactly 1 (errors: %v)", winners, errs)
		}
		if got := apptCountAppointments(t, p); got != 1 {
			t.Fatalf("%d appointments stored, want 1", got)
		}
		if got := apptEvents(t, p, models.KindAppointmentBooked, winner.ID); got != 1 {
			t.Fatalf("%d booked events, want 1", got)
		}
		if pending, err := p.Outbox.Pending(ctx); err != nil || pending != 1 {
			t.Fatalf("pending events = %d, %v; want 1", pending, err)
		}
	})
}

func TestStartCompleteNoShow(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		at := mustTime(t, "2030-03-05T10:00:00Z")
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		b := apptBook(t, f, f.patient, f.doctor, "2030-03-06T10:00:00Z")
		c := apptBook(t, f, f.patient, f.doctor, "2030-03-05T12:00:00Z")
		doc := apptActor(f.doctor)

		// Too early: more than 15 minutes before the start.
		f.clock.Set(at.Add(-16 * time.Minute))
		_, err := p.Appointments.Start(ctx, doc, a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		if d := models.AsError(err).Details; d["opens_at"] != "2030-03-05T09:45:00Z" {
			t.Fatalf("too early: details %v, want opens_at 09:45", d)
		}
		_, err = p.Appointments.Start(ctx, apptActor(f.patient), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)

		// From 15 minutes before it may start.
		f.clock.Set(at.Add(-15 * time.Minute))
		_, err = p.Appointments.Start(ctx, apptActor(f.patient), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		started, err := p.Appointments.Start(ctx, doc, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if started.Status != models.StatusInProgress || started.StartedAt == nil || !started.StartedAt.Equal(f.clock.Now()) {
			t.Fatalf("started: status %s, started_at %v", started.Status, started.StartedAt)
		}
		if started.Doctor == nil || started.Patient == nil {
			t.Fatal("started appointment without its parties")
		}
		if apptAudits(t, p, "appointment.start", a.ID) != 1 || apptEvents(t, p, models.KindConsultationStarted, a.ID) != 1 {
			t.Fatal("start: want one audit entry and one consultation_started event")
		}
		_, err = p.Appointments.Start(ctx, doc, a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		_, err = p.Appointments.NoShow(ctx, doc, a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		_, err = p.Appointments.Cancel(ctx, doc, a.ID, models.CancelInput{})
		apptWantCode(t, err, models.ECONFLICT)

		// Complete.
		f.clock.Set(at.Add(20 * time.Minute))
		_, err = p.Appointments.Complete(ctx, apptActor(f.patient), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		_, err = p.Appointments.Complete(ctx, doc, b.ID) // still booked
		apptWantCode(t, err, models.ECONFLICT)
		done, err := p.Appointments.Complete(ctx, doc, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != models.StatusCompleted || done.CompletedAt == nil || !done.CompletedAt.Equal(f.clock.Now()) {
			t.Fatalf("completed: status %s, completed_at %v", done.Status, done.CompletedAt)
		}
		if !done.StartedAt.Equal(at.Add(-15 * time.Minute)) {
			t.Fatalf("completing changed started_at to %v", done.StartedAt)
		}
		if apptAudits(t, p, "appointment.complete", a.ID) != 1 || apptEvents(t, p, models.KindConsultationCompleted, a.ID) != 1 {
			t.Fatal("complete: want one audit entry and one consultation_completed event")
		}
		_, err = p.Appointments.Complete(ctx, doc, a.ID)
		apptWantCode(t, err, models.ECONFLICT)

		// An admin may start at any time (b is tomorrow).
		if s, err := p.Appointments.Start(ctx, apptActor(f.admin), b.ID); err != nil || s.Status != models.StatusInProgress {
			t.Fatalf("admin start: %v, %v", s.Status, err)
		}

		// No-show: only after the start, not by the patient.
		_, err = p.Appointments.NoShow(ctx, doc, c.ID)
		apptWantCode(t, err, models.ECONFLICT)
		f.clock.Set(mustTime(t, "2030-03-05T12:00:00Z"))
		_, err = p.Appointments.NoShow(ctx, apptActor(f.patient), c.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		ns, err := p.Appointments.NoShow(ctx, doc, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ns.Status != models.StatusNoShow {
			t.Fatalf("no-show status %s", ns.Status)
		}
		if apptAudits(t, p, "appointment.no_show", c.ID) != 1 || apptEvents(t, p, models.KindAppointmentNoShow, c.ID) != 1 {
			t.Fatal("no-show: want one audit entry and one appointment_no_show event")
		}
		_, err = p.Appointments.Start(ctx, doc, c.ID)
		apptWantCode(t, err, models.ECONFLICT)
	})
}

func TestCancelAppointment(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		pat := apptActor(f.patient)
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		b := apptBook(t, f, f.patient, f.doctor, "2030-03-05T11:00:00Z")
		c := apptBook(t, f, f.patient, f.doctor, "2030-03-05T12:00:00Z")
		d := apptBook(t, f, f.patient, f.doctor, "2030-03-05T13:00:00Z")

		_, err := p.Appointments.Cancel(ctx, pat, a.ID, models.CancelInput{Reason: strings.Repeat("r", 2001)})
		apptWantField(t, err, "reason")
		_, err = p.Appointments.Cancel(ctx, apptActor(f.patient2), a.ID, models.CancelInput{})
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Appointments.Cancel(ctx, pat, "no-such-appointment", models.CancelInput{})
		apptWantCode(t, err, models.ENOTFOUND)

		// The patient, more than 2 hours before.
		f.clock.Set(mustTime(t, "2030-03-05T07:59:00Z"))
		got, err := p.Appointments.Cancel(ctx, pat, a.ID, models.CancelInput{Reason: "  feeling better "})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.StatusCancelled || got.CancelReason != "feeling better" || got.CancelledBy != f.patient.ID {
			t.Fatalf("cancelled: %s, reason %q, by %q", got.Status, got.CancelReason, got.CancelledBy)
		}
		if apptAudits(t, p, "appointment.cancel", a.ID) != 1 || apptEvents(t, p, models.KindAppointmentCancelled, a.ID) != 1 {
			t.Fatal("cancel: want one audit entry and one appointment_cancelled event")
		}
		_, err = p.Appointments.Cancel(ctx, pat, a.ID, models.CancelInput{})
		apptWantCode(t, err, models.ECONFLICT)

		// Exactly at the cutoff the patient still may; a second later not.
		f.clock.Set(mustTime(t, "2030-03-05T11:00:00Z"))
		if _, err := p.Appointments.Cancel(ctx, pat, d.ID, models.CancelInput{}); err != nil {
			t.Fatalf("cancel at the cutoff: %v", err)
		}
		f.clock.Set(mustTime(t, "2030-03-05T09:00:01Z"))
		_, err = p.Appointments.Cancel(ctx, pat, b.ID, models.CancelInput{})
		apptWantCode(t, err, models.ECONFLICT)
		if apptGet(t, f, b.ID).Status != models.StatusBooked {
			t.Fatal("a refused cancel changed the appointment")
		}

		// The doctor at any time, even after the start.
		f.clock.Set(mustTime(t, "2030-03-05T11:05:00Z"))
		if got, err := p.Appointments.Cancel(ctx, apptActor(f.doctor), b.ID, models.CancelInput{Reason: "ill"}); err != nil ||
			got.CancelledBy != f.doctor.ID {
			t.Fatalf("doctor cancel: %+v, %v", got, err)
		}

		// An admin: recorded as such, and both parties hear it was the clinic.
		got, err = p.Appointments.Cancel(ctx, apptActor(f.admin), c.ID, models.CancelInput{Reason: "closed"})
		if err != nil {
			t.Fatal(err)
		}
		if got.CancelledBy != f.admin.ID {
			t.Fatalf("admin cancel: cancelled_by %q", got.CancelledBy)
		}
		var entry struct {
			ActorID   string
			ActorRole string
		}
		if err := p.DB.Table("audit_entries").Select("actor_id, actor_role").
			Where("action = ? AND target_id = ?", "appointment.cancel", c.ID).Take(&entry).Error; err != nil {
			t.Fatal(err)
		}
		if entry.ActorID != f.admin.ID || entry.ActorRole != string(models.RoleAdmin) {
			t.Fatalf("admin cancel audited as %+v", entry)
		}
		p.RecordNotifications()
		p.Dispatch(t)
		for _, u := range []models.User{f.patient, f.doctor} {
			ns := apptNotificationsOf(t, f, u, models.NotifyCancelled, c.ID)
			if len(ns) != 1 || ns[0].Data["cancelled_by"] != "clinic" || ns[0].Data["reason"] != "closed" {
				t.Fatalf("%s's cancellation notifications = %+v", u.Role, ns)
			}
		}
		// The patient's own cancel told the doctor, not the patient.
		if len(apptNotificationsOf(t, f, f.doctor, models.NotifyCancelled, a.ID)) != 1 ||
			len(apptNotificationsOf(t, f, f.patient, models.NotifyCancelled, a.ID)) != 0 {
			t.Fatal("a patient's cancel must notify the doctor only")
		}
	})
}

func TestRescheduleAppointment(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		pat := apptActor(f.patient)
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		apptBook(t, f, f.patient2, f.doctor, "2030-03-05T11:00:00Z")
		before := apptGet(t, f, a.ID)

		// A reminder already sent for the old time.
		if err := p.DB.Table("reminder_claims").Create(map[string]any{"appointment_id": a.ID, "offset_seconds": 86400,
			"claimed_at": f.clock.Now()}).Error; err != nil {
			t.Fatal(err)
		}

		refusals := []struct {
			name  string
			actor models.Actor
			to    string
			code  string
			field string
		}{
			{"taken", pat, "2030-03-05T11:00:00Z", models.ESLOTTAKEN, ""},
			{"same time", pat, "2030-03-05T10:00:00Z", models.EINVALID, "starts_at"},
			{"same time other offset", pat, "2030-03-05T11:00:00+01:00", models.EINVALID, "starts_at"},
			{"off grid", pat, "2030-03-05T12:10:00Z", models.EINVALID, "starts_at"},
			{"past", pat, "2030-03-04T07:00:00Z", models.EINVALID, "starts_at"},
			{"missing", pat, "", models.EINVALID, "starts_at"},
			{"garbage", pat, "noon", models.EINVALID, "starts_at"},
			{"doctor", apptActor(f.doctor), "2030-03-05T12:00:00Z", models.EFORBIDDEN, ""},
			{"stranger", apptActor(f.patient2), "2030-03-05T12:00:00Z", models.ENOTFOUND, ""},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				_, err := p.Appointments.Reschedule(ctx, c.actor, a.ID, models.RescheduleInput{StartsAt: c.to})
				if c.field != "" {
					apptWantField(t, err, c.field)
				} else {
					apptWantCode(t, err, c.code)
				}
			})
		}
		// Nothing changed.
		after := apptGet(t, f, a.ID)
		if !after.StartsAt.Equal(before.StartsAt) || !after.UpdatedAt.Equal(before.UpdatedAt) || after.Status != models.StatusBooked {
			t.Fatalf("refused reschedules changed the appointment: %+v", after)
		}
		if apptAudits(t, p, "appointment.reschedule", a.ID) != 0 || apptEvents(t, p, models.KindAppointmentRescheduled, a.ID) != 0 {
			t.Fatal("refused reschedules left an audit entry or event")
		}

		// Move to 12:00: the old slot becomes free, the new one taken.
		moved, err := p.Appointments.Reschedule(ctx, pat, a.ID, models.RescheduleInput{StartsAt: "2030-03-05T12:00:00Z"})
		if err != nil {
			t.Fatal(err)
		}
		if moved.ID != a.ID || !moved.StartsAt.Equal(mustTime(t, "2030-03-05T12:00:00Z")) ||
			!moved.EndsAt.Equal(mustTime(t, "2030-03-05T12:30:00Z")) || moved.Status != models.StatusBooked || moved.Doctor == nil {
			t.Fatalf("moved: %+v", moved)
		}
		slots, err := p.Schedules.FreeSlots(ctx, f.doctor.ID, mustTime(t, "2030-03-05T10:00:00Z"), mustTime(t, "2030-03-05T12:30:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		if got := starts(slots); !slices.Equal(got, []string{"2030-03-05T10:00:00Z", "2030-03-05T10:30:00Z", "2030-03-05T11:30:00Z"}) {
			t.Fatalf("free slots after the move: %v", got)
		}
		apptBook(t, f, f.patient2, f.doctor, "2030-03-05T10:00:00Z")
		_, err = p.Appointments.Book(ctx, apptActor(f.patient2), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T12:00:00Z"})
		apptWantCode(t, err, models.ESLOTTAKEN)

		if apptAudits(t, p, "appointment.reschedule", a.ID) != 1 || apptEvents(t, p, models.KindAppointmentRescheduled, a.ID) != 1 {
			t.Fatal("reschedule: want one audit entry and one appointment_rescheduled event")
		}
		var claims int64
		if err := p.DB.Table("reminder_claims").Where("appointment_id = ?", a.ID).Count(&claims).Error; err != nil {
			t.Fatal(err)
		}
		if claims != 0 {
			t.Fatalf("%d reminder claims survived the move; the new time needs its own reminders", claims)
		}
		p.RecordNotifications()
		p.Dispatch(t)
		ns := apptNotificationsOf(t, f, f.doctor, models.NotifyRescheduled, a.ID)
		if len(ns) != 1 || ns[0].Data["previous_starts_at"] != "2030-03-05T10:00:00Z" {
			t.Fatalf("doctor's reschedule notifications: %+v", ns)
		}

		// The patient is busy at 14:00 with another doctor: conflict.
		apptBook(t, f, f.patient, f.doctor2, "2030-03-05T14:00:00Z")
		_, err = p.Appointments.Reschedule(ctx, pat, a.ID, models.RescheduleInput{StartsAt: "2030-03-05T14:00:00Z"})
		apptWantCode(t, err, models.ECONFLICT)

		// After the cutoff the patient may not, an admin may.
		f.clock.Set(mustTime(t, "2030-03-05T10:30:00Z"))
		_, err = p.Appointments.Reschedule(ctx, pat, a.ID, models.RescheduleInput{StartsAt: "2030-03-05T15:00:00Z"})
		apptWantCode(t, err, models.ECONFLICT)
		if got, err := p.Appointments.Reschedule(ctx, apptActor(f.admin), a.ID, models.RescheduleInput{StartsAt: "2030-03-05T15:00:00Z"}); err != nil ||
			!got.StartsAt.Equal(mustTime(t, "2030-03-05T15:00:00Z")) {
			t.Fatalf("admin reschedule: %v, %v", got.StartsAt, err)
		}

		// Only booked appointments move.
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.doctor), a.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		_, err = p.Appointments.Reschedule(ctx, apptActor(f.admin), a.ID, models.RescheduleInput{StartsAt: "2030-03-05T16:00:00Z"})
		apptWantCode(t, err, models.ECONFLICT)
	})
}

func TestSetDiagnosis(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		doc := apptActor(f.doctor)
		at := mustTime(t, "2030-03-05T10:00:00Z")
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		b := apptBook(t, f, f.patient, f.doctor, "2030-03-05T11:00:00Z")
		ok := models.DiagnosisInput{Summary: "flu"}

		_, err := p.Appointments.SetDiagnosis(ctx, doc, a.ID, ok)
		apptWantCode(t, err, models.ECONFLICT) // still booked

		f.clock.Set(at)
		if _, err := p.Appointments.Start(ctx, doc, a.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			actor models.Actor
			code  string
		}{
			{"patient", apptActor(f.patient), models.EFORBIDDEN},
			{"admin", apptActor(f.admin), models.EFORBIDDEN},
			{"other doctor", apptActor(f.doctor2), models.ENOTFOUND},
			{"other patient", apptActor(f.patient2), models.ENOTFOUND},
		} {
			_, err := p.Appointments.SetDiagnosis(ctx, c.actor, a.ID, ok)
			if models.ErrorCode(err) != c.code {
				t.Fatalf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		for _, s := range []string{"", "   ", strings.Repeat("d", 10001)} {
			_, err := p.Appointments.SetDiagnosis(ctx, doc, a.ID, models.DiagnosisInput{Summary: s})
			apptWantField(t, err, "summary")
		}
		long := strings.Repeat("p", 10001)
		_, err = p.Appointments.SetDiagnosis(ctx, doc, a.ID, models.DiagnosisInput{Summary: "x", Prescription: &long})
		apptWantField(t, err, "prescription")

		rx := "rest and fluids"
		got, err := p.Appointments.SetDiagnosis(ctx, doc, a.ID, models.DiagnosisInput{Summary: "  flu ", Prescription: &rx})
		if err != nil {
			t.Fatal(err)
		}
		if got.DiagnosisSummary == nil || *got.DiagnosisSummary != "flu" || got.DiagnosisPrescription == nil || *got.DiagnosisPrescription != rx {
			t.Fatalf("diagnosis: %v / %v", got.DiagnosisSummary, got.DiagnosisPrescription)
		}
		if got.DiagnosedAt == nil || !got.DiagnosedAt.Equal(at) || got.DiagnosisUpdatedAt == nil || !got.DiagnosisUpdatedAt.Equal(at) {
			t.Fatalf("diagnosed_at %v, updated %v; want %v", got.DiagnosedAt, got.DiagnosisUpdatedAt, at)
		}
		if got.Status != models.StatusInProgress {
			t.Fatalf("a diagnosis changed the status to %s", got.Status)
		}

		// After completion the doctor may still update it; diagnosed_at stays.
		f.clock.Set(at.Add(20 * time.Minute))
		if _, err := p.Appointments.Complete(ctx, doc, a.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(at.Add(time.Hour))
		got, err = p.Appointments.SetDiagnosis(ctx, doc, a.ID, models.DiagnosisInput{Summary: "influenza A"})
		if err != nil {
			t.Fatal(err)
		}
		if *got.DiagnosisSummary != "influenza A" || !got.DiagnosedAt.Equal(at) || !got.DiagnosisUpdatedAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("update: %q, diagnosed %v, updated %v", *got.DiagnosisSummary, got.DiagnosedAt, got.DiagnosisUpdatedAt)
		}
		if got.Status != models.StatusCompleted {
			t.Fatalf("status %s", got.Status)
		}
		if n := apptAudits(t, p, "appointment.diagnosis", a.ID); n != 2 {
			t.Fatalf("%d diagnosis audit entries, want 2", n)
		}
		if n := apptEvents(t, p, models.KindDiagnosisReady, a.ID); n != 2 {
			t.Fatalf("%d diagnosis_ready events, want 2", n)
		}
		p.RecordNotifications()
		p.Dispatch(t)
		if n := len(apptNotificationsOf(t, f, f.patient, models.NotifyDiagnosis, a.ID)); n != 2 {
			t.Fatalf("patient has %d diagnosis notifications, want 2", n)
		}

		// Not on a cancelled appointment.
		if _, err := p.Appointments.Cancel(ctx, doc, b.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		_, err = p.Appointments.SetDiagnosis(ctx, doc, b.ID, ok)
		apptWantCode(t, err, models.ECONFLICT)
	})
}

func TestGetAppointment(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		for _, u := range []models.User{f.patient, f.doctor, f.admin} {
			got, err := p.Appointments.Get(ctx, apptActor(u), a.ID)
			if err != nil {
				t.Fatalf("%s get: %v", u.Role, err)
			}
			if got.ID != a.ID || got.Doctor == nil || got.Patient == nil || got.Doctor.Specialty != "Cardiology" {
				t.Fatalf("%s got %+v", u.Role, got)
			}
		}
		if n := apptAudits(t, p, "appointment.read", a.ID); n != 1 {
			t.Fatalf("%d appointment.read audit entries, want 1 (the admin's)", n)
		}
		for _, u := range []models.User{f.patient2, f.doctor2} {
			_, err := p.Appointments.Get(ctx, apptActor(u), a.ID)
			apptWantCode(t, err, models.ENOTFOUND)
		}
		_, err := p.Appointments.Get(ctx, apptActor(f.patient), "no-such-id")
		apptWantCode(t, err, models.ENOTFOUND)
	})
}

// TestStrangersSeeNothing: someone who is neither party nor admin gets
// not_found for every action, as for an id that does not exist, and
// nothing changes.
func TestStrangersSeeNothing(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		booked := modeltest.MustAppointment(t, p, f.doctor, f.patient, mustTime(t, "2030-03-05T10:00:00Z"), models.StatusBooked)
		running := modeltest.MustAppointment(t, p, f.doctor, f.patient, mustTime(t, "2030-03-04T08:00:00Z"), models.StatusInProgress)
		f.clock.Set(mustTime(t, "2030-03-04T08:10:00Z"))
		actions := []struct {
			name string
			do   func(actor models.Actor, id string) error
		}{
			{"get", func(a models.Actor, id string) error { _, err := p.Appointments.Get(ctx, a, id); return err }},
			{"start", func(a models.Actor, id string) error { _, err := p.Appointments.Start(ctx, a, id); return err }},
			{"complete", func(a models.Actor, id string) error { _, err := p.Appointments.Complete(ctx, a, id); return err }},
			{"no_show", func(a models.Actor, id string) error { _, err := p.Appointments.NoShow(ctx, a, id); return err }},
			{"cancel", func(a models.Actor, id string) error {
				_, err := p.Appointments.Cancel(ctx, a, id, models.CancelInput{})
				return err
			}},
			{"reschedule", func(a models.Actor, id string) error {
				_, err := p.Appointments.Reschedule(ctx, a, id, models.RescheduleInput{StartsAt: "2030-03-05T15:00:00Z"})
				return err
			}},
			{"diagnosis", func(a models.Actor, id string) error {
				_, err := p.Appointments.SetDiagnosis(ctx, a, id, models.DiagnosisInput{Summary: "x"})
				return err
			}},
		}
		for _, who := range []models.User{f.patient2, f.doctor2} {
			for _, act := range actions {
				for _, id := range []string{booked.ID, running.ID, "missing-id"} {
					if err := act.do(apptActor(who), id); models.ErrorCode(err) != models.ENOTFOUND {
						t.Errorf("%s %s on %s: %v, want not_found", who.Role, act.name, id, err)
					}
				}
			}
		}
		if apptGet(t, f, booked.ID).Status != models.StatusBooked || apptGet(t, f, running.ID).Status != models.StatusInProgress {
			t.Fatal("a stranger changed an appointment")
		}
	})
}

func TestListAppointments(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		ten := mustTime(t, "2030-03-05T10:00:00Z")
		mk := func(d, pt models.User, at time.Time, s models.AppointmentStatus) string {
			return modeltest.MustAppointment(t, p, d, pt, at, s).ID
		}
		p1d1 := mk(f.doctor, f.patient, ten, models.StatusBooked)
		p1d1b := mk(f.doctor, f.patient, ten.Add(time.Hour), models.StatusCompleted)
		p1d2 := mk(f.doctor2, f.patient, ten, models.StatusCancelled)
		p2d1 := mk(f.doctor, f.patient2, ten.Add(2*time.Hour), models.StatusBooked)
		p2d2 := mk(f.doctor2, f.patient2, ten, models.StatusBooked)

		ids := func(t *testing.T, actor models.Actor, fl models.AppointmentFilter) []string {
			t.Helper()
			page, err := p.Appointments.List(ctx, actor, fl)
			if err != nil {
				t.Fatal(err)
			}
			if page.NextCursor != "" {
				t.Fatalf("unexpected next cursor %q", page.NextCursor)
			}
			var out []string
			for _, a := range page.Items {
				if a.Doctor == nil || a.Patient == nil {
					t.Fatalf("listed %s without its parties", a.ID)
				}
				out = append(out, a.ID)
			}
			return out
		}
		sameSet := func(t *testing.T, got []string, want ...string) {
			t.Helper()
			g, w := slices.Clone(got), slices.Clone(want)
			slices.Sort(g)
			slices.Sort(w)
			if !slices.Equal(g, w) {
				t.Fatalf("got %v, want %v", got, want)
			}
		}

		sameSet(t, ids(t, apptActor(f.patient), models.AppointmentFilter{}), p1d1, p1d1b, p1d2)
		sameSet(t, ids(t, apptActor(f.patient2), models.AppointmentFilter{}), p2d1, p2d2)
		sameSet(t, ids(t, apptActor(f.doctor), models.AppointmentFilter{}), p1d1, p1d1b, p2d1)
		sameSet(t, ids(t, apptActor(f.doctor2), models.AppointmentFilter{Status: models.StatusBooked}), p2d2)
		// A patient cannot widen the list to someone else's.
		sameSet(t, ids(t, apptActor(f.patient2), models.AppointmentFilter{PatientID: f.patient.ID}), p2d1, p2d2)
		if n := apptAudits(t, p, "appointment.list", "*"); n != 0 {
			t.Fatalf("participants' lists were audited (%d)", n)
		}

		admin := apptActor(f.admin)
		all := ids(t, admin, models.AppointmentFilter{})
		sameSet(t, all, p1d1, p1d1b, p1d2, p2d1, p2d2)
		sameSet(t, ids(t, admin, models.AppointmentFilter{DoctorID: f.doctor2.ID}), p1d2, p2d2)
		sameSet(t, ids(t, admin, models.AppointmentFilter{PatientID: f.patient2.ID}), p2d1, p2d2)
		sameSet(t, ids(t, admin, models.AppointmentFilter{Status: models.StatusBooked}), p1d1, p2d1, p2d2)
		sameSet(t, ids(t, admin, models.AppointmentFilter{Status: models.StatusCancelled, PatientID: f.patient.ID}), p1d2)
		sameSet(t, ids(t, admin, models.AppointmentFilter{From: "2030-03-05T10:30:00Z"}), p1d1b, p2d1)
		sameSet(t, ids(t, admin, models.AppointmentFilter{To: "2030-03-05T11:00:00Z"}), p1d1, p1d2, p2d2)
		sameSet(t, ids(t, admin, models.AppointmentFilter{From: "2030-03-05T10:30:00Z", To: "2030-03-05T12:00:00Z"}), p1d1b)
		if n := apptAudits(t, p, "appointment.list", "*"); n != 8 {
			t.Fatalf("%d appointment.list audit entries, want 8 (one per admin list)", n)
		}

		// Ordered by start, then id.
		for i := 1; i < len(all); i++ {
			a, b := apptGet(t, f, all[i-1]), apptGet(t, f, all[i])
			if a.StartsAt.After(b.StartsAt) || (a.StartsAt.Equal(b.StartsAt) && a.ID > b.ID) {
				t.Fatalf("list out of order at %d: %v", i, all)
			}
		}

		// Pages of every size walk the same list once, ties included.
		for _, size := range []int{1, 2, 3, 5} {
			var walked []string
			cursor, pages := "", 0
			for {
				page, err := p.Appointments.List(ctx, admin, models.AppointmentFilter{Limit: size, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page.Items) > size || pages > 10 {
					t.Fatalf("size %d: page %d has %d items", size, pages, len(page.Items))
				}
				for _, a := range page.Items {
					walked = append(walked, a.ID)
				}
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			if !slices.Equal(walked, all) {
				t.Fatalf("size %d walked %v, want %v", size, walked, all)
			}
		}
		// A patient's pages stay theirs.
		page, err := p.Appointments.List(ctx, apptActor(f.patient), models.AppointmentFilter{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		next, err := p.Appointments.List(ctx, apptActor(f.patient), models.AppointmentFilter{Limit: 2, Cursor: page.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2 || len(next.Items) != 1 || next.NextCursor != "" {
			t.Fatalf("patient pages: %d then %d (next %q)", len(page.Items), len(next.Items), next.NextCursor)
		}

		// Bad filters.
		for _, c := range []struct {
			f     models.AppointmentFilter
			field string
		}{
			{models.AppointmentFilter{Status: "done"}, "status"},
			{models.AppointmentFilter{Status: "BOOKED"}, "status"},
			{models.AppointmentFilter{Limit: -1}, "limit"},
			{models.AppointmentFilter{Limit: 201}, "limit"},
			{models.AppointmentFilter{Cursor: "not a cursor"}, "cursor"},
			{models.AppointmentFilter{Cursor: "bm9waXBl"}, "cursor"},
			{models.AppointmentFilter{From: "yesterday"}, "from"},
			{models.AppointmentFilter{To: "2030-03-05"}, "to"},
		} {
			_, err := p.Appointments.List(ctx, apptActor(f.patient), c.f)
			apptWantField(t, err, c.field)
		}
		_, err = p.Appointments.List(ctx, models.Actor{UserID: f.patient.ID, Role: "nurse"}, models.AppointmentFilter{})
		apptWantCode(t, err, models.EFORBIDDEN)
	})
}

func TestSweepNoShows(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		at := func(s string) time.Time { return mustTime(t, "2030-03-05T"+s+":00Z") }
		mk := func(s string, st models.AppointmentStatus) string {
			return modeltest.MustAppointment(t, p, f.doctor, f.patient, at(s), st).ID
		}
		long := mk("10:00", models.StatusBooked)     // ended 10:30
		recent := mk("10:30", models.StatusBooked)   // ended 11:00
		edge := mk("11:00", models.StatusBooked)     // ends 11:30, exactly the cutoff
		upcoming := mk("11:30", models.StatusBooked) // ends 12:00
		running := mk("09:00", models.StatusInProgress)
		cancelled := mk("08:00", models.StatusCancelled)
		done := mk("07:00", models.StatusCompleted)

		f.clock.Set(at("12:00")) // cutoff: ended before 11:30
		n, err := p.Appointments.SweepNoShows(ctx)
		if err != nil || n != 2 {
			t.Fatalf("sweep = %d, %v; want 2", n, err)
		}
		want := map[string]models.AppointmentStatus{long: models.StatusNoShow, recent: models.StatusNoShow, edge: models.StatusBooked,
			upcoming: models.StatusBooked, running: models.StatusInProgress, cancelled: models.StatusCancelled, done: models.StatusCompleted}
		for id, st := range want {
			if got := apptGet(t, f, id).Status; got != st {
				t.Errorf("%s: status %s, want %s", id, got, st)
			}
		}
		for _, id := range []string{long, recent} {
			if apptEvents(t, p, models.KindAppointmentNoShow, id) != 1 {
				t.Errorf("%s: want one appointment_no_show event", id)
			}
			var by string
			if err := p.DB.Table("audit_entries").Select("actor_id").Where("action = ? AND target_id = ?", "appointment.no_show", id).
				Scan(&by).Error; err != nil || by != models.SystemActor.UserID {
				t.Errorf("%s: no-show audited by %q (%v), want the system", id, by, err)
			}
		}

		// Idempotent.
		if n, err := p.Appointments.SweepNoShows(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v; want 0", n, err)
		}
		if apptEvents(t, p, models.KindAppointmentNoShow, long) != 1 {
			t.Fatal("a second sweep raised the event again")
		}

		f.clock.Advance(30 * time.Minute) // cutoff 12:00
		if n, err := p.Appointments.SweepNoShows(ctx); err != nil || n != 1 {
			t.Fatalf("later sweep = %d, %v; want 1", n, err)
		}
		if apptGet(t, f, edge).Status != models.StatusNoShow || apptGet(t, f, upcoming).Status != models.StatusBooked {
			t.Fatal("later sweep marked the wrong appointments")
		}
	})
}

// TestConcurrentStartAndCancel: many starts and cancels of one appointment
// at once; exactly one change wins, the rest are conflicts.
func TestConcurrentStartAndCancel(t *testing.T) {
	const perSide = 3
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		var ids []string
		for _, s := range []string{"10:00", "10:30", "11:00", "11:30"} {
			ids = append(ids, modeltest.MustAppointment(t, p, f.doctor, f.patient, mustTime(t, "2030-03-05T"+s+":00Z"), models.StatusBooked).ID)
		}
		f.clock.Set(mustTime(t, "2030-03-05T11:20:00Z")) // every one may start; the doctor may cancel any
		for _, id := range ids {
			type result struct {
				cancel bool
				a      models.Appointment
				err    error
			}
			results := make([]result, 2*perSide)
			var ready, wg sync.WaitGroup
			ready.Add(1)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ready.Wait()
					r := result{cancel: i%2 == 1}
					if r.cancel {
						r.a, r.err = p.Appointments.Cancel(ctx, apptActor(f.doctor), id, models.CancelInput{Reason: "race"})
					} else {
						r.a, r.err = p.Appointments.Start(ctx, apptActor(f.doctor), id)
					}
					results[i] = r
				}()
			}
			ready.Done()
			wg.Wait()

			var wins []result
			for _, r := range results {
				switch {
				case r.err == nil:
					wins = append(wins, r)
				case models.ErrorCode(r.err) != models.ECONFLICT:
					t.Errorf("%s: %v, want conflict", id, r.err)
				}
			}
			if len(wins) != 1 {
				t.Fatalf("%s: %d winners, want 1", id, len(wins))
			}
			want := models.StatusInProgress
			if wins[0].cancel {
				want = models.StatusCancelled
			}
			if got := apptGet(t, f, id).Status; got != want || wins[0].a.Status != want {
				t.Fatalf("%s: stored %s, winner saw %s, want %s", id, got, wins[0].a.Status, want)
			}
			audits := apptAudits(t, p, "appointment.start", id) + apptAudits(t, p, "appointment.cancel", id)
			events := apptEvents(t, p, models.KindConsultationStarted, id) + apptEvents(t, p, models.KindAppointmentCancelled, id)
			if audits != 1 || events != 1 {
				t.Fatalf("%s: %d audit entries and %d events, want 1 each", id, audits, events)
			}
		}
	})
}

// TestAppointmentsDatabaseOutageIsUnavailable: a failing database is an
// internal error, never a not_found or forbidden.
func TestAppointmentsDatabaseOutageIsUnavailable(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		sqlDB, err := p.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		_ = sqlDB.Close()
		calls := map[string]func() error{
			"get": func() error { _, err := p.Appointments.Get(ctx, apptActor(f.patient2), a.ID); return err },
			"book": func() error {
				_, err := p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-05T11:00:00Z"})
				return err
			},
			"start": func() error { _, err := p.Appointments.Start(ctx, apptActor(f.patient2), a.ID); return err },
			"cancel": func() error {
				_, err := p.Appointments.Cancel(ctx, apptActor(f.patient), a.ID, models.CancelInput{})
				return err
			},
			"list": func() error {
				_, err := p.Appointments.List(ctx, apptActor(f.patient), models.AppointmentFilter{})
				return err
			},
			"sweep": func() error { _, err := p.Appointments.SweepNoShows(ctx); return err },
		}
		storeMustBeUnavailable(t, calls)
	})
}

// TestRescheduleRacesBooking: a reschedule onto a slot and a booking of it
// at the same moment; the database lets exactly one have it.
func TestRescheduleRacesBooking(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		for i, target := range []string{"2030-03-05T12:00:00Z", "2030-03-05T12:30:00Z", "2030-03-05T13:00:00Z", "2030-03-05T13:30:00Z"} {
			a := apptBook(t, f, f.patient, f.doctor, fmt.Sprintf("2030-03-06T%02d:00:00Z", 10+i))
			var (
				wg           sync.WaitGroup
				ready        sync.WaitGroup
				moveErr      error
				bookErr      error
				moved, taken models.Appointment
			)
			ready.Add(1)
			wg.Add(2)
			go func() {
				defer wg.Done()
				ready.Wait()
				moved, moveErr = p.Appointments.Reschedule(ctx, apptActor(f.patient), a.ID, models.RescheduleInput{StartsAt: target})
			}()
			go func() {
				defer wg.Done()
				ready.Wait()
				taken, bookErr = p.Appointments.Book(ctx, apptActor(f.patient2), models.BookInput{DoctorID: f.doctor.ID, StartsAt: target})
			}()
			ready.Done()
			wg.Wait()

			switch {
			case moveErr == nil && bookErr == nil:
				t.Fatalf("%s: both the reschedule and the booking took the slot", target)
			case moveErr == nil:
				apptWantCode(t, bookErr, models.ESLOTTAKEN)
				if !moved.StartsAt.Equal(mustTime(t, target)) {
					t.Fatalf("moved to %v", moved.StartsAt)
				}
			case bookErr == nil:
				apptWantCode(t, moveErr, models.ESLOTTAKEN)
				if got := apptGet(t, f, a.ID); !got.StartsAt.Equal(a.StartsAt) || taken.PatientID != f.patient2.ID {
					t.Fatalf("losing reschedule moved the appointment to %v", got.StartsAt)
				}
			default:
				t.Fatalf("%s: neither won: %v / %v", target, moveErr, bookErr)
			}
		}
	})
}

// TestBookSamePatientConcurrently: one patient books two doctors for the
// same time at once; only one booking may succeed, the other is a
// conflict.
func TestBookSamePatientConcurrently(t *testing.T) {
	apptEachDriver(t, nil, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		for _, hm := range []string{"10:00", "10:30", "11:00", "11:30", "12:00"} {
			errs := make([]error, 2)
			var ready, wg sync.WaitGroup
			ready.Add(1)
			for i, d := range []models.User{f.doctor, f.doctor2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ready.Wait()
					_, errs[i] = p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: d.ID, StartsAt: "2030-03-05T" + hm + ":00Z"})
				}()
			}
			ready.Done()
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else if models.ErrorCode(err) != models.ECONFLICT {
					t.Fatalf("%s: %v, want conflict", hm, err)
				}
			}
			if ok != 1 {
				t.Fatalf("%s: %d bookings succeeded, want exactly 1 (%v)", hm, ok, errs)
			}
		}
	})
}

func TestBookingHorizon(t *testing.T) {
	apptEachDriver(t, func(o *modeltest.Options) { o.Policy.BookingHorizon = 14 * 24 * time.Hour }, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		// The clock is 2030-03-04T08:00Z: the last bookable start is 2030-03-18T08:00Z.
		last := apptBook(t, f, f.patient, f.doctor, "2030-03-18T08:00:00Z")
		_, err := p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-18T08:30:00Z"})
		apptWantField(t, err, "starts_at")
		_, err = p.Appointments.Reschedule(ctx, apptActor(f.patient), last.ID, models.RescheduleInput{StartsAt: "2030-03-20T10:00:00Z"})
		apptWantField(t, err, "starts_at")
		// A day later the horizon has moved with the clock.
		f.clock.Advance(24 * time.Hour)
		if _, err := p.Appointments.Reschedule(ctx, apptActor(f.patient), last.ID, models.RescheduleInput{StartsAt: "2030-03-19T08:00:00Z"}); err != nil {
			t.Fatalf("reschedule inside the moved horizon: %v", err)
		}
	})
}

func TestMaxActiveAppointments(t *testing.T) {
	apptEachDriver(t, func(o *modeltest.Options) { o.Policy.MaxActiveAppointments = 2 }, func(t *testing.T, f *apptFixture) {
		ctx, p := t.Context(), f.p
		a := apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z")
		b := apptBook(t, f, f.patient, f.doctor2, "2030-03-05T11:00:00Z")
		_, err := p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-06T10:00:00Z"})
		apptWantCode(t, err, models.ECONFLICT)
		if d := models.AsError(err).Details; d["max_active_appointments"] != 2 {
			t.Fatalf("cap details %v", d)
		}
		// The cap is per patient.
		apptBook(t, f, f.patient2, f.doctor, "2030-03-06T10:00:00Z")

		// An appointment in progress still counts; one completed or cancelled does not.
		f.clock.Set(mustTime(t, "2030-03-05T10:00:00Z"))
		if _, err := p.Appointments.Start(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = p.Appointments.Book(ctx, apptActor(f.patient), models.BookInput{DoctorID: f.doctor.ID, StartsAt: "2030-03-06T11:00:00Z"})
		apptWantCode(t, err, models.ECONFLICT)
		if _, err := p.Appointments.Complete(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		c := apptBook(t, f, f.patient, f.doctor, "2030-03-06T11:00:00Z")
		_, err = p.Appointments.Cancel(ctx, apptActor(f.patient), b.ID, models.CancelInput{}) // b starts in an hour
		apptWantCode(t, err, models.ECONFLICT)
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.patient), c.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		apptBook(t, f, f.patient, f.doctor, "2030-03-06T12:00:00Z")

		// Many bookings of one patient at once for different slots: the
		// cap holds under concurrency too.
		other := modeltest.MustUser(t, p, models.RolePatient, "busy@example.com")
		const n = 6
		errs := make([]error, n)
		var ready, wg sync.WaitGroup
		ready.Add(1)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Wait()
				_, errs[i] = p.Appointments.Book(ctx, apptActor(other), models.BookInput{DoctorID: f.doctor2.ID,
					StartsAt: fmt.Sprintf("2030-03-07T%02d:00:00Z", 8+i)})
			}()
		}
		ready.Done()
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case models.ErrorCode(err) != models.ECONFLICT:
				t.Errorf("booking %d: %v, want conflict", i, err)
			}
		}
		if ok != 2 {
			t.Fatalf("%d concurrent bookings succeeded under a cap of 2 (%v)", ok, errs)
		}
	})
}
