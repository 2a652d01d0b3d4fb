package realtime_test

import (
	"testing"

	"teleconsult/models"
)

// Two nodes on one database and one Redis: a patient on one and a doctor on
// the other share a room, its messages and presence.
func TestTwoNodesShareRooms(t *testing.T) {
	a, b := twoNodes(t)
	c := a.people(models.StatusBooked)
	room := map[string]any{"appointment_id": c.Appt.ID}
	patient, doctor := a.dial(c.PatientT), b.dial(c.DoctorT)
	mustOK(t, doctor, "consultation:join", room)
	rep := mustOK(t, patient, "consultation:join", room)
	online := map[string]bool{}
	for _, m := range rep.Raw["members"].([]any) {
		mm := m.(map[string]any)
		online[mm["user_id"].(string)] = mm["online"] == true
	}
	if !online[c.Doctor.ID] {
		t.Fatalf("the doctor on the other node is shown offline: %v", rep.Raw["members"])
	}
	if got := next(t, doctor, "consultation:presence"); got["user_id"] != c.Patient.ID || got["online"] != true {
		t.Fatalf("presence across nodes: %v", got)
	}
	sent := mustOK(t, patient, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "x-1", "text": "across nodes"})
	got := next(t, doctor, "chat:message")
	if got["id"] != sent.Raw["message"].(map[string]any)["id"] {
		t.Fatalf("doctor on node B got %v", got)
	}
	// A push published by node A's models reaches node B's sockets.
	n, err := b.RT.SocketsOnline(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("sockets online across nodes: %d %v, want 2", n, err)
	}
}
