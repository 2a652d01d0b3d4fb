package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"teleconsult/faults"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), `"msg":"`+msg+`"`)
}

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
	shared, err := NewRedis(client, "test:login", 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	f := NewFallback(shared, NewMemory(3, time.Minute), slog.New(slog.NewJSONHandler(&logs, nil)))
	f.ProbeEvery = 100 * time.Millisecond
	ctx := t.Context()

	mustBlocked := func(key string, want bool) {
		t.Helper()
		blocked, _, err := f.Blocked(ctx, key)
		if err != nil {
			t.Fatalf("Blocked(%s): %v", key, err)
		}
		if blocked != want {
			t.Fatalf("Blocked(%s) = %v, want %v", key, blocked, want)
		}
	}
	// Healthy: Redis counts, shared by every node.
	for range 2 {
		if err := f.Fail(ctx, "ip:1"); err != nil {
			t.Fatal(err)
		}
	}
	mustBlocked("ip:1", false)
	if n, err := client.Exists(ctx, "test:login:ip:1").Result(); err != nil || n != 1 {
		t.Fatalf("the failures are not in Redis: exists=%d err=%v", n, err)
	}

	// Redis dies: no errors, the local counts (kept all along) take over.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	mustBlocked("ip:1", false)
	if !f.Degraded() {
		t.Fatal("not degraded after Redis stopped")
	}
	if err := f.Fail(ctx, "ip:1"); err != nil {
		t.Fatalf("Fail while Redis is down: %v", err)
	}
	mustBlocked("ip:1", true)
	for range 50 {
		mustBlocked("ip:2", false)
		if err := f.Reset(ctx, "ip:2"); err != nil {
			t.Fatalf("Reset while Redis is down: %v", err)
		}
	}
	if n := logs.count("redis limiter degraded"); n != 1 {
		t.Errorf("logged %d degraded lines, want exactly 1:\n%s", n, logs.b.String())
	}

	// Redis is back (empty: it kept nothing): the next probe recovers.
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for f.Degraded() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, _, _ = f.Blocked(ctx, "ip:3")
	}
	if f.Degraded() {
		t.Fatal("still degraded 10s after Redis came back")
	}
	mustBlocked("ip:1", false) // Redis lost its counts; it is the judge again
	if err := f.Fail(ctx, "ip:4"); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Exists(ctx, "test:login:ip:4").Result(); err != nil || n != 1 {
		t.Fatalf("after recovery the failures are not in Redis: exists=%d err=%v", n, err)
	}
	if n := logs.count("redis limiter recovered"); n != 1 {
		t.Errorf("logged %d recovered lines, want exactly 1:\n%s", n, logs.b.String())
	}
	if n := logs.count("redis limiter degraded"); n != 1 {
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

func (f *fakeShared) Blocked(ctx context.Context, _ string) (bool, time.Duration, error) {
	return false, 0, f.call(ctx)
}
func (f *fakeShared) Fail(ctx context.Context, _ string) error  { return f.call(ctx) }
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
	f := NewFallback(shared, NewMemory(3, time.Minute), nil)
	now := time.Unix(1000, 0)
	f.now = func() time.Time { return now }
	f.ProbeEvery = 5 * time.Second
	var changes []bool
	f.OnChange = func(d bool) { changes = append(changes, d) }
	ctx := t.Context()

	for range 100 {
		if _, _, err := f.Blocked(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if n := shared.count(); n != 1 {
		t.Fatalf("degraded limiter asked Redis %d times within one interval, want 1", n)
	}
	now = now.Add(5 * time.Second)
	_, _, _ = f.Blocked(ctx, "k")
	_, _, _ = f.Blocked(ctx, "k")
	if n := shared.count(); n != 2 {
		t.Fatalf("after the interval Redis was asked %d times in all, want 2", n)
	}
	shared.set(nil, false)
	now = now.Add(5 * time.Second)
	_, _, _ = f.Blocked(ctx, "k")
	if f.Degraded() {
		t.Fatal("a successful probe did not recover")
	}
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Fatalf("state changes %v, want [true false]", changes)
	}
}

func TestFallbackBoundsAHungRedis(t *testing.T) {
	shared := &fakeShared{hang: true}
	f := NewFallback(shared, NewMemory(3, time.Minute), nil)
	f.Timeout = 50 * time.Millisecond
	start := time.Now()
	if _, _, err := f.Blocked(t.Context(), "k"); err != nil {
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
	f := NewFallback(shared, NewMemory(3, time.Minute), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := f.Blocked(ctx, "k"); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	if f.Degraded() {
		t.Fatal("a caller that gave up marked Redis down")
	}
}
