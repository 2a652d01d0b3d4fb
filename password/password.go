// Package password hashes passwords with argon2id (github.com/alexedwards/argon2id)
// and knows the common passwords (the list that ships with
// github.com/trustelem/zxcvbn). It implements models.PasswordHasher.
package password

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/trustelem/zxcvbn/frequency"

	"teleconsult/models"
)

// Hasher hashes passwords with argon2id. Each hash takes Params.Memory
// KiB, so at most Concurrency run at once; a caller waits up to QueueWait
// for a turn and then gets EUNAVAILABLE (503) instead of taking the
// process's memory with it.
type Hasher struct {
	params *argon2id.Params
	// dummy is compared against when an account does not exist, so that a
	// wrong email costs as much time as a wrong password.
	dummy     string
	slots     chan struct{}
	queueWait time.Duration
}

var _ models.PasswordHasher = (*Hasher)(nil)

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes).
var DefaultParams = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// FastParams are cheap parameters for tests only.
var FastParams = argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Options bound the hasher's resources.
type Options struct {
	// Concurrency is how many hashes may run at once (0: from MemoryBudget).
	Concurrency int
	// MemoryBudget is the memory all concurrent hashes may use, in bytes
	// (0: 256 MiB).
	MemoryBudget int64
	// QueueWait is how long a caller waits for a turn (0: 3 s).
	QueueWait time.Duration
}

// New builds a hasher with params and default limits.
func New(params argon2id.Params) *Hasher { return NewWithOptions(params, Options{}) }

// NewWithOptions builds a hasher with params and limits.
func NewWithOptions(params argon2id.Params, o Options) *Hasher {
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 256 << 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = int(o.MemoryBudget / (int64(params.Memory) * 1024))
		o.Concurrency = max(1, min(o.Concurrency, 4*runtime.GOMAXPROCS(0)))
	}
	if o.QueueWait <= 0 {
		o.QueueWait = 3 * time.Second
	}
	h := &Hasher{params: &params, slots: make(chan struct{}, o.Concurrency), queueWait: o.QueueWait}
	h.dummy, _ = argon2id.CreateHash("not a real password", h.params)
	return h
}

var errBusy = models.Errorf(models.EUNAVAILABLE, "the server is busy; please try again in a moment")

// acquire waits for a hashing slot.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	t := time.NewTimer(h.queueWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-t.C:
		return nil, errBusy
	case <-ctx.Done():
		return nil, errBusy
	}
}

// Hash returns an encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return argon2id.CreateHash(password, h.params)
}

// Verify reports whether password matches hash. An empty hash burns the same
// time as a real comparison and fails.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false, nil
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok, nil
}

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

// IsCommon reports whether password (case-insensitively) is one of the
// ~30,000 most common passwords.
func (h *Hasher) IsCommon(password string) bool {
	commonOnce.Do(func() {
		list := frequency.FrequencyLists["passwords"]
		common = make(map[string]struct{}, len(list))
		for _, p := range list {
			common[p] = struct{}{}
		}
	})
	_, ok := common[strings.ToLower(password)]
	return ok
}
