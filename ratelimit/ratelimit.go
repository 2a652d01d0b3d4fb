// Package ratelimit counts attempts per key in fixed windows and holds
// short gates, in memory for one node or in Redis when several nodes must
// share the counts (Fallback uses Redis while it answers and memory
// otherwise). It implements models.AttemptLimiter.
//
// It is written here rather than on a rate-limit library because what the
// sign-in rules need — an atomic count taken before the password check
// (a reservation), taking one back, and a gate held for a computed delay —
// is four Redis commands; the token-bucket libraries offer none of the
// last two.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"teleconsult/models"
)

var (
	_ models.AttemptLimiter = (*Memory)(nil)
	_ models.AttemptLimiter = (*Redis)(nil)
)

// Memory counts in this process.
type Memory struct {
	mu    sync.Mutex
	keys  map[string]*entry
	ops   int
	clock func() time.Time
}

type entry struct {
	count     int64
	expires   time.Time
	gateUntil time.Time
}

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory { return &Memory{keys: map[string]*entry{}, clock: time.Now} }

// get returns key's live entry, creating it; called with mu held.
func (m *Memory) get(key string, now time.Time) *entry {
	m.ops++
	if m.ops%1024 == 0 {
		for k, e := range m.keys {
			if now.After(e.expires) && now.After(e.gateUntil) {
				delete(m.keys, k)
			}
		}
	}
	e, ok := m.keys[key]
	if !ok {
		e = &entry{}
		m.keys[key] = e
	}
	if !e.expires.IsZero() && now.After(e.expires) {
		e.count, e.expires = 0, time.Time{}
	}
	return e
}

// Hit counts one attempt of key in a window of the given length (starting
// at the key's first attempt) and returns the count.
func (m *Memory) Hit(_ context.Context, key string, window time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	e := m.get(key, now)
	if e.count == 0 {
		e.expires = now.Add(window)
	}
	e.count++
	return e.count, nil
}

// Undo takes one attempt of key back.
func (m *Memory) Undo(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.get(key, m.clock()); e.count > 0 {
		e.count--
	}
	return nil
}

// Hold takes key's gate for d unless it is held; it returns how long the
// gate stays held when it is.
func (m *Memory) Hold(_ context.Context, key string, d time.Duration) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	e := m.get(key, now)
	if now.Before(e.gateUntil) {
		return e.gateUntil.Sub(now), nil
	}
	e.gateUntil = now.Add(d)
	return 0, nil
}

// Reset forgets key's count and gate.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

// Redis counts in Redis under a prefix, shared by every node.
type Redis struct {
	c      *redis.Client
	prefix string
}

// NewRedis counts in Redis under prefix.
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{c: client, prefix: prefix + ":"}
}

var (
	hitScript = redis.NewScript(`local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)
	undoScript = redis.NewScript(`if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1]) end
return 0`)
)

// Hit counts one attempt of key (atomically across nodes).
func (r *Redis) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	return hitScript.Run(ctx, r.c, []string{r.prefix + key}, window.Milliseconds()).Int64()
}

// Undo takes one attempt of key back.
func (r *Redis) Undo(ctx context.Context, key string) error {
	return undoScript.Run(ctx, r.c, []string{r.prefix + key}).Err()
}

// Hold takes key's gate for d unless it is held (SET NX PX).
func (r *Redis) Hold(ctx context.Context, key string, d time.Duration) (time.Duration, error) {
	gate := r.prefix + key + ":gate"
	ok, err := r.c.SetNX(ctx, gate, 1, max(d, time.Millisecond)).Result()
	if err != nil || ok {
		return 0, err
	}
	left, err := r.c.PTTL(ctx, gate).Result()
	if err != nil {
		return 0, err
	}
	return max(left, time.Millisecond), nil
}

// Reset forgets key's count and gate.
func (r *Redis) Reset(ctx context.Context, key string) error {
	return r.c.Del(ctx, r.prefix+key, r.prefix+key+":gate").Err()
}
