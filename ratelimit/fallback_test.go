package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"teleconsult/faults"
)

// TestFallbackKeepsCountingWhenRedisStops runs the login limiter on a real,
// private redis-server, kills it, and brings it back.
func TestFallbackKeepsCountingWhenRedisStops(t *testing.T) {
	srv := faults.StartRedis(t)
	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	shared := NewRedis(client, "test:login")
	var logs faults.LogBuffer
	f := NewFallback(shared, NewMemory(), slog.New(slog.NewJSONHandler(&logs, nil)))
	f.ProbeEvery = 100 * time.Millisecond
	ctx := t.Context()

	mustHit := func(key string, want int64) {
		t.Helper()
		n, err := f.Hit(ctx, key, time.Minute)
		if err != nil {
			t.Fatalf("Hit(%s): %v", key, err)
		}
		if n != want {
			t.Fatalf("Hit(%s) = %d, want %d", key, n, want)
		}
	}
	// Healthy: Redis counts, shared by every node.
	mustHit("ip:1", 1)
	mustHit("ip:1", 2)
	if n, err := client.Exists(ctx, "test:login:ip:1").Result(); err != nil || n != 1 {
		t.Fatalf("the failures are not in Redis: exists=%d err=%v", n, err)
	}

	// Redis dies: no errors, the local counts (kept all along) take over.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	mustHit("ip:1", 3)
	if !f.Degraded() {
		t.Fatal("not degraded after Redis stopped")
	}
	mustHit("ip:1", 4)
	if wait, err := f.Hold(ctx, "acct", time.Minute); err != nil || wait != 0 {
		t.Fatalf("Hold while Redis is down: %v %v", wait, err)
	}
	if wait, _ := f.Hold(ctx, "acct", time.Minute); wait <= 0 {
		t.Fatal("the local gate does not hold")
	}
	for range 50 {
		mustHit("ip:2", 1)
		if err := f.Reset(ctx, "ip:2"); err != nil {
			t.Fatalf("Reset while Redis is down: %v", err)
		}
	}
	if n := logs.Count("redis limiter degraded"); n != 1 {
		t.Errorf("logged %d degraded lines, want exactly 1:\n%s", n, logs.String())
	}

	// Redis is back (empty: it kept nothing): the next probe recovers.
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for f.Degraded() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, _ = f.Hit(ctx, "ip:3", time.Minute)
	}
	if f.Degraded() {
		t.Fatal("still degraded 10s after Redis came back")
	}
	mustHit("ip:1", 1) // Redis lost its counts; it is the judge again
	mustHit("ip:4", 1)
	if n, err := client.Exists(ctx, "test:login:ip:4").Result(); err != nil || n != 1 {
		t.Fatalf("after recovery the failures are not in Redis: exists=%d err=%v", n, err)
	}
	if n := logs.Count("redis limiter recovered"); n != 1 {
		t.Errorf("logged %d recovered lines, want exactly 1:\n%s", n, logs.String())
	}
	if n := logs.Count("redis limiter degraded"); n != 1 {
		t.Errorf("logged %d degraded lines, want exactly 1", n)
	}
}

// fakeShared fails or answers on demand and counts its calls.
type fakeShared struct {
	mu    sync.Mutex
	err   error
	calls int
	// hang makes calls wait for their context.
	hang bool
}

