package models_test

import (
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"teleconsult/models"
)

// Appointment t0 (Tue 10 Mar 2026 09:00 UTC) as each party sees it.
const (
	startsForDoctor  = "Tue 10 Mar 2026 at 10:00 (Berlin, UTC+1)"   // Europe/Berlin
	startsForPatient = "Tue 10 Mar 2026 at 05:00 (New York, UTC-4)" // America/New_York (DST since 8 Mar)
	startsUTC        = "2026-03-10T09:00:00Z"
)

func notifyAppt() models.Appointment {
	a := appt(models.StatusBooked, t0)
	a.Doctor = &models.Party{ID: doctorID, Name: "Dr Doc", TimeZone: "Europe/Berlin"}
	a.Patient = &models.Party{ID: patientID, Name: "Pat Patient", TimeZone: "America/New_York"}
	return a
}

func envelope(ev models.Event) models.Envelope {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return models.Envelope{ID: "ev-1", Event: ev, CreatedAt: t0.Add(-time.Hour).In(berlin), Attempt: 1}
}

func baseData(extra map[string]any) map[string]any {
	d := map[string]any{"appointment_id": "appt-1", "starts_at": startsUTC}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

func note(to string, kind models.NotificationKind, title, body string, data map[string]any) models.Notification {
	return models.Notification{UserID: to, Kind: kind, Title: title, Body: body, Data: data,
		CreatedAt: t0.Add(-time.Hour), Key: "ev-1:" + to}
}

func TestNotificationsFor(t *testing.T) {
	a := notifyAppt()
	by := func(id string, role models.Role) models.AppointmentEvent {
		return models.AppointmentEvent{Appointment: a, ActorID: id, ActorRole: role, At: t0.Add(-time.Hour)}
	}
	prev := t0.Add(-24 * time.Hour)
	cases := []struct {
		name string
		ev   models.Event
		want []models.Notification
	}{
		{"booked: the doctor hears", models.AppointmentBooked{AppointmentEvent: by(patientID, models.RolePatient)}, []models.Notification{
			note(doctorID, models.NotifyBooked, "New appointment", "Pat Patient booked "+startsForDoctor+".", baseData(nil)),
		}},
		{"cancelled by the patient: the doctor hears", models.AppointmentCancelled{AppointmentEvent: by(patientID, models.RolePatient)}, []models.Notification{
			note(doctorID, models.NotifyCancelled, "Appointment cancelled", "The appointment of "+startsForDoctor+" was cancelled.", baseData(nil)),
		}},
		{"cancelled by the doctor with a reason: the patient hears", models.AppointmentCancelled{AppointmentEvent: by(doctorID, models.RoleDoctor), Reason: "sick"}, []models.Notification{
			note(patientID, models.NotifyCancelled, "Appointment cancelled", "The appointment of "+startsForPatient+" was cancelled. Reason: sick", baseData(map[string]any{"reason": "sick"})),
		}},
		{"cancelled by an admin: both hear it was the clinic", models.AppointmentCancelled{AppointmentEvent: by(adminID, models.RoleAdmin)}, []models.Notification{
			note(patientID, models.NotifyCancelled, "Appointment cancelled", "The appointment of "+startsForPatient+" was cancelled by the clinic.", baseData(map[string]any{"cancelled_by": "clinic"})),
			note(doctorID, models.NotifyCancelled, "Appointment cancelled", "The appointment of "+startsForDoctor+" was cancelled by the clinic.", baseData(map[string]any{"cancelled_by": "clinic"})),
		}},
		{"cancelled by the system: the clinic", models.AppointmentCancelled{AppointmentEvent: by(models.SystemActor.UserID, models.SystemActor.Role), Reason: "closed"}, []models.Notification{
			note(patientID, models.NotifyCancelled, "Appointment cancelled", "The appointment of "+startsForPatient+" was cancelled by the clinic. Reason: closed", baseData(map[string]any{"cancelled_by": "clinic", "reason": "closed"})),
			note(doctorID, models.NotifyCancelled, "Appointment cancelled", "The appointment of "+startsForDoctor+" was cancelled by the clinic. Reason: closed", baseData(map[string]any{"cancelled_by": "clinic", "reason": "closed"})),
		}},
		{"rescheduled by the patient: the doctor hears", models.AppointmentRescheduled{AppointmentEvent: by(patientID, models.RolePatient), PreviousStartsAt: prev}, []models.Notification{
			note(doctorID, models.NotifyRescheduled, "Appointment moved", "Your appointment moved from Mon 9 Mar 2026 at 10:00 (Berlin, UTC+1) to "+startsForDoctor+".",
				baseData(map[string]any{"previous_starts_at": "2026-03-09T09:00:00Z"})),
		}},
		{"rescheduled by an admin: both hear", models.AppointmentRescheduled{AppointmentEvent: by(adminID, models.RoleAdmin), PreviousStartsAt: prev}, []models.Notification{
			note(patientID, models.NotifyRescheduled, "Appointment moved", "Your appointment moved from Mon 9 Mar 2026 at 05:00 (New York, UTC-4) to "+startsForPatient+".",
				baseData(map[string]any{"previous_starts_at": "2026-03-09T09:00:00Z"})),
			note(doctorID, models.NotifyRescheduled, "Appointment moved", "Your appointment moved from Mon 9 Mar 2026 at 10:00 (Berlin, UTC+1) to "+startsForDoctor+".",
				baseData(map[string]any{"previous_starts_at": "2026-03-09T09:00:00Z"})),
		}},
		{"started: the patient hears", models.ConsultationStarted{AppointmentEvent: by(doctorID, models.RoleDoctor)}, []models.Notification{
			note(patientID, models.NotifyStarted, "Your consultation has started", "Dr Doc is waiting for you in the consultation room.", baseData(nil)),
		}},
		{"diagnosis: the patient hears", models.DiagnosisReady{AppointmentEvent: by(doctorID, models.RoleDoctor)}, []models.Notification{
			note(patientID, models.NotifyDiagnosis, "Your diagnosis is ready", "Dr Doc has written up your consultation.", baseData(nil)),
		}},
		{"reminder: both hear", models.ReminderDue{AppointmentEvent: models.AppointmentEvent{Appointment: a, ActorID: models.SystemActor.UserID, At: t0.Add(-15 * time.Minute)}, Offset: 15 * time.Minute}, []models.Notification{
			note(patientID, models.NotifyReminder, "Upcoming consultation", "Your consultation with Dr Doc starts in 15 minutes: "+startsForPatient+".", baseData(map[string]any{"offset_seconds": int64(900)})),
			note(doctorID, models.NotifyReminder, "Upcoming consultation", "Your consultation with Pat Patient starts in 15 minutes: "+startsForDoctor+".", baseData(map[string]any{"offset_seconds": int64(900)})),
		}},
		{"completed: nobody", models.ConsultationCompleted{AppointmentEvent: by(doctorID, models.RoleDoctor)}, nil},
		{"no show: nobody", models.AppointmentNoShow{AppointmentEvent: by(models.SystemActor.UserID, models.RoleAdmin)}, nil},
		{"user disabled: not an appointment event", models.UserDisabled{UserID: patientID, ActorID: adminID, At: t0}, nil},
		{"announcement: rendered by AnnouncementFor", models.AnnouncementPosted{Title: "x", Body: "y", Audience: models.AudienceAll}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := models.NotificationsFor(envelope(c.ev))
			if len(got) != len(c.want) {
				t.Fatalf("got %d notifications, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				if got[i].CreatedAt.Location() != time.UTC {
					t.Errorf("[%d] CreatedAt not in UTC: %v", i, got[i].CreatedAt)
				}
				if !reflect.DeepEqual(got[i], c.want[i]) {
					t.Errorf("[%d]\n got %#v\nwant %#v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestNotificationsForFallbacks(t *testing.T) {
	a := appt(models.StatusBooked, t0) // no parties loaded
	ev := models.AppointmentEvent{Appointment: a, ActorID: patientID, ActorRole: models.RolePatient}
	got := models.NotificationsFor(envelope(models.AppointmentBooked{AppointmentEvent: ev}))
	if len(got) != 1 || got[0].Body != "A patient booked Tue 10 Mar 2026 at 09:00 UTC." {
		t.Errorf("booked without parties: %+v", got)
	}
	got = models.NotificationsFor(envelope(models.ConsultationStarted{AppointmentEvent: ev}))
	if len(got) != 1 || got[0].Body != "Your doctor is waiting for you in the consultation room." {
		t.Errorf("started without parties: %+v", got)
	}
	ev.At = t0.Add(-15 * time.Minute)
	got = models.NotificationsFor(envelope(models.ReminderDue{AppointmentEvent: ev, Offset: 15 * time.Minute}))
	if len(got) != 2 || got[1].Body != "Your consultation with a patient starts in 15 minutes: Tue 10 Mar 2026 at 09:00 UTC." {
		t.Errorf("reminder without parties: %+v", got)
	}

	// An unknown or empty zone falls back to UTC.
	a.Doctor = &models.Party{ID: doctorID, Name: "Dr Doc", TimeZone: "Mars/Olympus_Mons"}
	a.Patient = &models.Party{ID: patientID, Name: "Pat"}
	ev = models.AppointmentEvent{Appointment: a, ActorID: adminID, ActorRole: models.RoleAdmin}
	got = models.NotificationsFor(envelope(models.AppointmentCancelled{AppointmentEvent: ev}))
	if len(got) != 2 {
		t.Fatalf("got %d notifications", len(got))
	}
	for _, n := range got {
		if want := "The appointment of Tue 10 Mar 2026 at 09:00 UTC was cancelled by the clinic."; n.Body != want {
			t.Errorf("%s: body %q, want %q", n.UserID, n.Body, want)
		}
	}
}

func TestReminderLeadTime(t *testing.T) {
	a := notifyAppt()
	cases := []struct {
		before time.Duration
		want   string
	}{
		{30 * time.Second, "now"},
		{time.Minute, "now"},
		{2 * time.Minute, "in 2 minutes"},
		{15 * time.Minute, "in 15 minutes"},
		{119 * time.Minute, "in 119 minutes"},
		{2 * time.Hour, "in 2 hours"},
		{24 * time.Hour, "in 24 hours"},
	}
	for _, c := range cases {
		ev := models.ReminderDue{AppointmentEvent: models.AppointmentEvent{Appointment: a, At: t0.Add(-c.before)}, Offset: c.before}
		got := models.NotificationsFor(envelope(ev))
		if len(got) != 2 {
			t.Fatalf("%v: %d notifications", c.before, len(got))
		}
		want := "Your consultation with Dr Doc starts " + c.want + ": " + startsForPatient + "."
		if got[0].Body != want {
			t.Errorf("%v before: body %q, want %q", c.before, got[0].Body, want)
		}
		if got[0].Data["offset_seconds"] != int64(c.before/time.Second) || got[1].Data["offset_seconds"] != int64(c.before/time.Second) {
			t.Errorf("%v before: offset_seconds %v / %v", c.before, got[0].Data["offset_seconds"], got[1].Data["offset_seconds"])
		}
		if got[0].UserID != patientID || got[1].UserID != doctorID || got[0].Key == got[1].Key {
			t.Errorf("recipients/keys: %q %q / %q %q", got[0].UserID, got[0].Key, got[1].UserID, got[1].Key)
		}
	}
}

func TestNotificationDataIsNotShared(t *testing.T) {
	ev := models.AppointmentCancelled{AppointmentEvent: models.AppointmentEvent{Appointment: notifyAppt(), ActorID: adminID, ActorRole: models.RoleAdmin}}
	got := models.NotificationsFor(envelope(ev))
	got[0].Data["mutated"] = true
	if _, ok := got[1].Data["mutated"]; ok {
		t.Error("notifications of one event share their data map")
	}
}

func TestAnnouncementFor(t *testing.T) {
	env := envelope(models.AnnouncementPosted{Title: "Closed", Body: "On Monday.", Audience: models.AudienceDoctors, ActorID: adminID, At: t0})
	got := models.AnnouncementFor(env, doctorID)
	want := models.Notification{UserID: doctorID, Kind: models.NotifyAnnouncement, Title: "Closed", Body: "On Monday.",
		Data: map[string]any{"audience": models.AudienceDoctors}, CreatedAt: t0.Add(-time.Hour), Key: "ev-1:" + doctorID}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %#v\nwant %#v", got, want)
	}
	if other := models.AnnouncementFor(env, patientID); other.Key == got.Key {
		t.Error("two recipients share a key")
	}
}

func TestAudienceRole(t *testing.T) {
	cases := map[string]models.Role{
		models.AudienceAll:      "",
		models.AudiencePatients: models.RolePatient,
		models.AudienceDoctors:  models.RoleDoctor,
		"admins":                "",
		"":                      "",
	}
	for in, want := range cases {
		if got := models.AudienceRole(in); got != want {
			t.Errorf("AudienceRole(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeDecodeData(t *testing.T) {
	d := map[string]any{"appointment_id": "a1", "offset_seconds": int64(900), "nested": map[string]any{"x": true}}
	s := models.EncodeData(d)
	got := models.DecodeData(s)
	want := map[string]any{"appointment_id": "a1", "offset_seconds": float64(900), "nested": map[string]any{"x": true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip %s = %#v", s, got)
	}
	if got := models.EncodeData(nil); got != "{}" {
		t.Errorf("EncodeData(nil) = %q", got)
	}
	if got := models.EncodeData(map[string]any{"ch": make(chan int)}); got != "{}" {
		t.Errorf("EncodeData(unencodable) = %q", got)
	}
	for _, bad := range []string{"", "not json", "[1,2]"} {
		if got := models.DecodeData(bad); got == nil || len(got) != 0 {
			t.Errorf("DecodeData(%q) = %#v, want an empty map", bad, got)
		}
	}
}

func TestDueReminder(t *testing.T) {
	offsets := []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour} // sorted, as the caller passes them
	a := appt(models.StatusBooked, t0)                                      // booked a week ahead
	late := a
	late.CreatedAt = t0.Add(-2 * time.Hour) // booked after the 24h reminder's time
	cases := []struct {
		name string
		a    models.Appointment
		now  time.Time
		want []time.Duration
	}{
		{"two days ahead", a, t0.Add(-48 * time.Hour), nil},
		{"just before 24h", a, t0.Add(-24*time.Hour - time.Second), nil},
		{"at 24h", a, t0.Add(-24 * time.Hour), []time.Duration{24 * time.Hour}},
		{"30 minutes ahead", a, t0.Add(-30 * time.Minute), []time.Duration{time.Hour, 24 * time.Hour}},
		{"10 minutes ahead", a, t0.Add(-10 * time.Minute), offsets},
		{"booked late, 90 minutes ahead", late, t0.Add(-90 * time.Minute), nil},
		{"booked late, 30 minutes ahead", late, t0.Add(-30 * time.Minute), []time.Duration{time.Hour}},
		{"booked late, 10 minutes ahead", late, t0.Add(-10 * time.Minute), []time.Duration{15 * time.Minute, time.Hour}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := models.DueReminder(c.a, offsets, c.now)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("DueReminder = %v, want %v", got, c.want)
			}
		})
	}
	// Booked exactly at a reminder's time: that reminder still goes out.
	exact := a
	exact.CreatedAt = t0.Add(-time.Hour)
	if got := models.DueReminder(exact, offsets, t0.Add(-time.Hour)); !reflect.DeepEqual(got, []time.Duration{time.Hour}) {
		t.Errorf("booked at the reminder time: %v", got)
	}
	if got := models.DueReminder(a, nil, t0); got != nil {
		t.Errorf("no offsets: %v", got)
	}
}

// A recipient who reads Chinese gets the texts in Chinese, times in their
// zone with its UTC offset; the other party still reads English.
func TestNotificationsInTheRecipientsLanguage(t *testing.T) {
	a := notifyAppt()
	a.Patient.Locale, a.Patient.TimeZone = "zh", "Asia/Shanghai"
	ev := models.AppointmentEvent{Appointment: a, ActorID: adminID, ActorRole: models.RoleAdmin}
	got := models.NotificationsFor(envelope(models.AppointmentCancelled{AppointmentEvent: ev, Reason: "诊所停电"}))
	if len(got) != 2 {
		t.Fatalf("got %d notifications", len(got))
	}
	if got[0].UserID != patientID || got[0].Title != "预约已取消" || got[0].Body != "2026年3月10日（周二）17:00（UTC+8） 的预约已被诊所取消。 原因：诊所停电" {
		t.Errorf("patient (zh): %q / %q", got[0].Title, got[0].Body)
	}
	if got[1].Title != "Appointment cancelled" || !strings.HasPrefix(got[1].Body, "The appointment of "+startsForDoctor) {
		t.Errorf("doctor (en): %q / %q", got[1].Title, got[1].Body)
	}
	ev.At = t0.Add(-15 * time.Minute)
	got = models.NotificationsFor(envelope(models.ReminderDue{AppointmentEvent: ev, Offset: 15 * time.Minute}))
	if got[0].Body != "您与 Dr Doc 的问诊15 分钟后开始：2026年3月10日（周二）17:00（UTC+8）。" {
		t.Errorf("reminder (zh): %q", got[0].Body)
	}
	// An unknown language falls back to English.
	if models.TextIn("xx").T("New appointment") != "New appointment" || models.LocaleOr("xx") != "en" {
		t.Error("unknown locale did not fall back to English")
	}
}

func TestZoneLabel(t *testing.T) {
	for zone, want := range map[string]string{
		"Asia/Shanghai":       "Shanghai, UTC+8",
		"Asia/Kolkata":        "Kolkata, UTC+5:30",
		"America/Los_Angeles": "Los Angeles, UTC-7", // DST on 10 March 2026
		"UTC":                 "UTC",
	} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := models.ZoneLabel(t0.In(loc)); got != want {
			t.Errorf("%s: %q, want %q", zone, got, want)
		}
	}
}
