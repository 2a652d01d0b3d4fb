package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"teleconsult/models"
)

// Outbox stores domain events in the transaction of the change that raised
// them, and dispatches them afterwards to the subscribers, at least once.
// Every node may run a dispatcher: a row is claimed by one conditional
// update (its available_at moves one lease ahead), so each attempt is made
// by one node (attempts is the row's version); a node that dies mid-way leaves the row to be claimed again
// when the lease ends.
type Outbox struct {
	db    *gorm.DB
	clock models.Clock
	log   *slog.Logger
	node  string

	// Lease is how long a claim lasts before another node may retry.
	Lease time.Duration
	// Poll is how often a dispatcher looks for pending events when not kicked.
	Poll time.Duration
	// Batch is how many events one round claims at most.
	Batch int
	// Keep is how long dispatched events stay before they are pruned.
	Keep time.Duration

	mu       sync.RWMutex
	handlers []namedHandler
	kick     chan struct{}
}

type namedHandler struct {
	name string
	h    models.EventHandler
}

// NewOutbox builds the outbox on db.
func NewOutbox(db *gorm.DB, clock models.Clock, log *slog.Logger) *Outbox {
	return &Outbox{db: db, clock: clock, log: discardIfNil(log), node: uuid.NewString(),
		Lease: 30 * time.Second, Poll: time.Second, Batch: 100, Keep: 7 * 24 * time.Hour, kick: make(chan struct{}, 1)}
}

// Subscribe adds a handler; name appears in logs. Handlers run in the order
// they were added, for every event.
func (o *Outbox) Subscribe(name string, h models.EventHandler) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.handlers = append(o.handlers, namedHandler{name, h})
}

// add writes ev through tx, which must be the transaction of the change.
func (o *Outbox) add(tx *gorm.DB, ev models.Event) error {
	kind, payload, err := models.EncodeEvent(ev)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.EventKind(), err)
	}
	now := o.clock.Now()
	return tx.Create(&outboxRow{ID: uuid.NewString(), Kind: string(kind), Payload: string(payload), CreatedAt: now, AvailableAt: now}).Error
}

// Kick asks the local dispatcher to look now (after a commit that wrote
// events). It never blocks.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends: at once when kicked, otherwise every Poll.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.Poll)
	defer t.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	o.logPrune(ctx)
	for {
		for {
			n, err := o.DispatchOnce(ctx)
			if err != nil && ctx.Err() == nil {
				o.log.WarnContext(ctx, "outbox dispatch", "err", err)
			}
			if n < o.Batch || err != nil || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-t.C:
		case <-prune.C:
			o.logPrune(ctx)
		}
	}
}

// DispatchOnce claims the pending events that are due and hands each to
// every subscriber; it returns how many it claimed.
func (o *Outbox) DispatchOnce(ctx context.Context) (int, error) {
	now := o.clock.Now()
	var due []outboxRow
	if err := o.db.WithContext(ctx).Where("done_at IS NULL AND available_at <= ?", now).
		Order("created_at, id").Limit(o.Batch).Find(&due).Error; err != nil {
		return 0, err
	}
	claimed := 0
	for _, r := range due {
		ok, err := o.claim(ctx, r, now)
		if err != nil {
			return claimed, err
		}
		if !ok {
			continue // another node has it
		}
		claimed++
		o.deliver(ctx, r)
	}
	return claimed, nil
}

// claim takes row r for one attempt, unless another node did first.
func (o *Outbox) claim(ctx context.Context, r outboxRow, now time.Time) (bool, error) {
	res := o.db.WithContext(ctx).Model(&outboxRow{}).
		Where("id = ? AND done_at IS NULL AND attempts = ? AND available_at <= ?", r.ID, r.Attempts, now).
		Updates(map[string]any{"available_at": now.Add(o.Lease), "attempts": gorm.Expr("attempts + 1"), "claimed_by": o.node})
	return res.RowsAffected == 1, res.Error
}

// deliver runs the subscribers on one claimed event and records the outcome.
func (o *Outbox) deliver(ctx context.Context, r outboxRow) {
	attempt := r.Attempts + 1
	err := o.handle(ctx, r, attempt)
	// The outcome is recorded even when ctx is ending.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := o.clock.Now()
	q := o.db.WithContext(wctx).Model(&outboxRow{}).Where("id = ? AND claimed_by = ?", r.ID, o.node)
	if err == nil {
		if uerr := q.Updates(map[string]any{"done_at": now, "last_error": nil}).Error; uerr != nil {
			o.log.WarnContext(ctx, "outbox: mark done", "event_id", r.ID, "err", uerr)
		}
		return
	}
	retry := backoff(attempt)
	o.log.WarnContext(ctx, "outbox: delivery failed; will retry", "event_id", r.ID, "kind", r.Kind, "attempt", attempt, "retry_in", retry, "err", err)
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if uerr := q.Updates(map[string]any{"available_at": now.Add(retry), "last_error": msg}).Error; uerr != nil {
		o.log.WarnContext(ctx, "outbox: record failure", "event_id", r.ID, "err", uerr)
	}
}

// handle decodes the event and calls every subscriber; a panic is an error.
func (o *Outbox) handle(ctx context.Context, r outboxRow, attempt int) (err error) {
	ev, err := models.DecodeEvent(models.EventKind(r.Kind), []byte(r.Payload))
	if err != nil {
		return err
	}
	env := models.Envelope{ID: r.ID, Event: ev, CreatedAt: r.CreatedAt.UTC(), Attempt: attempt}
	o.mu.RLock()
	hs := append([]namedHandler(nil), o.handlers...)
	o.mu.RUnlock()
	for _, h := range hs {
		if err := callHandler(ctx, h, env); err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
	}
	return nil
}

func callHandler(ctx context.Context, h namedHandler, env models.Envelope) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return h.h(hctx, env)
}

// backoff is the wait before attempt+1: 1 s doubling, at most 5 minutes.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 9)
	return min(d, 5*time.Minute)
}

// Prune deletes the events dispatched more than Keep ago and returns how
// many. Run prunes when it starts and then hourly.
func (o *Outbox) Prune(ctx context.Context) (int64, error) {
	res := o.db.WithContext(ctx).Where("done_at IS NOT NULL AND done_at < ?", o.clock.Now().Add(-o.Keep)).Delete(&outboxRow{})
	return res.RowsAffected, res.Error
}

func (o *Outbox) logPrune(ctx context.Context) {
	if _, err := o.Prune(ctx); err != nil && !errors.Is(err, context.Canceled) {
		o.log.WarnContext(ctx, "outbox prune", "err", err)
	}
}

// Pending counts events not yet dispatched (for health and tests).
func (o *Outbox) Pending(ctx context.Context) (int64, error) {
	var n int64
	err := o.db.WithContext(ctx).Model(&outboxRow{}).Where("done_at IS NULL").Count(&n).Error
	return n, err
}