func (f *fakeShared) call(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	err, hang := f.err, f.hang
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (f *fakeShared) Hit(ctx context.Context, _ string, _ time.Duration) (int64, error) {
	return 1, f.call(ctx)
}
func (f *fakeShared) Hold(ctx context.Context, _ string, _ time.Duration) (time.Duration, error) {
	return 0, f.call(ctx)
}
func (f *fakeShared) Undo(ctx context.Context, _ string) error  { return f.call(ctx) }
func (f *fakeShared) Reset(ctx context.Context, _ string) error { return f.call(ctx) }

func (f *fakeShared) set(err error, hang bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err, f.hang = err, hang
}

func (f *fakeShared) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestFallbackProbesOncePerInterval(t *testing.T) {
	shared := &fakeShared{err: errors.New("dial tcp: connection refused")}
	f := NewFallback(shared, NewMemory(), nil)
	now := time.Unix(1000, 0)
	f.now = func() time.Time { return now }
	f.ProbeEvery = 5 * time.Second
	var changes []bool
	f.OnChange = func(d bool) { changes = append(changes, d) }
	ctx := t.Context()

	for range 100 {
		if _, err := f.Hit(ctx, "k", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := shared.count(); n != 1 {
		t.Fatalf("degraded limiter asked Redis %d times within one interval, want 1", n)
	}
	now = now.Add(5 * time.Second)
	_, _ = f.Hit(ctx, "k", time.Minute)
	_, _ = f.Hit(ctx, "k", time.Minute)
	if n := shared.count(); n != 2 {
		t.Fatalf("after the interval Redis was asked %d times in all, want 2", n)
	}
	shared.set(nil, false)
	now = now.Add(5 * time.Second)
	_, _ = f.Hit(ctx, "k", time.Minute)
	if f.Degraded() {
		t.Fatal("a successful probe did not recover")
	}
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Fatalf("state changes %v, want [true false]", changes)
	}
}

func TestFallbackBoundsAHungRedis(t *testing.T) {
	shared := &fakeShared{hang: true}
	f := NewFallback(shared, NewMemory(), nil)
	f.Timeout = 50 * time.Millisecond
	start := time.Now()
	if _, err := f.Hit(t.Context(), "k", time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a hung Redis held sign-in for %s", d)
	}
	if !f.Degraded() {
		t.Fatal("a hung Redis did not degrade the limiter")
	}
}

func TestFallbackIgnoresCallersThatGaveUp(t *testing.T) {
	shared := &fakeShared{hang: true}
	f := NewFallback(shared, NewMemory(), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.Hit(ctx, "k", time.Minute); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	if f.Degraded() {
		t.Fatal("a caller that gave up marked Redis down")
	}
}

// The counting primitives behave alike in memory and in Redis: a count
// per window, taking one back, a gate that holds for its delay, a reset.
func TestLimiterPrimitives(t *testing.T) {
	srv := faults.StartRedis(t)
	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	for name, l := range map[string]Limiter{"memory": NewMemory(), "redis": NewRedis(client, "test")} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for i := int64(1); i <= 3; i++ {
				if n, err := l.Hit(ctx, "k", 300*time.Millisecond); err != nil || n != i {
					t.Fatalf("hit %d: %d %v", i, n, err)
				}
			}
			if err := l.Undo(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if n, _ := l.Hit(ctx, "k", 300*time.Millisecond); n != 3 {
				t.Fatalf("after undo: %d", n)
			}
			if wait, err := l.Hold(ctx, "k", 200*time.Millisecond); err != nil || wait != 0 {
				t.Fatalf("first hold: %v %v", wait, err)
			}
			if wait, _ := l.Hold(ctx, "k", 200*time.Millisecond); wait <= 0 || wait > 200*time.Millisecond {
				t.Fatalf("second hold waits %v", wait)
			}
			time.Sleep(400 * time.Millisecond)
			if n, _ := l.Hit(ctx, "k", time.Minute); n != 1 {
				t.Fatalf("a new window counts %d", n)
			}
			if wait, _ := l.Hold(ctx, "k", time.Minute); wait != 0 {
				t.Fatal("the gate outlived its delay")
			}
			if err := l.Reset(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if wait, _ := l.Hold(ctx, "k", time.Minute); wait != 0 {
				t.Fatal("reset kept the gate")
			}
			if n, _ := l.Hit(ctx, "k", time.Minute); n != 1 {
				t.Fatalf("reset kept the count: %d", n)
			}
		})
	}
}
