package realtime_test

import (
	"testing"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// Text with a NUL character is invalid_request (Postgres cannot store it),
// and nothing is stored.
func TestNULInSocketPayloadIsInvalid(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	patient := r.dial(c.PatientT)
	mustOK(t, patient, "consultation:join", map[string]any{"appointment_id": c.Appt.ID})
	for _, payload := range []map[string]any{
		{"appointment_id": c.Appt.ID, "client_msg_id": "n1", "text": "a\u0000b"},
		{"appointment_id": c.Appt.ID, "client_msg_id": "n\u0000", "text": "ok"},
		{"appointment_id": c.Appt.ID, "client_msg_id": "n2", "text": "ok", "extra\u0000": 1},
	} {
		if rep := ack(t, patient, "chat:send", payload); rep.code() != models.EINVALID {
			t.Fatalf("NUL payload %q: %+v", payload, rep)
		}
	}
	sync := mustOK(t, patient, "chat:sync", map[string]any{"appointment_id": c.Appt.ID, "after_seq": 0})
	if msgs, _ := sync.Raw["messages"].([]any); len(msgs) != 0 {
		t.Fatalf("stored despite NUL: %v", msgs)
	}
}
