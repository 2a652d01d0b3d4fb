package realtime_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// Shutdown drains: a chat:send already running when it starts (held up by
// a row lock) finishes, and its ack, with the stored message, reaches the
// client before the connection is closed; meanwhile new events are
// answered unavailable and new connections refused.
func TestShutdownDrainsInFlightEvents(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusInProgress)
	patient, doctor := r.dial(c.PatientT), r.dial(c.DoctorT)

	// Another transaction holds the appointment's row: chat:send waits on it.
	tx := r.P.DB.Begin()
	if err := tx.Exec("SELECT id FROM appointments WHERE id = ? FOR UPDATE", c.Appt.ID).Error; err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			_ = tx.Rollback().Error
		}
	}
	defer release()

	type result struct {
		raw json.RawMessage
		err error
	}
	sent := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		raw, err := patient.Ack(ctx, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "drain-1", "text": "sent as the node stops"})
		sent <- result{raw, err}
	}()
	waitForLockWaiter(t, r)

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		r.RT.Shutdown(ctx)
	}()

	// Draining: a new event is answered unavailable...
	deadline := time.Now().Add(5 * time.Second)
	for {
		rep := ack(t, doctor, "chat:sync", map[string]any{"appointment_id": c.Appt.ID, "after_seq": 0})
		if rep.code() == models.EUNAVAILABLE {
			break
		}
		if !rep.OK || time.Now().After(deadline) {
			t.Fatalf("an event during the drain: %+v, want unavailable", rep)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// ...a new connection is refused...
	if cl, err := r.tryDial(c.StrangerT); err == nil {
		_ = cl.Close()
		t.Fatal("a new connection was accepted during the drain")
	}
	// ...and nothing is closed while the send runs.
	select {
	case <-stopped:
		t.Fatal("Shutdown returned while a handler was running")
	case <-patient.Done():
		t.Fatal("the socket was closed before its event was answered")
	case <-time.After(300 * time.Millisecond):
	}

	release()
	var res result
	select {
	case res = <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to the in-flight chat:send")
	}
	if res.err != nil {
		t.Fatalf("the in-flight chat:send lost its ack: %v", res.err)
	}
	rep := decodeReply(t, res.raw)
	msg, _ := rep.Raw["message"].(map[string]any)
	if !rep.OK || msg["text"] != "sent as the node stops" || msg["seq"] != float64(1) {
		t.Fatalf("in-flight chat:send acked %s", res.raw)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the drain")
	}
	for name, cl := range map[string]interface{ Done() <-chan struct{} }{"patient": patient, "doctor": doctor} {
		select {
		case <-cl.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("the %s's socket stayed open after Shutdown", name)
		}
	}
	assertReason(t, patient, "shutdown", true)
	hist, err := r.P.Chat.History(t.Context(), models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, c.Appt.ID, models.HistoryFilter{})
	if err != nil || len(hist.Items) != 1 || hist.Items[0].ID != msg["id"] {
		t.Fatalf("stored %+v (%v), want the acked message", hist.Items, err)
	}
}

// waitForLockWaiter waits until a query of the test's database waits for a lock.
func waitForLockWaiter(t *testing.T, r *rig) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int64
		if err := r.P.DB.Raw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("chat:send never waited for the row lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
