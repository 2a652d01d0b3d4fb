package realtime_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
)

// Every handshake completes under load on every core, and the first event
// right after it is answered (see gate.go for the library race this guards).
func TestNoHandshakeIsLost(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(1) })
	}
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) {
		// One user opens them all: their shared event budget must not be the limit.
		o.MaxPerUser, o.EventRate, o.EventBurst = 10000, 1e6, 1e6
	})
	c := r.people(models.StatusBooked)
	const total, workers = 1500, 16
	var lost, done atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan int)
	errs := make(chan string, total)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				cl, err := sioclient.Dial(ctx, r.URL, sioclient.Options{Auth: map[string]any{"token": c.PatientT}})
				if err != nil {
					lost.Add(1)
					errs <- fmt.Sprintf("handshake %d: %v", i, err)
					cancel()
					continue
				}
				if _, err := cl.Ack(ctx, "consultation:join", map[string]any{"appointment_id": c.Appt.ID}); err != nil {
					lost.Add(1)
					errs <- fmt.Sprintf("first event of %d: %v", i, err)
				}
				cancel()
				_ = cl.Close()
				done.Add(1)
			}
		}()
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := lost.Load(); n > 0 {
		t.Fatalf("%d of %d handshakes (or their first event) were lost", n, total)
	}
}

// Thousands of connect/close cycles leave no goroutines behind.
func TestNoGoroutinesLeftAfterConnections(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) {
		// One user opens them all: their shared event budget must not be the limit.
		o.MaxPerUser, o.EventRate, o.EventBurst = 10000, 1e6, 1e6
	})
	c := r.people(models.StatusBooked)
	cycle := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() { // no t.Fatal here: the first error per worker is kept
				defer wg.Done()
				for i := w; i < n && errs[w] == nil; i += 4 {
					cl, err := r.tryDial(c.PatientT)
					if err != nil {
						errs[w] = err
						return
					}
					if i%2 == 0 {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						raw, err := cl.Ack(ctx, "consultation:join", map[string]any{"appointment_id": c.Appt.ID})
						cancel()
						if err == nil && !strings.Contains(string(raw), `"ok":true`) {
							err = fmt.Errorf("join: %s", raw)
						}
						errs[w] = err
					}
					_ = cl.Close()
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	cycle(50) // warm up pools and timers
	base := settle(0)
	cycle(3000)
	after := settle(base)
	t.Logf("goroutines: %d before, %d after 3000 connections", base, after)
	if after > base+10 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("%d goroutines left behind by 3000 closed connections (%d before, %d after)\n%s", after-base, base, after, buf[:n])
	}
}

// settle waits until the goroutine count stops falling (or reaches floor).
func settle(floor int) int {
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m <= floor || m == n {
			return m
		}
		n = m
	}
	return n
}
