package realtime_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"teleconsult/faults"
	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
)

// With its own redis-server: a frozen Redis does not hold a chat:send ack
// (the message is committed; the broadcast waits), and a dead one is
// retried with backoff and logged once per change, not thousands of times.
func TestRedisFaultsDegradeOnlyFanOut(t *testing.T) {
	rd := faults.StartRedis(t)
	opt, err := redis.ParseURL(rd.URL())
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = 0
	rc := redis.NewClient(opt)
	t.Cleanup(func() { _ = rc.Close() })
	var logs faults.LogBuffer
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) {
		o.Redis, o.RedisChannel = rc, modeltest.UniqueName("fault-")
		o.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	c := r.people(models.StatusBooked)
	patient, doctor := r.dial(c.PatientT), r.dial(c.DoctorT)
	mustOK(t, patient, "consultation:join", map[string]any{"appointment_id": c.Appt.ID})
	mustOK(t, doctor, "consultation:join", map[string]any{"appointment_id": c.Appt.ID})

	// Frozen: acks come at once, the message is stored.
	if err := rd.Freeze(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep := mustOK(t, patient, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "f1", "text": "while Redis hangs"})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the ack waited %v on a frozen Redis", took)
	}
	if m, _ := rep.Raw["message"].(map[string]any); m["seq"] != float64(1) {
		t.Fatalf("ack %v", rep.Raw)
	}
	if err := rd.Thaw(); err != nil {
		t.Fatal(err)
	}
	// Once Redis answers again the broadcast goes out.
	if got := next(t, doctor, "chat:message"); got["text"] != "while Redis hangs" {
		t.Fatalf("doctor got %v", got)
	}

	// Dead: the receive loops back off (a handful of log lines, not
	// thousands), and chat keeps working on this node.
	before := logs.CountText(`"level":"WARN"`)
	if err := rd.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if n := logs.CountText(`"level":"WARN"`) - before; n > 5 {
		t.Fatalf("%d warnings in 3 s with Redis down:\n%.2000s", n, logs.String())
	}
	if n := logs.CountText("redis link down"); n != 1 {
		t.Fatalf("logged the link down %d times, want once", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := patient.Ack(ctx, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "f2", "text": "Redis is down"}); err != nil {
		t.Fatalf("chat with Redis down: %v", err)
	}
	rd.Start()
	deadline := time.Now().Add(15 * time.Second)
	for logs.CountText("redis link restored") == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := logs.CountText("redis link restored"); n != 1 {
		t.Fatalf("logged the link restored %d times, want once", n)
	}
}
