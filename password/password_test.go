package password

import (
	"context"
	"sync"
	"testing"
	"time"

	"teleconsult/models"
)

// At most Concurrency hashes run at once; a caller that cannot get a turn
// within QueueWait is told the server is busy (503), instead of every
// request taking 19 MiB at once.
func TestHashingIsBounded(t *testing.T) {
	h := NewWithOptions(FastParams, Options{Concurrency: 2, QueueWait: 100 * time.Millisecond})
	ctx := context.Background()
	release1, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release2, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(ctx, "correct-horse-battery-9"); models.ErrorCode(err) != models.EUNAVAILABLE {
		t.Fatalf("hash with no free slot: %v", err)
	}
	if _, err := h.Verify(ctx, "x", "y"); models.ErrorCode(err) != models.EUNAVAILABLE {
		t.Fatalf("verify with no free slot: %v", err)
	}
	release1()
	release2()

	// Many at once: all succeed, never more than two in flight.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	slow := NewWithOptions(FastParams, Options{Concurrency: 2, QueueWait: 10 * time.Second})
	var mu sync.Mutex
	inFlight, peak := 0, 0
	for i := range errs {
		wg.Go(func() {
			release, err := slow.acquire(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if peak > 2 {
		t.Fatalf("%d hashes ran at once, cap is 2", peak)
	}
	// The default budget is sized from memory: 256 MiB of 19 MiB hashes.
	if got := cap(NewWithOptions(DefaultParams, Options{}).slots); got < 1 || got > 13 {
		t.Fatalf("default concurrency %d", got)
	}
}

func TestCommonPasswords(t *testing.T) {
	h := New(FastParams)
	for _, p := range []string{"password", "12345678", "Password", "qwertyuiop", "1234567890"} {
		if !h.IsCommon(p) {
			t.Errorf("%q is not seen as common", p)
		}
	}
	if h.IsCommon("correct-horse-battery-9") {
		t.Error("a long unusual password is seen as common")
	}
}
