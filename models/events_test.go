package models_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"teleconsult/models"
)

// fullAppointment has every field set, so a round trip that drops one shows.
func fullAppointment() models.Appointment {
	summary, prescription := "Common cold", "Rest, fluids"
	diagnosed, updated := t0.Add(40*time.Minute), t0.Add(50*time.Minute)
	started, completed := t0.Add(time.Minute), t0.Add(30*time.Minute)
	return models.Appointment{
		ID: "appt-1", DoctorID: doctorID, PatientID: patientID,
		StartsAt: t0, EndsAt: t0.Add(30 * time.Minute), Status: models.StatusCompleted,
		Reason: "cough", CancelReason: "n/a", CancelledBy: adminID, LastSeq: 42,
		DiagnosisSummary: &summary, DiagnosisPrescription: &prescription,
		DiagnosedAt: &diagnosed, DiagnosisUpdatedAt: &updated,
		StartedAt: &started, CompletedAt: &completed,
		CreatedAt: t0.Add(-48 * time.Hour), UpdatedAt: t0.Add(time.Hour),
		Doctor:  &models.Party{ID: doctorID, Name: "Dr Doc", TimeZone: "Europe/Berlin", Specialty: "GP"},
		Patient: &models.Party{ID: patientID, Name: "Pat Patient", TimeZone: "America/New_York"},
	}
}

// oneOfEachEvent has one event of every kind the package defines.
func oneOfEachEvent() []models.Event {
	base := models.AppointmentEvent{Appointment: fullAppointment(), ActorID: doctorID, ActorRole: models.RoleDoctor, At: t0.Add(time.Hour)}
	return []models.Event{
		models.AppointmentBooked{AppointmentEvent: base},
		models.AppointmentCancelled{AppointmentEvent: base, Reason: "ill"},
		models.AppointmentRescheduled{AppointmentEvent: base, PreviousStartsAt: t0.Add(-24 * time.Hour)},
		models.ConsultationStarted{AppointmentEvent: base},
		models.ConsultationCompleted{AppointmentEvent: base},
		models.AppointmentNoShow{AppointmentEvent: base},
		models.DiagnosisReady{AppointmentEvent: base},
		models.ReminderDue{AppointmentEvent: base, Offset: 15 * time.Minute},
		models.UserDisabled{UserID: patientID, ActorID: adminID, At: t0},
		models.AnnouncementPosted{Title: "Closed", Body: "On Monday.", Audience: models.AudienceAll, ActorID: adminID, At: t0},
	}
}

var allKinds = []models.EventKind{
	models.KindAppointmentBooked, models.KindAppointmentCancelled, models.KindAppointmentRescheduled,
	models.KindConsultationStarted, models.KindConsultationCompleted, models.KindAppointmentNoShow,
	models.KindDiagnosisReady, models.KindReminderDue, models.KindUserDisabled, models.KindAnnouncementPosted,
}

func TestEventRoundTrip(t *testing.T) {
	seen := map[models.EventKind]bool{}
	for _, ev := range oneOfEachEvent() {
		t.Run(string(ev.EventKind()), func(t *testing.T) {
			kind, payload, err := models.EncodeEvent(ev)
			if err != nil {
				t.Fatalf("EncodeEvent: %v", err)
			}
			if kind != ev.EventKind() {
				t.Errorf("kind = %q, want %q", kind, ev.EventKind())
			}
			seen[kind] = true
			got, err := models.DecodeEvent(kind, payload)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(ev) {
				t.Fatalf("decoded type %T, want %T", got, ev)
			}
			if !reflect.DeepEqual(got, ev) {
				t.Errorf("round trip changed the event:\n got %#v\nwant %#v", got, ev)
			}
		})
	}
	for _, k := range allKinds {
		if !seen[k] {
			t.Errorf("kind %q not covered", k)
		}
	}
	if len(seen) != len(allKinds) {
		t.Errorf("covered %d kinds, want %d", len(seen), len(allKinds))
	}
}

func TestEncodeEventPointer(t *testing.T) {
	ev := &models.ReminderDue{AppointmentEvent: models.AppointmentEvent{Appointment: fullAppointment()}, Offset: time.Hour}
	kind, payload, err := models.EncodeEvent(ev)
	if err != nil || kind != models.KindReminderDue {
		t.Fatalf("EncodeEvent(pointer) = %q, %v", kind, err)
	}
	got, err := models.DecodeEvent(kind, payload)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.(models.ReminderDue); !ok || !reflect.DeepEqual(v, *ev) {
		t.Errorf("decoded %#v, want value %#v", got, *ev)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	if _, err := models.DecodeEvent("no_such_kind", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "unknown event kind") {
		t.Errorf("unknown kind: err = %v", err)
	}
	if _, err := models.DecodeEvent("", nil); err == nil {
		t.Error("empty kind: no error")
	}
	for _, k := range allKinds {
		if _, err := models.DecodeEvent(k, []byte(`{not json`)); err == nil {
			t.Errorf("%s: bad payload accepted", k)
		}
	}
	if _, err := models.DecodeEvent(models.KindUserDisabled, []byte(`{"At":"yesterday"}`)); err == nil {
		t.Error("bad time accepted")
	}
}

func TestAppointmentOf(t *testing.T) {
	want := fullAppointment()
	for _, ev := range oneOfEachEvent() {
		a, ok := models.AppointmentOf(ev)
		switch ev.(type) {
		case models.UserDisabled, models.AnnouncementPosted:
			if ok || !reflect.DeepEqual(a, models.Appointment{}) {
				t.Errorf("%s: AppointmentOf = %v, %v; want none", ev.EventKind(), a.ID, ok)
			}
		default:
			if !ok || !reflect.DeepEqual(a, want) {
				t.Errorf("%s: AppointmentOf = %q, %v; want the appointment", ev.EventKind(), a.ID, ok)
			}
		}
	}
	// Decoded events still carry their appointment.
	_, payload, _ := models.EncodeEvent(models.ConsultationStarted{AppointmentEvent: models.AppointmentEvent{Appointment: want}})
	ev, err := models.DecodeEvent(models.KindConsultationStarted, payload)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := models.AppointmentOf(ev); !ok || a.ID != want.ID {
		t.Errorf("AppointmentOf(decoded) = %q, %v", a.ID, ok)
	}
	if _, ok := models.AppointmentOf(nil); ok {
		t.Error("AppointmentOf(nil) found an appointment")
	}
}
