package realtime_test

import (
	"sync"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime/sioclient"
)

// openAllWeek gives a doctor 30-minute slots around the clock.
func openAllWeek(t *testing.T, p *modeltest.Services, doctorID string) {
	t.Helper()
	in := models.ScheduleInput{TimeZone: "UTC", SlotMinutes: 30}
	for d := range 7 {
		in.Rules = append(in.Rules, models.ScheduleRule{Weekday: d, Start: "00:00", End: "24:00"})
	}
	if err := p.Schedules.SeedSchedule(t.Context(), doctorID, in); err != nil {
		t.Fatal(err)
	}
}

func TestBookingNotifiesTheDoctorLive(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	openAllWeek(t, r.P, c.Doctor.ID)
	doctor := r.dial(c.DoctorT)
	stranger := r.dial(c.StrangerT)
	start := time.Now().UTC().Add(3 * time.Hour).Truncate(30 * time.Minute)
	a, err := r.P.Appointments.Book(t.Context(), models.Actor{UserID: c.Patient.ID, Role: models.RolePatient},
		models.BookInput{DoctorID: c.Doctor.ID, StartsAt: start.Format(time.RFC3339), Reason: "checkup"})
	if err != nil {
		t.Fatal(err)
	}
	got := next(t, doctor, "notification")
	data, _ := got["data"].(map[string]any)
	if got["kind"] != "appointment_booked" || data["appointment_id"] != a.ID || got["id"] == "" {
		t.Fatalf("doctor got %v", got)
	}
	list, err := r.P.Notifications.List(t.Context(), models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, models.NotificationFilter{})
	if err != nil || len(list.Items) != 1 || list.Items[0].ID != got["id"] {
		t.Fatalf("the pushed notification is not the stored one: %v %+v", err, list.Items)
	}
	time.Sleep(100 * time.Millisecond)
	if n := stranger.Count("notification"); n != 0 {
		t.Fatalf("a stranger got %d notifications", n)
	}
}

func TestDiagnosisReachesEveryDevice(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusInProgress)
	phone, laptop := r.dial(c.PatientT), r.dial(c.PatientT)
	if _, err := r.P.Appointments.SetDiagnosis(t.Context(), models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, c.Appt.ID,
		models.DiagnosisInput{Summary: "Seasonal allergy; antihistamines for two weeks."}); err != nil {
		t.Fatal(err)
	}
	for name, cl := range map[string]*sioclient.Client{"phone": phone, "laptop": laptop} {
		got := next(t, cl, "notification")
		if got["kind"] != "diagnosis_ready" {
			t.Fatalf("%s got %v", name, got)
		}
	}
}

func TestRemindersGoOutOnceAcrossSchedulers(t *testing.T) {
	db := modeltest.NewPostgres(t)
	clock := &modeltest.Clock{}
	base := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clock.Set(base)
	nodeA := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	nodeB := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	nodeA.RecordNotifications()
	doctor := modeltest.MustUser(t, nodeA, models.RoleDoctor, "rem-d@example.com")
	patient := modeltest.MustUser(t, nodeA, models.RolePatient, "rem-p@example.com")
	var appts []models.Appointment
	for i := range 5 {
		a := modeltest.MustAppointment(t, nodeA, doctor, patient, base.Add(48*time.Hour+time.Duration(i)*time.Hour), models.StatusBooked)
		// Booked well before its reminders are due.
		db.Table("appointments").Where("id = ?", a.ID).Update("created_at", base.Add(-time.Hour))
		appts = append(appts, a)
	}
	race := func() {
		var wg sync.WaitGroup
		for _, p := range []*modeltest.Services{nodeA, nodeB, nodeA, nodeB} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := p.Notifications.SendReminders(t.Context()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		nodeA.Dispatch(t)
	}
	count := func() int64 {
		var n int64
		db.Table("notifications").Where("kind = ?", models.NotifyReminder).Count(&n)
		return n
	}
	race()
	if n := count(); n != 0 {
		t.Fatalf("%d reminders two days ahead", n)
	}
	// 24 h before the first three (starts at +48h, +49h, +50h from base).
	clock.Set(base.Add(26*time.Hour + time.Minute))
	race()
	race()
	if n := count(); n != 3*2 {
		t.Fatalf("%d reminders after the 24 h mark of three appointments, want 6 (patient and doctor each)", n)
	}
	// All nodes were down from then until 10 min before the first: its 15 min
	// reminder goes out late, once; the others are 24 h reminders now due.
	clock.Set(base.Add(48*time.Hour - 10*time.Minute))
	race()
	race()
	if n := count(); n != 6+2+2*2 {
		t.Fatalf("%d reminders, want 12", n)
	}
	// A started appointment gets no late reminder.
	clock.Set(base.Add(51*time.Hour + time.Minute))
	db.Table("appointments").Where("id = ?", appts[4].ID).Update("status", models.StatusInProgress)
	race()
	var late int64
	db.Table("notifications").Where("kind = ? AND data LIKE ?", models.NotifyReminder, "%"+appts[4].ID+"%").Count(&late)
	if late != 2 { // only its 24 h reminder from the previous step
		t.Fatalf("the started appointment has %d reminders, want 2", late)
	}
}

func TestStatusChangesReachTheRoom(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	// An appointment starting in ten minutes, so the doctor may start it now.
	appt := modeltest.MustAppointment(t, r.P, c.Doctor, c.Patient, time.Now().Add(10*time.Minute).Truncate(time.Minute), models.StatusBooked)
	patient := r.dial(c.PatientT)
	mustOK(t, patient, "consultation:join", map[string]any{"appointment_id": appt.ID})
	doctor := models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}
	if _, err := r.P.Appointments.Start(t.Context(), doctor, appt.ID); err != nil {
		t.Fatal(err)
	}
	if got := next(t, patient, "consultation:status"); got["appointment_id"] != appt.ID || got["status"] != "in_progress" {
		t.Fatalf("status after start %v", got)
	}
	if got := next(t, patient, "notification"); got["kind"] != "consultation_started" {
		t.Fatalf("patient notification %v", got)
	}
	if _, err := r.P.Appointments.Complete(t.Context(), doctor, appt.ID); err != nil {
		t.Fatal(err)
	}
	if got := next(t, patient, "consultation:status"); got["status"] != "completed" {
		t.Fatalf("status after completion %v", got)
	}
}
