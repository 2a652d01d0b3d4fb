package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
)

// A socket flooding events no handler knows is disconnected quickly, told
// why first (disconnect:reason rate_limited, reconnect false), and other
// users are served meanwhile.
func TestUnknownEventFloodIsDisconnected(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t)) // the default budget: 20/s, burst 40
	c := r.people(models.StatusBooked)
	flooder, doctor := r.dial(c.PatientT), r.dial(c.DoctorT)
	start := time.Now()
	sent := 0
flood:
	for time.Since(start) < 5*time.Second {
		if err := flooder.Emit("no:such:event", map[string]any{"i": sent}); err != nil {
			break
		}
		sent++
		select {
		case <-flooder.Done():
			break flood
		default:
		}
	}
	select {
	case <-flooder.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("still connected after %d unknown events in %v", sent, time.Since(start))
	}
	took := time.Since(start)
	t.Logf("disconnected after %d unknown events in %v", sent, took)
	if took > 3*time.Second {
		t.Fatalf("a flooder was disconnected only after %v", took)
	}
	assertReason(t, flooder, models.ERATELIMITED, false)
	mustOK(t, doctor, "chat:sync", map[string]any{"appointment_id": c.Appt.ID, "after_seq": 0})
}

// The budget is the user's, shared by their sockets on the node; every
// event is charged once, unknown ones too.
func TestBudgetIsSharedByAUsersSockets(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) { o.EventRate, o.EventBurst = 0.01, 10 })
	c := r.people(models.StatusBooked)
	a, b, doctor := r.dial(c.PatientT), r.dial(c.PatientT), r.dial(c.DoctorT)
	sync := map[string]any{"appointment_id": c.Appt.ID, "after_seq": 0}
	// Ten events, from two sockets, fit a burst of ten only if each is
	// charged once.
	for i := range 6 {
		if rep := ack(t, a, "chat:sync", sync); !rep.OK {
			t.Fatalf("event %d of socket A: %+v", i+1, rep.Error)
		}
	}
	for i := range 4 {
		if rep := ack(t, b, "chat:sync", sync); !rep.OK {
			t.Fatalf("event %d of socket B (%d of the user): %+v", i+1, i+7, rep.Error)
		}
	}
	for name, cl := range map[string]*sioclient.Client{"A": a, "B": b} {
		// The refusal says when to try again, so a client can tell its user.
		if rep := ack(t, cl, "chat:sync", sync); rep.code() != models.ERATELIMITED || rep.Error.Details["retry_after"] == nil || rep.Error.Details["retry_after"].(float64) < 1 {
			t.Fatalf("socket %s past the user's burst: %+v, want rate_limited with details.retry_after", name, rep.Error)
		}
	}
	// Another user has their own budget; unknown events are charged to it.
	for range 4 {
		if err := doctor.Emit("no:such:event", map[string]any{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		if rep := ack(t, doctor, "chat:sync", sync); !rep.OK {
			t.Fatalf("the doctor's event %d (after 4 unknown ones): %+v", i+1, rep.Error)
		}
	}
	if rep := ack(t, doctor, "chat:sync", sync); rep.code() != models.ERATELIMITED {
		t.Fatalf("unknown events were not charged: the doctor's 11th event got %+v", rep)
	}
	// A few refusals are not flooding: everyone is still connected.
	for name, cl := range map[string]*sioclient.Client{"A": a, "B": b, "doctor": doctor} {
		select {
		case <-cl.Done():
			t.Fatalf("socket %s was disconnected", name)
		default:
		}
	}
}

// assertReason reads the disconnect:reason a closed client got.
func assertReason(t *testing.T, cl *sioclient.Client, code string, reconnect bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	raw, err := cl.Next(ctx, "disconnect:reason")
	if err != nil {
		t.Fatalf("no disconnect:reason before the close: %v", err)
	}
	var why realtime.DisconnectReason
	if err := json.Unmarshal(raw, &why); err != nil || why.Code != code || why.Reconnect != reconnect || why.Message == "" {
		t.Fatalf("disconnect:reason %s, want code %q reconnect %v", raw, code, reconnect)
	}
}

// gauge reads a gauge from a registry.
func gauge(reg prometheus.Gatherer, name string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue(), nil
		}
	}
	return 0, fmt.Errorf("no gauge %s", name)
}
