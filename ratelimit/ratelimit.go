// Package ratelimit counts failed attempts per key in a fixed window, in
// memory for one node or in Redis when several nodes must share the counts.
// It wraps github.com/ulule/limiter, whose stores do the counting.
package ratelimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
)

// Attempts allows Limit failures per Window for each key.
type Attempts struct {
	l   *limiter.Limiter
	now func() time.Time
}

// NewMemory counts in this process.
func NewMemory(limit int, window time.Duration) *Attempts {
	return &Attempts{l: limiter.New(memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "login", CleanUpInterval: time.Minute}), limiter.Rate{Limit: int64(limit), Period: window}), now: time.Now}
}

// NewRedis counts in Redis under prefix, shared by every node.
func NewRedis(client *redis.Client, prefix string, limit int, window time.Duration) (*Attempts, error) {
	st, err := redisstore.NewStoreWithOptions(client, limiter.StoreOptions{Prefix: prefix, MaxRetry: 3})
	if err != nil {
		return nil, err
	}
	return &Attempts{l: limiter.New(st, limiter.Rate{Limit: int64(limit), Period: window}), now: time.Now}, nil
}

// Blocked reports whether key used up its failures, and how long until reset.
func (a *Attempts) Blocked(ctx context.Context, key string) (bool, time.Duration, error) {
	c, err := a.l.Peek(ctx, key)
	if err != nil {
		return false, 0, err
	}
	if c.Remaining > 0 {
		return false, 0, nil
	}
	return true, time.Until(time.Unix(c.Reset, 0)), nil
}

// Fail counts one failure.
func (a *Attempts) Fail(ctx context.Context, key string) error {
	_, err := a.l.Get(ctx, key)
	return err
}

// Reset forgets key's failures.
func (a *Attempts) Reset(ctx context.Context, key string) error {
	_, err := a.l.Reset(ctx, key)
	return err
}
