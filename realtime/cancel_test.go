package realtime_test

import (
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime/sioclient"
)

// Cancelling an appointment empties its room: both sides get the status,
// then typing and candidates from sockets that had joined are refused
// (join first, and joining is refused) and nothing reaches the other.
func TestCancellingEmptiesTheRoom(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, _ := callRoom(t, r)
	id := c.Appt.ID
	// Relayed while booked.
	mustOK(t, patient, "chat:typing", map[string]any{"appointment_id": id, "typing": true})
	next(t, doctor, "chat:typing")

	if _, err := r.P.Appointments.Cancel(t.Context(), models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, id, models.CancelInput{Reason: "unwell"}); err != nil {
		t.Fatal(err)
	}
	for name, cl := range map[string]*sioclient.Client{"patient": patient, "doctor": doctor} {
		if got := next(t, cl, "consultation:status"); got["status"] != string(models.StatusCancelled) {
			t.Fatalf("the %s got status %v", name, got)
		}
	}
	assertRoomClosed(t, c, patient, doctor)
}

// The same across two nodes: the room empties on the node that did not
// handle the event too (through the Redis adapter).
func TestCancellingEmptiesTheRoomOnEveryNode(t *testing.T) {
	a, b := twoNodes(t)
	c := a.people(models.StatusBooked)
	room := map[string]any{"appointment_id": c.Appt.ID}
	patient, doctor := a.dial(c.PatientT), b.dial(c.DoctorT)
	mustOK(t, patient, "consultation:join", room)
	mustOK(t, doctor, "consultation:join", room)
	if _, err := a.P.Appointments.Cancel(t.Context(), models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, c.Appt.ID, models.CancelInput{}); err != nil {
		t.Fatal(err)
	}
	for name, cl := range map[string]*sioclient.Client{"patient on node A": patient, "doctor on node B": doctor} {
		if got := next(t, cl, "consultation:status"); got["status"] != string(models.StatusCancelled) {
			t.Fatalf("the %s got status %v", name, got)
		}
	}
	// The leave and the status travel separately between nodes: give the
	// leave a moment to land.
	deadline := time.Now().Add(5 * time.Second)
	for _, cl := range []*sioclient.Client{patient, doctor} {
		for {
			rep := ack(t, cl, "chat:typing", map[string]any{"appointment_id": c.Appt.ID, "typing": false})
			if rep.code() == models.EFORBIDDEN {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("typing after the cancellation: %+v, want forbidden", rep)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	n := patient.Count("chat:typing")
	assertRoomClosed(t, c, patient, doctor)
	if patient.Count("chat:typing") != n {
		t.Fatal("typing reached the patient after the room was closed")
	}
}

// assertRoomClosed checks that nothing is relayed in c's room any more.
func assertRoomClosed(t *testing.T, c people, patient, doctor *sioclient.Client) {
	t.Helper()
	id := c.Appt.ID
	typingBefore, iceBefore := doctor.Count("chat:typing"), patient.Count("rtc:ice")
	if rep := ack(t, patient, "chat:typing", map[string]any{"appointment_id": id, "typing": true}); rep.code() != models.EFORBIDDEN {
		t.Fatalf("typing after the cancellation: %+v, want forbidden", rep)
	}
	if rep := ack(t, doctor, "rtc:ice", map[string]any{"appointment_id": id, "candidate": map[string]any{"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}}); rep.code() != models.EFORBIDDEN {
		t.Fatalf("a candidate after the cancellation: %+v, want forbidden", rep)
	}
	if rep := ack(t, doctor, "rtc:offer", map[string]any{"appointment_id": id, "sdp": "v=0"}); rep.code() != models.EFORBIDDEN {
		t.Fatalf("an offer after the cancellation: %+v, want forbidden", rep)
	}
	if rep := ack(t, patient, "consultation:join", map[string]any{"appointment_id": id}); rep.code() != models.EFORBIDDEN {
		t.Fatalf("joining again after the cancellation: %+v, want forbidden", rep)
	}
	time.Sleep(200 * time.Millisecond)
	if doctor.Count("chat:typing") != typingBefore || patient.Count("rtc:ice") != iceBefore {
		t.Fatal("a relay reached the other side after the cancellation")
	}
}
