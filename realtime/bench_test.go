package realtime_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
)

// BenchmarkChatRoundTrip measures chat:send from a patient to its ack (the
// message stored in Postgres) while the doctor in the same room receives
// every message. inflight is how many sends the patient keeps outstanding.
func BenchmarkChatRoundTrip(b *testing.B) {
	for _, inflight := range []int{1, 8} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			r := newRig(b, modeltest.NewPostgres(b), func(o *realtime.Options) { o.EventRate, o.EventBurst = 1e6, 1e6 })
			c := r.people(models.StatusInProgress)
			patient, doctor := r.dial(c.PatientT), r.dial(c.DoctorT)
			room := map[string]any{"appointment_id": c.Appt.ID}
			ctx := context.Background()
			if _, err := patient.Ack(ctx, "consultation:join", room); err != nil {
				b.Fatal(err)
			}
			if _, err := doctor.Ack(ctx, "consultation:join", room); err != nil {
				b.Fatal(err)
			}
			received := make(chan struct{})
			go func() {
				defer close(received)
				for range b.N {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					_, err := doctor.Next(ctx, "chat:message")
					cancel()
					if err != nil {
						return
					}
				}
			}()
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			sem := make(chan struct{}, inflight)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					t0 := time.Now()
					raw, err := patient.Ack(ctx, "chat:send", map[string]any{"appointment_id": c.Appt.ID,
						"client_msg_id": fmt.Sprintf("b-%d", i), "text": "benchmark message"})
					lat[i] = time.Since(t0)
					if err != nil || !bytes.Contains(raw, []byte(`"ok":true`)) {
						b.Errorf("send %d: %v %s", i, err, raw)
					}
				}()
			}
			wg.Wait()
			<-received
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}
