package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"teleconsult/models"
)

// Limiter is what Fallback wraps.
type Limiter = models.AttemptLimiter

var _ models.AttemptLimiter = (*Fallback)(nil)

// Defaults of a Fallback.
const (
	DefaultProbeEvery     = 5 * time.Second
	DefaultPrimaryTimeout = time.Second
)

// Fallback counts in a shared limiter (Redis) while it answers and in this
// process's memory while it does not, so signing in never depends on Redis.
// Failures are always counted locally as well, so a node that loses Redis
// starts from what it saw itself rather than from zero. While degraded it
// asks the shared limiter again at most once per ProbeEvery; the state
// changes are logged once each ("redis limiter degraded", "redis limiter
// recovered"), never per request.
type Fallback struct {
	shared, local Limiter
	log           *slog.Logger
	// ProbeEvery is how often a degraded limiter tries the shared one again.
	ProbeEvery time.Duration
	// Timeout bounds each call to the shared limiter.
	Timeout time.Duration
	// OnChange, when set, is called with the new state on every change.
	OnChange func(degraded bool)

	mu        sync.Mutex
	degraded  bool
	nextProbe time.Time
	now       func() time.Time
}

// NewFallback counts in shared, or in local while shared fails.
func NewFallback(shared, local Limiter, log *slog.Logger) *Fallback {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fallback{shared: shared, local: local, log: log, ProbeEvery: DefaultProbeEvery, Timeout: DefaultPrimaryTimeout, now: time.Now}
}

// Degraded reports whether the limiter counts locally now.
func (f *Fallback) Degraded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.degraded
}

// Hit counts locally and, when it answers, in the shared limiter, whose
// count is the answer; while degraded the local count answers.
func (f *Fallback) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	local, lerr := f.local.Hit(ctx, key, window)
	if f.tryShared() {
		var n int64
		err := f.callShared(ctx, func(ctx context.Context) (err error) {
			n, err = f.shared.Hit(ctx, key, window)
			return err
		})
		if err == nil || ctx.Err() != nil {
			return n, err
		}
	}
	return local, lerr
}

// Undo takes an attempt back locally and in the shared limiter.
func (f *Fallback) Undo(ctx context.Context, key string) error {
	lerr := f.local.Undo(ctx, key)
	if f.tryShared() {
		err := f.callShared(ctx, func(ctx context.Context) error { return f.shared.Undo(ctx, key) })
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return lerr
}

// Hold takes the gate locally and in the shared limiter; the shared one
// answers while it can.
func (f *Fallback) Hold(ctx context.Context, key string, d time.Duration) (time.Duration, error) {
	if f.tryShared() {
		var wait time.Duration
		err := f.callShared(ctx, func(ctx context.Context) (err error) {
			wait, err = f.shared.Hold(ctx, key, d)
			return err
		})
		if err == nil {
			if wait == 0 {
				_, _ = f.local.Hold(ctx, key, d)
			}
			return wait, nil
		}
		if ctx.Err() != nil {
			return 0, err
		}
	}
	return f.local.Hold(ctx, key, d)
}

// Reset forgets key locally and in the shared limiter when it answers.
func (f *Fallback) Reset(ctx context.Context, key string) error {
	lerr := f.local.Reset(ctx, key)
	if f.tryShared() {
		err := f.callShared(ctx, func(ctx context.Context) error { return f.shared.Reset(ctx, key) })
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return lerr
}

// tryShared reports whether to call the shared limiter: always while it is
// healthy, and once per ProbeEvery while degraded.
func (f *Fallback) tryShared() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.degraded {
		return true
	}
	now := f.now()
	if now.Before(f.nextProbe) {
		return false
	}
	f.nextProbe = now.Add(f.ProbeEvery)
	return true
}

// callShared runs call within Timeout and records whether the shared
// limiter answered. A caller that gave up says nothing about Redis.
func (f *Fallback) callShared(ctx context.Context, call func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	err := call(cctx)
	if err != nil && ctx.Err() != nil {
		return err
	}
	f.record(ctx, err)
	return err
}

func (f *Fallback) record(ctx context.Context, err error) {
	f.mu.Lock()
	changed := f.degraded != (err != nil)
	f.degraded = err != nil
	if err != nil {
		f.nextProbe = f.now().Add(f.ProbeEvery)
	}
	onChange := f.OnChange
	f.mu.Unlock()
	if !changed {
		return
	}
	if err != nil {
		f.log.WarnContext(ctx, "redis limiter degraded", "err", err, "fallback", "local counters")
	} else {
		f.log.InfoContext(ctx, "redis limiter recovered")
	}
	if onChange != nil {
		onChange(err != nil)
	}
}
