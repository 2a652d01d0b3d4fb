package realtime

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	rds "github.com/redis/go-redis/v9"
	redisadapter "github.com/zishang520/socket.io/adapters/redis/v3"
)

// Broadcasts made while handling an event (a chat message to its room,
// typing, read markers, presence, call signals) leave through one ordered
// queue after the event is acknowledged, never before: with the Redis
// adapter a broadcast is a PUBLISH, and a frozen Redis must not hold an
// acknowledgement of a message that is already committed. One worker keeps
// the order of the broadcasts; when Redis stalls long enough to fill the
// queue, further broadcasts are dropped (counted and logged once) and the
// clients catch up with chat:sync — nothing stored is lost.

// fanoutQueue is how many broadcasts may wait.
const fanoutQueue = 8192

type fanout struct {
	ch      chan func()
	log     *slog.Logger
	dropped func()

	mu      sync.Mutex
	warned  bool
	closed  bool
	stopped chan struct{}
}

func newFanout(log *slog.Logger, dropped func()) *fanout {
	f := &fanout{ch: make(chan func(), fanoutQueue), log: log, dropped: dropped, stopped: make(chan struct{})}
	go f.run()
	return f
}

func (f *fanout) run() {
	defer close(f.stopped)
	for job := range f.ch {
		job()
	}
}

// do queues a broadcast; it never blocks. Once the queue is closed (the
// server shut down; a ring timer or a late event may still fire) the
// broadcast is skipped.
func (f *fanout) do(job func()) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	select {
	case f.ch <- job:
		f.warned = false
		f.mu.Unlock()
		return
	default:
	}
	warn := !f.warned
	f.warned = true
	f.mu.Unlock()
	if f.dropped != nil {
		f.dropped()
	}
	if warn {
		f.log.Warn("broadcast queue full: dropping live updates until it drains (clients catch up with chat:sync)")
	}
}

// close lets the queued broadcasts go out (bounded by ctx) and stops.
func (f *fanout) close(ctx context.Context) {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.ch)
	}
	f.mu.Unlock()
	select {
	case <-f.stopped:
	case <-ctx.Done():
	}
}

// redisLink builds the adapter's Redis client. Subscriptions get their own
// connection whose dialer backs off (100 ms doubling to 5 s) while Redis is
// unreachable: the adapter's receive loops retry at once on every error,
// which without it spins a core and logs thousands of lines a second. The
// link's state changes are logged once each; adapter errors while the link
// is down are not logged again.
func redisLink(base *rds.Client, log *slog.Logger, up func(bool)) *redisadapter.RedisClient {
	d := &backoffDialer{log: log, up: up}
	opt := *base.Options()
	opt.Dialer = d.dial
	sub := rds.NewClient(&opt)
	rc := redisadapter.NewRedisClientWithSub(context.Background(), base, sub)
	var mu sync.Mutex
	var last time.Time
	_ = rc.On("error", func(a ...any) {
		if d.isDown() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 10*time.Second {
			return
		}
		last = time.Now()
		log.Warn("socket.io redis adapter", "err", a)
	})
	return rc
}

// backoffDialer dials Redis, waiting longer after each failure.
type backoffDialer struct {
	log *slog.Logger
	up  func(bool)

	mu       sync.Mutex
	failures int
	next     time.Time
	down     bool
}

func (d *backoffDialer) isDown() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.down
}

func (d *backoffDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	wait := time.Until(d.next)
	d.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	conn, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.failures++
		d.next = time.Now().Add(min(100*time.Millisecond<<min(d.failures-1, 10), 5*time.Second))
		if !d.down {
			d.down = true
			d.log.Warn("redis link down: cross-node fan-out degraded; retrying with backoff", "err", err)
			if d.up != nil {
				d.up(false)
			}
		}
		return nil, err
	}
	d.failures, d.next = 0, time.Time{}
	if d.down {
		d.down = false
		d.log.Info("redis link restored")
		if d.up != nil {
			d.up(true)
		}
	}
	return conn, nil
}
